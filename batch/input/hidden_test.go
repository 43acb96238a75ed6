package input

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckVisible(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" for accepted
	}{
		{"plain", "José Ñúñez-Öztürk", ""},
		{"CJK and Devanagari", "李 अर्जुन", ""},
		{"no-break space", "Ana\u00a0Lima", ""},
		{"escape", "Red\x1b[31m", "control character (U+001B)"},
		{"C1 control", "a\u0085b", "control character (U+0085)"},
		{"delete", "a\x7fb", "control character (U+007F)"},
		{"right-to-left override", "a\u202eb", "U+202E (RIGHT-TO-LEFT OVERRIDE)"},
		{"left-to-right embedding", "a\u202ab", "U+202A (LEFT-TO-RIGHT EMBEDDING)"},
		{"first strong isolate", "a\u2068b", "U+2068 (FIRST STRONG ISOLATE)"},
		{"zero width space", "a\u200bb", "U+200B (ZERO WIDTH SPACE)"},
		{"zero width joiner", "a\u200db", "U+200D (ZERO WIDTH JOINER)"},
		{"byte order mark", "a\ufeffb", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"},
		{"word joiner", "a\u2060b", "U+2060 (WORD JOINER)"},
		{"soft hyphen", "a\u00adb", "U+00AD (SOFT HYPHEN)"},
		{"line separator", "a\u2028b", "U+2028 (LINE SEPARATOR)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkVisible(tt.in, "a value")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkVisible(%q) = %v, want nil", tt.in, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkVisible(%q) = %v, want an error containing %q", tt.in, err, tt.want)
			case err != nil && strings.ContainsFunc(err.Error(), isHidden):
				t.Errorf("checkVisible(%q) = %q, which holds the hidden character itself", tt.in, err)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"José", "José"},
		{"/Students/\x1b[31mRed\x1b[0m", "/Students/[U+001B][31mRed[U+001B][0m"},
		{"Ada\u202eecalevoL", "Ada[U+202E]ecalevoL"},
		{"a\x00b", "a[U+0000]b"},
		{"bad\xffbyte", "bad\ufffdbyte"},
	}
	for _, tt := range tests {
		if got := Visible(tt.in); got != tt.want {
			t.Errorf("Visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// firstHidden's ASCII shortcut finds what the Unicode classes find, at the
// same offset, whatever precedes or follows the character.
func TestFirstHidden_asciiAgreesWithUnicode(t *testing.T) {
	slow := func(s string) (rune, int) {
		i := strings.IndexFunc(s, isHidden)
		if i < 0 {
			return 0, -1
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		return r, i
	}
	var cases []string
	for c := rune(0); c < 0x300; c++ {
		for _, f := range []string{"%c", "ab%c", "%ccd", "é%c", "a%c\u202e", "\u00a0%c\x1b"} {
			cases = append(cases, fmt.Sprintf(f, c))
		}
	}
	cases = append(cases, "", "plain", "bad\xffbyte\x01", "李\u200b", "\u2029")
	for _, s := range cases {
		gr, gi := firstHidden(s)
		wr, wi := slow(s)
		if gr != wr || gi != wi {
			t.Errorf("firstHidden(%q) = %U at %d, want %U at %d", s, gr, gi, wr, wi)
		}
	}
}
