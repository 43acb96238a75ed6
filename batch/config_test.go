package batch

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `
domain: school.example.org
patterns:
  - "[firstname].[lastname]"
  - "[firstname][lastname][#]"
columns:
  Jahrgang: grade
orgUnit:
  default: /Students/[grade]
  createMissing: true
groups:
  add: ["class-of-[year]"]
password:
  changeAtNextLogin: false
`)
	c, err := LoadConfig(good)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.Domain != "school.example.org" || len(c.Patterns) != 2 || c.Columns["Jahrgang"] != "grade" || !c.OrgUnit.CreateMissing ||
		*c.Password.ChangeAtNextLogin || c.Password.Length != DefaultPasswordLength || c.Identity.Type != "organization" || c.Quota != DefaultQuota {
		t.Errorf("LoadConfig = %+v", c)
	}

	if _, err := LoadConfig(write("typo.yaml", "domian: x.org\n")); err == nil || !strings.Contains(err.Error(), "domian") {
		t.Errorf("LoadConfig with a misspelt key = %v, want an error naming it", err)
	}
	if c, err := LoadConfig(write("empty.yaml", "")); err != nil || c.Domain != "" {
		t.Errorf("LoadConfig of an empty file = %+v, %v", c, err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("LoadConfig of a missing file succeeded")
	}
}

func TestConfig_Validate(t *testing.T) {
	valid := Config{Domain: "example.org"}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no domain", func(c *Config) { c.Domain = "" }, "domain is not set"},
		{"bad domain", func(c *Config) { c.Domain = "not a domain" }, `domain "not a domain"`},
		{"bad pattern", func(c *Config) { c.Patterns = []string{"[first-name]"} }, `pattern "[first-name]"`},
		{"bad reserved name", func(c *Config) { c.ReservedNames = []string{"no way"} }, `reservedNames: "no way"`},
		{"bad delimiter", func(c *Config) { c.Delimiter = "::" }, "delimiter"},
		{"tab delimiter", func(c *Config) { c.Delimiter = "tab" }, ""},
		{"encoding", func(c *Config) { c.Encoding = "Latin-1" }, ""},
		{"unknown encoding", func(c *Config) { c.Encoding = "ebcdic" }, `encoding "ebcdic" is not supported: use utf-8, windows-1252`},
		{"bad id type", func(c *Config) { c.Identity.Type = "student" }, `identity.type "student"`},
		{"custom id type without name", func(c *Config) { c.Identity.Type = "custom" }, "identity.customType"},
		{"org unit without slash", func(c *Config) { c.OrgUnit.Default = "Students" }, "must start with /"},
		{"bad org unit template", func(c *Config) { c.OrgUnit.Default = "/Students/[grade" }, "not closed"},
		{"bad group template", func(c *Config) { c.Groups.Add = []string{"class-[a b]"} }, "not a field"},
		{"org unit ending with slash", func(c *Config) { c.OrgUnit.Default = "/Students/[grade]/" }, `ends with "/"`},
		{"org unit with an empty level", func(c *Config) { c.OrgUnit.Default = "/Students//[grade]" }, "empty part"},
		{"org unit with a line break", func(c *Config) { c.OrgUnit.Default = "/a\ngroups.add: x" }, "control character"},
		{"group with a space", func(c *Config) { c.Groups.Add = []string{"class of [year]"} }, `groups.add "class of [year]" gives no valid group`},
		{"group with a field as its domain", func(c *Config) { c.Groups.Add = []string{"staff@[domain]"} }, ""},
		{"column mapped to no field", func(c *Config) { c.Columns = map[string]string{"Jahrgang": "!!"} }, `columns: "Jahrgang" maps to "!!"`},
		{"column mapped twice", func(c *Config) { c.Columns = map[string]string{"Jahrgang": "grade", "JAHRGANG": "year"} }, "mapped twice"},
		{"column with a line break", func(c *Config) { c.Columns = map[string]string{"a\nb": "grade"} }, "control character"},
		{"short passwords", func(c *Config) { c.Password.Length = 8 }, "password.length 8"},
		{"concurrency", func(c *Config) { c.Concurrency = 500 }, "concurrency 500"},
		{"quota", func(c *Config) { c.Quota = -1 }, "quota -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.change(&c)
			err := c.WithDefaults().Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want a *ConfigError mentioning %q", err, tt.want)
			}
		})
	}
	// Every problem is reported at once.
	err := Config{Concurrency: -1, Quota: -1}.Validate()
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) < 3 {
		t.Errorf("Validate() of a config with many problems = %v, want them all", err)
	}
}

func TestConfig_Fingerprint(t *testing.T) {
	base := Config{Domain: "example.org", Patterns: []string{"[firstname].[lastname]"}}
	fp, summary := base.Fingerprint()

	same := base
	same.Concurrency, same.Quota = 50, 9000
	if got, _ := same.Fingerprint(); got != fp {
		t.Error("concurrency and quota changed the fingerprint; they do not change what a job does")
	}
	changed := base
	changed.Patterns = []string{"[firstname][lastname][#]"}
	fp2, summary2 := changed.Fingerprint()
	if fp2 == fp {
		t.Error("a new pattern list kept the fingerprint")
	}
	changes := ConfigChanges(summary, summary2)
	if len(changes) != 1 || !strings.Contains(changes[0], "patterns: was [firstname].[lastname]") {
		t.Errorf("ConfigChanges = %q, want the pattern change only", changes)
	}

	// The encoding changes the names a job creates. UTF-8, the default,
	// is left out, so that runs journaled before it could be set resume.
	utf8 := base
	utf8.Encoding = "UTF8"
	if got, _ := utf8.Fingerprint(); got != fp {
		t.Error("encoding: UTF8, the default, changed the fingerprint")
	}
	cp1252 := base
	cp1252.Encoding = "cp1252"
	fp3, summary3 := cp1252.Fingerprint()
	if fp3 == fp {
		t.Error("encoding: cp1252 kept the fingerprint")
	}
	if changes := ConfigChanges(summary, summary3); !slices.Equal(changes, []string{"encoding: now windows-1252"}) {
		t.Errorf("ConfigChanges = %q, want the encoding now windows-1252", changes)
	}
	latin1 := base
	latin1.Encoding = "iso-8859-1"
	if _, summary4 := latin1.Fingerprint(); !slices.Equal(ConfigChanges(summary3, summary4), []string{"encoding: was windows-1252, now iso-8859-1"}) {
		t.Errorf("ConfigChanges = %q, want the encoding changed", ConfigChanges(summary3, summary4))
	}

	// A header may hold ": "; the field it maps to is written one way
	// only, so the two configs below cannot share a summary.
	a, b := base, base
	a.Columns = map[string]string{"a: b": "c"}
	b.Columns = map[string]string{"a": "b: c"}
	if fpa, _ := a.Fingerprint(); fpa == fp {
		t.Error("a column mapping kept the fingerprint")
	} else if fpb, _ := b.Fingerprint(); fpb == fpa {
		t.Errorf("columns %q and %q have the same fingerprint", a.Columns, b.Columns)
	}
	a.Columns["a"] = "x"
	_, sa := a.Fingerprint()
	if changes := ConfigChanges(sa, sa); len(changes) != 0 {
		t.Errorf("ConfigChanges of a summary with itself = %q, want none", changes)
	}
	a.Columns["a: b"] = "d"
	if _, sa2 := a.Fingerprint(); !slices.Equal(ConfigChanges(sa, sa2), []string{"columns.a: b: was c, now d"}) {
		t.Errorf("ConfigChanges = %q, want the header \"a: b\" changed", ConfigChanges(sa, sa2))
	}
}
