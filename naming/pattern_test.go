package naming

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       string   // canonical form
		wantFields []string // Fields()
		counter    bool
	}{
		{"fields and literal", "[firstname].[lastname]", "[firstname].[lastname]", []string{"firstname", "lastname"}, false},
		{"field names match case-insensitively", "[FirstName][LASTNAME]", "[firstname][lastname]", []string{"firstname", "lastname"}, false},
		{"character count", "[C1_firstname][lastname]", "[C1_firstname][lastname]", []string{"firstname", "lastname"}, false},
		{"lowercase c accepted", "[c3_firstname]", "[C3_firstname]", []string{"firstname"}, false},
		{"custom field", "[firstname][lastname]_[region]", "[firstname][lastname]_[region]", []string{"firstname", "lastname", "region"}, false},
		{"custom field in camel case", "[secondLastname]", "[secondlastname]", []string{"secondlastname"}, false},
		{"counter", "[firstname][lastname][#]", "[firstname][lastname][#]", []string{"firstname", "lastname"}, true},
		{"static text only", "helpdesk-2", "helpdesk-2", nil, false},
		{"literal lowercased", "[lastname]_NYC", "[lastname]_nyc", []string{"lastname"}, false},
		{"surrounding spaces trimmed", "  [firstname].[lastname]\t", "[firstname].[lastname]", []string{"firstname", "lastname"}, false},
		{"field used twice listed once", "[firstname][C1_firstname]", "[firstname][C1_firstname]", []string{"firstname"}, false},
		{"underscore in field name", "[student_id]", "[student_id]", []string{"student_id"}, false},
		{"character count longer than any username", "[C1000_faculty]", "[C1000_faculty]", []string{"faculty"}, false},
		{"character count with leading zeros", "[C007_lastname]", "[C7_lastname]", []string{"lastname"}, false},
		{"largest character count", "[C9223372036854775807_x]", "[C9223372036854775807_x]", []string{"x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePattern(tt.in)
			if err != nil {
				t.Fatalf("ParsePattern(%q) error: %v", tt.in, err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("ParsePattern(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			if got := p.Fields(); !slices.Equal(got, tt.wantFields) {
				t.Errorf("ParsePattern(%q).Fields() = %q, want %q", tt.in, got, tt.wantFields)
			}
			if got := p.HasCounter(); got != tt.counter {
				t.Errorf("ParsePattern(%q).HasCounter() = %v, want %v", tt.in, got, tt.counter)
			}
		})
	}
}

func TestParsePattern_errors(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantColumn int
		wantReason string // substring of the reason
	}{
		{"empty", "", 0, "empty"},
		{"blank", "   ", 0, "empty"},
		{"hyphen in field name", "[first-name]", 1, "[first-name] is not a field"},
		{"zero character count", "[C0_firstname]", 1, "at least 1"},
		{"character count beyond any number", "[C99999999999999999999_firstname]", 1, "99999999999999999999 is too large"},
		{"negative character count", "[C-1_firstname]", 1, "not a field"},
		{"count without field", "[C1]", 1, "[Cn_field]"},
		{"count without name", "[C1_]", 1, "not a field"},
		{"unclosed bracket", "[firstname].[lastname", 13, "not closed"},
		{"unopened bracket", "firstname]", 10, "without a matching '['"},
		{"nested brackets", "[first[name]]", 7, "nested"},
		{"empty field", "[firstname][]", 12, "empty field"},
		{"space in literal", "[firstname] [lastname]", 12, `' '`},
		{"comma in literal, never split", "[firstname],[lastname]", 12, `','`},
		{"accented literal", "[lastname]é", 11, `'é'`},
		{"at sign", "[firstname]@school", 12, `'@'`},
		{"column counts characters, not bytes", "\u212a[x-y]", 2, "not a field"}, // Kelvin sign lowercases to k
		{"invalid utf-8", "[firstname]\xff", 12, "UTF-8"},
		{"digit-first field", "[1name]", 1, "not a field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePattern(tt.in)
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePattern(%q) error = %v, want a *PatternError", tt.in, err)
			}
			if pe.Column != tt.wantColumn {
				t.Errorf("ParsePattern(%q) column = %d, want %d (%v)", tt.in, pe.Column, tt.wantColumn, err)
			}
			if !strings.Contains(pe.Reason, tt.wantReason) {
				t.Errorf("ParsePattern(%q) reason = %q, want it to mention %q", tt.in, pe.Reason, tt.wantReason)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", strings.TrimSpace(tt.in))) {
				t.Errorf("ParsePattern(%q) error %q does not name the pattern", tt.in, err)
			}
		})
	}
}

