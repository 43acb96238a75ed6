package naming

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The two fields every person has.
const (
	FirstName = "firstname"
	LastName  = "lastname"
)

// A Pattern is a username template: literal text plus fields such as
// [firstname], [C1_lastname], [region] and the counter [#].
// The zero Pattern is not valid; use ParsePattern.
type Pattern struct {
	text  string // canonical form: trimmed, literals and field names lowercased
	parts []part
	// counters is how many [#] the pattern holds; they all take one number.
	counters int
}

// part is one piece of a pattern: a literal, a field or a counter.
type part struct {
	literal string // set for literal text
	field   string // lowercased field name, for a field
	prefix  int    // n of [Cn_field]; 0 means the whole value
	counter bool   // [#]
}

// PatternError reports a pattern that cannot be parsed, with the
// 1-based character column where the problem is.
type PatternError struct {
	Pattern string
	Column  int
	Reason  string
}

func (e *PatternError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("pattern %q, column %d: %s", e.Pattern, e.Column, e.Reason)
	}
	return fmt.Sprintf("pattern %q: %s", e.Pattern, e.Reason)
}

// ParsePattern parses one pattern. Surrounding spaces are trimmed and
// literal text is lowercased; literal text may then hold only a-z, 0-9,
// '.', '_' and '-'. A field is [name] (letters, digits and underscores,
// matched case-insensitively), [Cn_name] (the first n ≥ 1 characters of its
// normalised value, or the whole value when it is shorter, for any n) or
// [#] (a counter).
func ParsePattern(s string) (Pattern, error) {
	s = strings.TrimSpace(s)
	fail := func(column int, format string, args ...any) (Pattern, error) {
		return Pattern{}, &PatternError{Pattern: s, Column: column, Reason: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return fail(0, "it is empty")
	}
	var p Pattern
	var literal strings.Builder
	flush := func() {
		if literal.Len() > 0 {
			p.parts = append(p.parts, part{literal: literal.String()})
			literal.Reset()
		}
	}
	column := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		column++
		switch {
		case r == '[':
			end := strings.IndexByte(s[i+1:], ']')
			if end < 0 {
				return fail(column, "'[' is not closed by ']'")
			}
			token := s[i+1 : i+1+end]
			if j := strings.IndexByte(token, '['); j >= 0 {
				return fail(column+1+utf8.RuneCountInString(token[:j]), "'[' inside a field; fields cannot be nested")
			}
			pt, err := parseToken(token)
			if err != nil {
				return fail(column, "%s", err)
			}
			flush()
			p.parts = append(p.parts, pt)
			if pt.counter {
				p.counters++
			}
			column += utf8.RuneCountInString(token) + 1
			i += len(token) + 2
			continue
		case r == ']':
			return fail(column, "']' without a matching '['")
		case r == utf8.RuneError && size == 1:
			return fail(column, "the pattern is not valid UTF-8")
		}
		lower := []byte(strings.ToLower(string(r)))
		if len(lower) != 1 || !allowed(lower[0]) {
			return fail(column, "%q cannot appear in a username; literal text may hold only a-z, 0-9, '.', '_' and '-'", r)
		}
		literal.WriteByte(lower[0])
		i += size
	}
	flush()
	p.text = p.render()
	return p, nil
}

// parseToken parses the inside of [...].
func parseToken(token string) (part, error) {
	if token == "#" {
		return part{counter: true}, nil
	}
	if token == "" {
		return part{}, fmt.Errorf("empty field []")
	}
	name := token
	prefix := 0
	if (token[0] == 'C' || token[0] == 'c') && len(token) > 1 && isDigit(token[1]) {
		us := strings.IndexByte(token, '_')
		if us < 0 {
			return part{}, fmt.Errorf("[%s]: a character count needs the form [Cn_field], such as [C1_firstname]", token)
		}
		digits := token[1:us]
		if !allDigits(digits) {
			return part{}, fmt.Errorf("[%s]: %q is not a character count", token, digits)
		}
		// Any n ≥ 1 is a count: a value shorter than n is taken whole, so
		// the Java project's [C1000_faculty] means the whole faculty. Only
		// a count too large for a number is refused, rather than wrapped.
		n, err := strconv.Atoi(digits)
		if err != nil {
			return part{}, fmt.Errorf("[%s]: the character count %s is too large", token, digits)
		}
		if n < 1 {
			return part{}, fmt.Errorf("[%s]: the character count must be at least 1", token)
		}
		prefix, name = n, token[us+1:]
	}
	if !validFieldName(name) {
		return part{}, fmt.Errorf("[%s] is not a field: field names hold only letters, digits and underscores and start with a letter (like [firstname], [C1_lastname], [region]); the counter is [#]", token)
	}
	return part{field: strings.ToLower(name), prefix: prefix}, nil
}

