package batch

import (
	"strings"
	"testing"
	"unicode"

	"github.com/provisionhq/provision/batch/journal"
)

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := GeneratePassword(16)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 16 || seen[p] {
			t.Fatalf("GeneratePassword(16) = %q: wrong length or repeated", p)
		}
		seen[p] = true
		// A letter first: never a cell a spreadsheet runs as a formula.
		if !unicode.IsLetter(rune(p[0])) {
			t.Errorf("GeneratePassword = %q, must start with a letter", p)
		}
		var lower, upper, digit, symbol bool
		for _, c := range p {
			switch {
			case strings.ContainsRune(lowerChars, c):
				lower = true
			case strings.ContainsRune(upperChars, c):
				upper = true
			case strings.ContainsRune(digitChars, c):
				digit = true
			case strings.ContainsRune(symbolChars, c):
				symbol = true
			default:
				t.Errorf("GeneratePassword = %q holds %q", p, c)
			}
		}
		if !lower || !upper || !digit || !symbol {
			t.Errorf("GeneratePassword = %q lacks a character class", p)
		}
	}
	if _, err := GeneratePassword(3); err == nil {
		t.Error("GeneratePassword(3) succeeded")
	}
}

// exportLine gives the ID a row was written with, and none for a row known
// by its content.
func TestExportLine(t *testing.T) {
	tests := []struct {
		external, want string
	}{
		{"organization:1001", "1001"},
		{"custom:" + rowHashType + ":3f2a", ""},
		{"custom:student:77", "77"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := exportLine(journal.Row{ExternalID: tt.external}).ID; got != tt.want {
			t.Errorf("exportLine(%q).ID = %q, want %q", tt.external, got, tt.want)
		}
	}
}
