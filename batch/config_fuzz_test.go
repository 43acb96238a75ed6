package batch

import (
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

// FuzzLoadConfig loads arbitrary bytes as a config file. LoadConfig and
// WithDefaults().Validate() must not panic, and must fail only with an
// error naming the file or a *ConfigError. A config that validates must be
// usable as it is:
//   - its fingerprint is 64 hex digits, the same every time, whether or not
//     defaults were applied first;
//   - its summary has one "key: value" line per setting, in a fixed order,
//     so that no value can pass for another setting and two configs that
//     differ cannot share a fingerprint;
//   - its patterns, column mapping, delimiter and templates parse, and a
//     Reserver built from them names Ada Lovelace;
//   - its org unit and group templates, filled with plain values, give a
//     valid org unit path and valid group addresses, so that not every row
//     fails.
func FuzzLoadConfig(f *testing.F) {
	for _, name := range []string{"../sample-csv/students.yaml", "../sample-csv/hr.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"domain: example.org\n",
		"domain: Example.ORG\npatterns: ['[firstname].[lastname]', '[C1_firstname][lastname][#]']\nreservedNames: [Principal]\n",
		"domain: example.org\ncolumns: {Nachname: lastname, 'Home Region': region, 'a: b': c}\ndelimiter: tab\n",
		"domain: example.org\nencoding: Windows-1252\n",
		"domain: example.org\ncolumns: {a: b, A: c}\n",
		"domain: example.org\ncolumns: {a: x, 'a: b': y, ': ': z}\nidentity: {type: custom, customType: 'a: b'}\norgUnit: {default: '/Grade: [grade]'}\n",
		"domain: example.org\ncolumns: {a: '!!'}\n",
		"domain: example.org\nidentity: {type: custom, customType: student-id}\n",
		"domain: example.org\norgUnit: {default: '/Students/[grade]', createMissing: true}\ngroups: {add: ['class-of-[year]', staff@example.org]}\n",
		"domain: example.org\norgUnit: {default: '/Students/'}\n",
		"domain: example.org\norgUnit: {default: \"/a\\ngroups.add: x\"}\n",
		"domain: example.org\ngroups: {add: ['a b']}\n",
		"domain: example.org\npassword: {length: 12, changeAtNextLogin: false}\nconcurrency: 100\nquota: 1\n",
		"domain: example.org\nconcurrency: 99999999999999999999\n",
		"domain: example.org\npatterns: '[firstname]'\n",
		"domian: example.org\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n",
		"--- \n---\n",
		"\t",
		"domain: !!binary aGVsbG8=\n",
	} {
		f.Add([]byte(s))
	}
	// One file, rewritten for each input: a directory per input would cost
	// more than loading it.
	path := filepath.Join(f.TempDir(), "config.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		loaded, err := LoadConfig(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config "+path+": ") {
				t.Fatalf("LoadConfig(%q) error %q does not name the file", data, err)
			}
			return
		}
		c := loaded.WithDefaults()
		if err := c.Validate(); err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("Validate() of %q = %v, want a *ConfigError with problems", data, err)
			}
			return
		}

		fp, summary := c.Fingerprint()
		if b, err := hex.DecodeString(fp); err != nil || len(b) != 32 {
			t.Fatalf("Fingerprint() = %q, want 64 hex digits", fp)
		}
		if fp2, summary2 := loaded.Fingerprint(); fp2 != fp || summary2 != summary {
			t.Fatalf("Fingerprint() differs with and without defaults applied:\n%s\n%s", summary, summary2)
		}
		if changes := ConfigChanges(summary, summary); len(changes) != 0 {
			t.Fatalf("ConfigChanges(s, s) = %q, want none", changes)
		}
		checkSummary(t, c, summary)

		patterns, err := c.patterns()
		if err != nil || len(patterns) == 0 {
			t.Fatalf("patterns() = %v, %v after Validate", patterns, err)
		}
		if err := input.CheckColumns(c.Columns); err != nil {
			t.Fatalf("CheckColumns(%q) = %v after Validate", c.Columns, err)
		}
		if _, err := c.delimiter(); err != nil {
			t.Fatalf("delimiter() = %v after Validate", err)
		}
		r := naming.NewReserver(naming.Options{Patterns: patterns, Reserved: c.reserved()})
		if name, err := r.Reserve(t.Context(), "row", naming.Fields{"firstname": "Ada", "lastname": "Lovelace"}); err != nil || !naming.Valid(name) {
			t.Fatalf("Reserve(Ada Lovelace) with %q = %q, %v", c.Patterns, name, err)
		}
		p, err := newPlacement(c)
		if err != nil {
			t.Fatalf("newPlacement() = %v after Validate", err)
		}
		// A row with every field the templates use set to a plain value,
		// a word or a domain name, has a place.
		var errs []error
		for _, v := range []string{"x1", "x1.x1"} {
			rec := input.Record{FirstName: "Ada", LastName: "Lovelace", Custom: map[string]string{}}
			for _, tpl := range append([]template{p.orgUnit}, p.addition...) {
				for _, piece := range tpl.pieces {
					if piece.field != "" {
						rec.Custom[piece.field] = v
					}
				}
			}
			rec.ID, rec.Title, rec.Department, rec.Manager, rec.Phone = v, v, v, v, v
			if _, err := p.of(rec); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == 2 {
			t.Fatalf("no row can be placed with orgUnit.default %q and groups.add %q: %v", c.OrgUnit.Default, c.Groups.Add, errs)
		}
	})
}