func validFieldName(name string) bool {
	if name == "" || !isLetter(name[0]) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// MustParsePattern is like ParsePattern but panics on error. It is for
// patterns written in the program text.
func MustParsePattern(s string) Pattern {
	p, err := ParsePattern(s)
	if err != nil {
		panic(err)
	}
	return p
}

// ParsePatterns parses a list of patterns, as given in a YAML list or by
// repeated --pattern flags. Patterns are never split on commas. The error
// names the first pattern that does not parse and its place in the list.
func ParsePatterns(list []string) ([]Pattern, error) {
	patterns := make([]Pattern, 0, len(list))
	for i, s := range list {
		p, err := ParsePattern(s)
		if err != nil {
			return nil, fmt.Errorf("pattern %d of %d: %w", i+1, len(list), err)
		}
		patterns = append(patterns, p)
	}
	return patterns, nil
}

// String returns the pattern in canonical form: trimmed, with literal text
// and field names lowercased.
func (p Pattern) String() string { return p.text }

// HasCounter reports whether the pattern holds [#].
func (p Pattern) HasCounter() bool { return p.counters > 0 }

// Fields returns the names of the fields the pattern uses, lowercased, in
// order of first use, without the counter.
func (p Pattern) Fields() []string {
	var names []string
	seen := map[string]bool{}
	for _, pt := range p.parts {
		if pt.field != "" && !seen[pt.field] {
			seen[pt.field] = true
			names = append(names, pt.field)
		}
	}
	return names
}

func (p Pattern) render() string {
	var b strings.Builder
	for _, pt := range p.parts {
		switch {
		case pt.counter:
			b.WriteString("[#]")
		case pt.field != "" && pt.prefix > 0:
			fmt.Fprintf(&b, "[C%d_%s]", pt.prefix, pt.field)
		case pt.field != "":
			b.WriteString("[" + pt.field + "]")
		default:
			b.WriteString(pt.literal)
		}
	}
	return b.String()
}

// LastResort is the pattern used when no configured pattern yields an
// available name. It always does, unless both names are empty after
// normalisation.
var LastResort = MustParsePattern("[C9_firstname][C9_lastname][#]")

// DefaultPatterns returns the patterns used when none are configured, the
// Java project's defaults. The last resort follows them, as it follows any
// list.
func DefaultPatterns() []Pattern {
	return []Pattern{
		MustParsePattern("[firstname][lastname]"),
		MustParsePattern("[firstname].[lastname]"),
		MustParsePattern("[firstname]_[lastname]"),
		MustParsePattern("[C1_firstname][lastname]"),
		MustParsePattern("[firstname][C1_lastname]"),
	}
}

// withLastResort returns patterns with LastResort appended, unless it is
// already the last one.
func withLastResort(patterns []Pattern) []Pattern {
	if n := len(patterns); n > 0 && patterns[n-1].text == LastResort.text {
		return patterns
	}
	out := make([]Pattern, len(patterns), len(patterns)+1)
	copy(out, patterns)
	return append(out, LastResort)
}

// Lint returns warnings about a pattern list that parses but cannot work
// as written: patterns that can never be reached because an earlier [#]
// pattern built only from firstname and lastname always yields a name,
// patterns given twice, and patterns without any field, which give every
// row the same name.
func Lint(patterns []Pattern) []string {
	var warnings []string
	seen := map[string]int{}
	blocker := -1
	for i, p := range patterns {
		if j, dup := seen[p.text]; dup {
			warnings = append(warnings, fmt.Sprintf("pattern %d %q repeats pattern %d and never yields a new name", i+1, p.text, j+1))
			continue
		}
		seen[p.text] = i
		if blocker >= 0 {
			warnings = append(warnings, fmt.Sprintf("pattern %d %q is never reached for a row with usable names: pattern %d %q always yields one", i+1, p.text, blocker+1, patterns[blocker].text))
			continue
		}
		if len(p.Fields()) == 0 {
			warnings = append(warnings, fmt.Sprintf("pattern %d %q has no field: it can name only one person", i+1, p.text))
		}
		if p.HasCounter() && onlyMandatoryFields(p) {
			blocker = i
		}
	}
	return warnings
}

func onlyMandatoryFields(p Pattern) bool {
	for _, f := range p.Fields() {
		if f != FirstName && f != LastName {
			return false
		}
	}
	return true
}