func TestParsePatterns(t *testing.T) {
	got, err := ParsePatterns([]string{" [firstname].[lastname] ", "[C1_firstname][lastname]"})
	if err != nil {
		t.Fatalf("ParsePatterns: %v", err)
	}
	if len(got) != 2 || got[0].String() != "[firstname].[lastname]" || got[1].String() != "[C1_firstname][lastname]" {
		t.Errorf("ParsePatterns = %v, want the two patterns trimmed, in order", got)
	}

	_, err = ParsePatterns([]string{"[firstname]", "[lastname]", "[first-name]"})
	if err == nil || !strings.Contains(err.Error(), "pattern 3 of 3") || !strings.Contains(err.Error(), "[first-name]") {
		t.Errorf("ParsePatterns with a bad third pattern: error = %v, want it to name pattern 3 and its text", err)
	}
}

// TestCharacterCount checks [Cn_field] for any n: the first n characters
// of the normalised value, or all of it when it is shorter, as in the Java
// project, where [C1000_faculty] is the whole faculty.
func TestCharacterCount(t *testing.T) {
	tests := []struct {
		pattern string
		want    string
	}{
		{"[C1_firstname][lastname]", "alovelace"},
		{"[C3_firstname].[C3_lastname]", "ada.lov"},
		{"[C4_lastname]", "love"},
		{"[C8_lastname]", "lovelace"},
		{"[C9_lastname]", "lovelace"},
		{"[C64_lastname]", "lovelace"},
		{"[C65_lastname]", "lovelace"},
		{"[C1000_faculty]-[C2_firstname]", "mathematics-ad"},
		{"[C9223372036854775807_faculty]", "mathematics"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			r := NewReserver(Options{Patterns: []Pattern{MustParsePattern(tt.pattern)}})
			got, err := r.Suggest(t.Context(), Fields{"firstname": "Ada", "lastname": "Lovelace", "faculty": "Mathematics"}, 1)
			if err != nil {
				t.Fatalf("Suggest with %q: %v", tt.pattern, err)
			}
			if got[0] != tt.want {
				t.Errorf("Suggest with %q = %q, want %q", tt.pattern, got[0], tt.want)
			}
		})
	}
}

func TestDefaultPatterns(t *testing.T) {
	var got []string
	for _, p := range withLastResort(DefaultPatterns()) {
		got = append(got, p.String())
	}
	want := []string{
		"[firstname][lastname]",
		"[firstname].[lastname]",
		"[firstname]_[lastname]",
		"[C1_firstname][lastname]",
		"[firstname][C1_lastname]",
		"[C9_firstname][C9_lastname][#]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("default patterns = %q, want %q", got, want)
	}
}

func TestLint(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		want     []string // substrings, one per warning, in order
	}{
		{"clean", []string{"[firstname].[lastname]", "[firstname][lastname][#]"}, nil},
		{"after an always-successful counter", []string{"[firstname][lastname][#]", "[lastname]_nyc"}, []string{`pattern 2 "[lastname]_nyc" is never reached`}},
		{"a counter with a custom field can be skipped", []string{"[firstname][region][#]", "[lastname]_nyc"}, nil},
		{"repeated", []string{"[firstname]", "[FIRSTNAME]"}, []string{"repeats pattern 1"}},
		{"no field", []string{"office"}, []string{"has no field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := ParsePatterns(tt.patterns)
			if err != nil {
				t.Fatal(err)
			}
			got := Lint(ps)
			if len(got) != len(tt.want) {
				t.Fatalf("Lint(%q) = %q, want %d warnings", tt.patterns, got, len(tt.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("Lint(%q)[%d] = %q, want it to mention %q", tt.patterns, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{
		"[firstname].[lastname]", "[C1_firstname][lastname]", "[firstname][lastname][#]",
		"[C0_x]", "[first-name]", "[", "]", "[[x]]", "[#][#]", "a.b_c-d", "[c99999999999999999999_x]", "\xff",
		"[C1000_region]", "[C65_firstname][C9223372036854775807_lastname]", "[C9223372036854775808_x]",
	} {
		f.Add(s, "Zoë", "O'Brien")
	}
	f.Fuzz(func(t *testing.T, pattern, first, last string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePattern(%q) error %v is not a *PatternError", pattern, err)
			}
			return
		}
		again, err := ParsePattern(p.String())
		if err != nil || again.String() != p.String() {
			t.Fatalf("ParsePattern(%q).String() = %q does not parse back to itself: %v", pattern, p.String(), err)
		}
		r := NewReserver(Options{Patterns: []Pattern{p}})
		name, err := r.Reserve(t.Context(), "row", Fields{"firstname": first, "lastname": last, "region": first + last})
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) && !errors.Is(err, ErrNoName) {
				t.Fatalf("Reserve with %q: unexpected error %v", pattern, err)
			}
			return
		}
		if !Valid(name) {
			t.Fatalf("Reserve with %q, %q, %q = %q, not a valid username", pattern, first, last, name)
		}
	})
}
