package input

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/runenames"
)

// Hidden characters are those that must never reach Google, a terminal or
// a report, because what they do cannot be seen: C0 and C1 controls (ESC
// starts the terminal sequences that recolour or rewrite a screen, a line
// break splits a line), format characters (Unicode category Cf: the bidi
// embeddings, overrides and isolates U+202A–202E and U+2066–2069 that
// reverse what follows, zero-width spaces and joiners, U+FEFF, U+2060), and
// the line and paragraph separators U+2028 and U+2029.
//
// A value is refused outright rather than cleaned: a name with a
// right-to-left override is not a typo but text that reads differently from
// what it is, and removing the character would create an account for a
// person nobody named.
func isHidden(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// firstHidden returns the first hidden character of s and its byte offset,
// or -1 when there is none. ASCII, most of any file, is told apart by its
// byte: its only hidden characters are the controls below space, and DEL.
func firstHidden(s string) (rune, int) {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf {
			j := strings.IndexFunc(s[i:], isHidden)
			if j < 0 {
				return 0, -1
			}
			r, _ := utf8.DecodeRuneInString(s[i+j:])
			return r, i + j
		}
		if b < ' ' || b == 0x7f {
			return rune(b), i
		}
	}
	return 0, -1
}

// describeRune names a character by its code point and Unicode name, as
// "U+202E (RIGHT-TO-LEFT OVERRIDE)", never by the character itself.
func describeRune(r rune) string {
	name := runenames.Name(r)
	switch r {
	case '\t':
		name = "TAB"
	case '\n':
		name = "LINE FEED"
	case '\r':
		name = "CARRIAGE RETURN"
	case 0x1b:
		name = "ESCAPE"
	}
	if name == "" || strings.HasPrefix(name, "<") {
		return fmt.Sprintf("%U", r)
	}
	return fmt.Sprintf("%U (%s)", r, name)
}

// checkVisible refuses a value holding a hidden character, naming it by
// its code point; what says what the value is ("a name").
func checkVisible(s, what string) error {
	r, i := firstHidden(s)
	switch {
	case i < 0:
		return nil
	case unicode.IsControl(r):
		return fmt.Errorf("contains a control character (%U); %s is one line of text", r, what)
	}
	return fmt.Errorf("contains the invisible character %s, which changes how the text around it is shown; remove it", describeRune(r))
}

// Visible returns s with every hidden character written out as its code
// point in brackets ("[U+202E]"), and invalid UTF-8 as U+FFFD: safe to show
// on a terminal or to write to a report.
func Visible(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if _, i := firstHidden(s); i < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isHidden(r) {
			fmt.Fprintf(&b, "[%U]", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CheckName checks a first or last name as run does for a CSV cell: not
// empty once trimmed, at most 60 characters, none of < > =, valid UTF-8
// and no hidden character. The service and suggest use it too, so that a
// name is refused the same way wherever it comes from.
func CheckName(s string) error { return checkName(s) }

// CheckValue checks any other value a person is given (a custom field, a
// title, an ID) as run does: valid UTF-8, no hidden character, and at most
// 1,024 bytes.
func CheckValue(s string) error { return checkText(s, maxCellBytes) }

// CheckPassword checks a password given in clear: 8 to 100 printable ASCII
// characters. The error never quotes the password.
func CheckPassword(p string) error {
	if p == "" {
		return fmt.Errorf("is empty")
	}
	return checkPassword(p, "")
}
