package naming

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzReserver runs a Reserver with a list of patterns (one a line) over a
// script of requests (one a line) against a set of taken names (comma
// separated), and compares every answer with reserverModel, a deliberately
// naive restatement of the rules: it expands each pattern from its
// canonical text, probes [#] from 1 upwards, one number at a time, and
// keeps every name handed out in a set. The Reserver's per-base counters
// must give exactly the names the naive search gives.
//
// A script line is one request:
//
//	first,last[,region[,nickname]]   Reserve for the row of that line
//	?first,last[,...]                Suggest 3 names
//	=name                            Claim name
//	!name                            MarkTaken name
//
// A taken entry "r:name" adds name to the reserved list instead.
func FuzzReserver(f *testing.F) {
	f.Add("[firstname].[lastname]\n[C1_firstname].[lastname]\n[firstname].[lastname][#]",
		"John,Smith\nJohn,Smith\nJohn,Smith\n?John,Smith\n=john.smith3\nJohn,Smith\n!john.smith5\nJohn,Smith",
		"john.smith,john.smith1,r:j.smith")
	f.Add("[firstname][lastname]_[region]\n[lastname]_nyc\n[firstname][lastname][#]",
		"Carlos,Álvarez,CA\nCarlos,Álvarez\nCarlos,Álvarez,CA\n?Carlos,Álvarez,CA,Charlie", "carlosalvarez")
	f.Add("[nickname][#]x[#]\n[C2_firstname]-[C2_lastname]\n[firstname]", "Zoë,O'Brien,,Zo\nZoë,O'Brien,,Zo\n Zoë , O'Brien \n?Zoë,O'Brien", "zo1x1,zo-ob")
	f.Add("", "Ada,Lovelace\nAda,Lovelace\n?Ada,Lovelace\n=ADA\n=\n=admin\n"+strings.Repeat("a", 65), "adalovelace,ada.lovelace,r:ada_lovelace")
	f.Add("[firstname]-\n-[lastname]\n"+strings.Repeat("x", 60)+"[#]\n[C9_firstname][C9_lastname][#]", "Ada,Lovelace\nAda,Lovelace\n!,x\n...,---\nAda\n,Lovelace", "")
	f.Add("[firstname]\n[first-name]\n[lastname][#]", "李,王\n李,王\nΣωκράτης,Παπαδόπουλος", "li,wang1")
	f.Add("[#]\n[#][#]\n.[#]\n[#].", "a,b\na,b\na,b\n?a,b", "1,2,3,11,r:22")

	f.Fuzz(func(t *testing.T, patternText, script, takenText string) {
		const maxPatterns, maxLines, maxTaken = 8, 16, 64
		lines := strings.Split(patternText, "\n")
		if len(lines) > maxPatterns {
			lines = lines[:maxPatterns]
		}
		var patterns []Pattern
		firstBad := -1
		for i, line := range lines {
			p, err := ParsePattern(line)
			if err != nil {
				if firstBad < 0 {
					firstBad = i
				}
				continue
			}
			patterns = append(patterns, p)
		}
		if _, err := ParsePatterns(lines); (err == nil) != (firstBad < 0) {
			t.Fatalf("ParsePatterns(%q) = %v, but pattern %d does not parse", lines, err, firstBad+1)
		} else if err != nil {
			var pe *PatternError
			if prefix := fmt.Sprintf("pattern %d of %d: ", firstBad+1, len(lines)); !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("ParsePatterns(%q) = %v, want a *PatternError starting %q", lines, err, prefix)
			}
		}

		m := newReserverModel(patterns)
		taken := NewNameSet()
		reserved := slices.Clone(DefaultReserved)
		for i, name := range strings.Split(takenText, ",") {
			if i == maxTaken {
				break
			}
			if r, ok := strings.CutPrefix(name, "r:"); ok {
				reserved = append(reserved, r)
				m.reserved[strings.ToLower(r)] = true
			} else {
				taken.Add(name)
				m.unavailable[strings.ToLower(name)] = true
			}
		}
		r := NewReserver(Options{Patterns: patterns, Reserved: reserved, Taken: taken})

		ctx := t.Context()
		for i, line := range strings.Split(script, "\n") {
			if i == maxLines {
				break
			}
			owner := fmt.Sprint("row ", i+1)
			switch {
			case strings.HasPrefix(line, "="):
				name := line[1:]
				err, want := r.Claim(ctx, owner, name), m.claim(name)
				if !errors.Is(err, want) || (err == nil) != (want == nil) {
					t.Fatalf("line %d: Claim(%q) = %v, want %v", i+1, name, err, want)
				}
			case strings.HasPrefix(line, "!"):
				r.MarkTaken(line[1:])
				m.unavailable[strings.ToLower(line[1:])] = true
			case strings.HasPrefix(line, "?"):
				f := modelFields(line[1:])
				got, err := r.Suggest(ctx, f, 3)
				want, wantErr := m.find(f, 3)
				checkAnswer(t, i+1, "Suggest", f, got, err, want, wantErr)
			default:
				f := modelFields(line)
				got, err := r.Reserve(ctx, owner, f)
				want, wantErr := m.find(f, 1)
				checkAnswer(t, i+1, "Reserve", f, []string{got}, err, want, wantErr)
				if err == nil {
					m.unavailable[got] = true
				}
			}
		}
	})
}

