package naming

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gosimple/unidecode"
	"golang.org/x/text/unicode/norm"
)

// MaxLength is the longest username Google accepts, in characters.
const MaxLength = 64

// Normalize maps a field value to the characters a username may contain:
// it lowercases (locale-independently, so a Turkish İ becomes i), applies
// Unicode NFKD, strips the combining diacritics that NFKD splits off Latin,
// Greek and Cyrillic letters (é → e, ñ → n, й → и), recomposes what is left
// so that marks which belong to their script (Japanese dakuten in ジ,
// Devanagari vowel signs) stay with their letter, transliterates to ASCII
// (ß → ss, æ → ae, ø → o, ł → l, đ → d, þ → th, Cyrillic, Greek, CJK and
// other scripts through github.com/gosimple/unidecode), and then keeps only
// a-z, 0-9, '.', '_' and '-'. Spaces, apostrophes and other symbols vanish:
// "O'Neil" → "oneil", "van der Berg" → "vanderberg", "Car-lo*s" → "car-los".
//
// Transliteration is by character, not by language: Japanese kanji read as
// their Mandarin pinyin, and scripts written without vowels (Arabic, Hebrew)
// keep only their consonants. Admins who need a language-aware spelling put
// it in a custom column and use that field in a pattern.
func Normalize(s string) string {
	if isASCII(s) {
		return keepAllowed(strings.ToLower(s))
	}
	decomposed := norm.NFKD.String(strings.ToLower(s))
	var stripped strings.Builder
	stripped.Grow(len(decomposed))
	for _, r := range decomposed {
		if r == utf8.RuneError || isDiacritic(r) {
			continue
		}
		stripped.WriteRune(r)
	}
	recomposed := norm.NFC.String(stripped.String())
	return keepAllowed(strings.ToLower(unidecode.Unidecode(recomposed)))
}

// diacritics are the Unicode blocks of combining marks shared by the Latin,
// Greek and Cyrillic scripts: Combining Diacritical Marks, its Extended and
// Supplement blocks, the marks for symbols and the half marks.
var diacritics = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x0300, Hi: 0x036f, Stride: 1},
		{Lo: 0x1ab0, Hi: 0x1aff, Stride: 1},
		{Lo: 0x1dc0, Hi: 0x1dff, Stride: 1},
		{Lo: 0x20d0, Hi: 0x20ff, Stride: 1},
		{Lo: 0xfe20, Hi: 0xfe2f, Stride: 1},
	},
}

func isDiacritic(r rune) bool {
	return unicode.Is(diacritics, r) && unicode.Is(unicode.Mn, r)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// keepAllowed drops every byte that is not a-z, 0-9, '.', '_' or '-'.
// Its input is ASCII.
func keepAllowed(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !allowed(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if allowed(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func allowed(c byte) bool {
	return isAlnum(c) || isSeparator(c)
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

func isSeparator(c byte) bool {
	return c == '.' || c == '_' || c == '-'
}

// Valid reports whether name is a username this package hands out: 1 to
// MaxLength characters from a-z, 0-9, '.', '_' and '-', starting and ending
// with a letter or digit, with no two of '.', '_', '-' in a row.
func Valid(name string) bool {
	return invalidReason(name) == ""
}

// invalidReason says why name is not Valid, or "" when it is.
func invalidReason(name string) string {
	switch {
	case name == "":
		return "it is empty"
	case len(name) > MaxLength:
		return "it is longer than 64 characters"
	case !isAlnum(name[0]):
		return "it does not start with a letter or digit"
	case !isAlnum(name[len(name)-1]):
		return "it does not end with a letter or digit"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !allowed(c) {
			return "it contains characters other than a-z, 0-9, '.', '_' and '-'"
		}
		if i > 0 && isSeparator(c) && isSeparator(name[i-1]) {
			return "it has two of '.', '_', '-' in a row"
		}
	}
	return ""
}