// checkSummary checks that a summary has one line per setting, in order,
// and that the lines give back the values that may hold arbitrary text.
func checkSummary(t *testing.T, c Config, summary string) {
	t.Helper()
	keys := []string{"domain", "patterns", "reservedNames"}
	for _, k := range slices.Sorted(maps.Keys(c.Columns)) {
		keys = append(keys, "columns."+k)
	}
	keys = append(keys, "delimiter")
	if enc, _ := input.CanonicalEncoding(c.Encoding); enc != input.DefaultEncoding {
		keys = append(keys, "encoding")
	}
	keys = append(keys, "identity.type", "orgUnit.default", "orgUnit.createMissing",
		"groups.add", "groups.createMissing")
	if len(c.Groups.Domains) > 0 {
		keys = append(keys, "groups.domains")
	}
	keys = append(keys, "password.length", "password.changeAtNextLogin")
	lines := strings.Split(strings.TrimSuffix(summary, "\n"), "\n")
	if len(lines) != len(keys) {
		t.Fatalf("summary has %d lines, want %d (%q):\n%s", len(lines), len(keys), keys, summary)
	}
	values := map[string]string{}
	for i, line := range lines {
		// A header may hold ": ", the field it maps to may not; the other
		// keys hold no ": ", their values may.
		j := strings.Index(line, ": ")
		if strings.HasPrefix(keys[i], "columns.") {
			j = strings.LastIndex(line, ": ")
		}
		if j < 0 || line[:j] != keys[i] {
			t.Fatalf("summary line %d = %q, want the key %q:\n%s", i+1, line, keys[i], summary)
		}
		values[keys[i]] = line[j+2:]
	}
	for k := range c.Columns {
		if got := values["columns."+k]; got == "" || strings.Trim(got, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("summary gives columns.%q as %q, want a field name:\n%s", k, got, summary)
		}
	}
	if got := values["orgUnit.default"]; got != c.OrgUnit.Default {
		t.Fatalf("summary gives orgUnit.default as %q, want %q", got, c.OrgUnit.Default)
	}
	if got := values["groups.add"]; got != strings.Join(c.Groups.Add, " ") || slices.ContainsFunc(c.Groups.Add, func(g string) bool { return strings.Contains(g, " ") }) {
		t.Fatalf("summary gives groups.add as %q, want %q", got, c.Groups.Add)
	}
	if got := values["identity.type"]; got != c.Identity.Type+" "+c.Identity.CustomType || strings.Contains(c.Identity.Type, " ") {
		t.Fatalf("summary gives identity.type as %q, want %q %q", got, c.Identity.Type, c.Identity.CustomType)
	}
}