// checkAnswer compares a Reserver's answer with the model's.
func checkAnswer(t *testing.T, line int, call string, f Fields, got []string, err error, want []string, wantErr error) {
	t.Helper()
	if wantErr != nil {
		var fe *FieldError
		if errors.As(wantErr, &fe) && !errors.As(err, &fe) || errors.Is(wantErr, ErrNoName) && !errors.Is(err, ErrNoName) {
			t.Fatalf("line %d: %s(%q) = %q, %v; want the error %v", line, call, f, got, err, wantErr)
		}
		return
	}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("line %d: %s(%q) = %q, %v; want %q", line, call, f, got, err, want)
	}
}

// modelFields turns "first,last,region,nickname" into Fields, leaving out
// the fields not given.
func modelFields(s string) Fields {
	f := Fields{}
	for i, v := range strings.Split(s, ",") {
		if i < 4 {
			f[[]string{FirstName, LastName, "region", "nickname"}[i]] = v
		}
	}
	return f
}

// reserverModel restates how names are given, as simply as possible.
type reserverModel struct {
	patterns    []string        // canonical texts, with the last resort
	reserved    map[string]bool // lowercased
	unavailable map[string]bool // taken in the domain, marked taken, or held
}

func newReserverModel(patterns []Pattern) *reserverModel {
	m := &reserverModel{reserved: map[string]bool{}, unavailable: map[string]bool{}}
	for _, p := range patterns {
		m.patterns = append(m.patterns, p.String())
	}
	if len(m.patterns) == 0 {
		m.patterns = []string{"[firstname][lastname]", "[firstname].[lastname]", "[firstname]_[lastname]", "[C1_firstname][lastname]", "[firstname][C1_lastname]"}
	}
	if m.patterns[len(m.patterns)-1] != "[C9_firstname][C9_lastname][#]" {
		m.patterns = append(m.patterns, "[C9_firstname][C9_lastname][#]")
	}
	for _, name := range DefaultReserved {
		m.reserved[name] = true
	}
	return m
}

func (m *reserverModel) free(name string) bool { return !m.reserved[name] && !m.unavailable[name] }

// claim is the error Claim should return for name, and holds it when none.
func (m *reserverModel) claim(name string) error {
	name = strings.ToLower(name)
	switch {
	case name == "" || len(name) > 64:
		return ErrInvalid
	case m.reserved[name]:
		return ErrReserved
	case m.unavailable[name]:
		return ErrTaken
	}
	m.unavailable[name] = true
	return nil
}

// find returns the first want available names for f, in pattern order and
// then counter order, probing every number from 1.
func (m *reserverModel) find(f Fields, want int) ([]string, error) {
	who := map[string]string{}
	for k, v := range f {
		who[k] = Normalize(v)
	}
	for _, k := range []string{FirstName, LastName} {
		if strings.TrimSpace(f[k]) == "" {
			return nil, &FieldError{Field: k, Problem: "is missing or empty"}
		}
	}
	var names []string
	take := func(name string) bool {
		if m.free(name) && !slices.Contains(names, name) {
			names = append(names, name)
		}
		return len(names) == want
	}
	for _, p := range m.patterns {
		if _, ok := modelExpand(p, who, 1); !ok {
			continue
		}
		if !strings.Contains(p, "[#]") {
			if name, _ := modelExpand(p, who, 0); modelValid(name) && take(name) {
				return names, nil
			}
			continue
		}
		for n := 1; ; n++ {
			name, _ := modelExpand(p, who, n)
			if !modelValid(name) {
				break // the number only makes it longer
			}
			if take(name) {
				return names, nil
			}
		}
	}
	if len(names) == 0 {
		return nil, ErrNoName
	}
	return names, nil
}

// modelExpand fills a canonical pattern: [#] is n, [Cn_field] the first n
// characters of the field, [field] the field. It reports false when a
// field is empty or missing.
func modelExpand(pattern string, who map[string]string, n int) (string, bool) {
	var b strings.Builder
	for rest := pattern; rest != ""; {
		open := strings.IndexByte(rest, '[')
		if open != 0 {
			if open < 0 {
				open = len(rest)
			}
			b.WriteString(rest[:open])
			rest = rest[open:]
			continue
		}
		end := strings.IndexByte(rest, ']')
		token := rest[1:end]
		rest = rest[end+1:]
		if token == "#" {
			b.WriteString(strconv.Itoa(n))
			continue
		}
		field, prefix := token, 0
		if count, name, ok := strings.Cut(token, "_"); ok && strings.HasPrefix(count, "C") {
			prefix, _ = strconv.Atoi(count[1:])
			field = name
		}
		v := who[field]
		if v == "" {
			return "", false
		}
		if prefix > 0 && len(v) > prefix {
			v = v[:prefix]
		}
		b.WriteString(v)
	}
	return b.String(), true
}

// modelValid: 1 to 64 of a-z 0-9 . _ -, a letter or digit first and last,
// no two of . _ - in a row.
func modelValid(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	sep := func(c byte) bool { return c == '.' || c == '_' || c == '-' }
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && !sep(c) || sep(c) && (i == 0 || i == len(name)-1 || sep(name[i-1])) {
			return false
		}
	}
	return true
}
