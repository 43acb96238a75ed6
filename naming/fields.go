package naming

import (
	"fmt"
	"strconv"
	"strings"
)

// Fields holds one person's field values by field name: firstname,
// lastname and any custom field ("region", "nickname"). Names match
// case-insensitively.
type Fields map[string]string

// FieldError reports a mandatory field that is missing or empty, or a field
// given twice under names that differ only in case.
type FieldError struct {
	Field   string
	Problem string // "is missing", "is empty", …
}

func (e *FieldError) Error() string { return e.Field + " " + e.Problem }

// person is a Fields with lowercased names and normalised values.
type person map[string]string

// prepare checks the mandatory fields and normalises every value.
func prepare(f Fields) (person, error) {
	p := make(person, len(f))
	raw := make(map[string]string, len(f))
	for name, value := range f {
		key := strings.ToLower(strings.TrimSpace(name))
		if prev, dup := raw[key]; dup && prev != value {
			return nil, &FieldError{Field: key, Problem: fmt.Sprintf("is given twice with different values (%q and %q)", prev, value)}
		}
		raw[key] = value
		p[key] = Normalize(value)
	}
	for _, name := range []string{FirstName, LastName} {
		value, ok := raw[name]
		switch {
		case !ok:
			return nil, &FieldError{Field: name, Problem: "is missing"}
		case strings.TrimSpace(value) == "":
			return nil, &FieldError{Field: name, Problem: "is empty"}
		}
	}
	return p, nil
}

// expand renders the pattern for a person. It returns the text between the
// counters (one piece more than the pattern has counters), or ok == false
// when a field the pattern uses is missing or empty after normalisation.
func (p Pattern) expand(who person) (pieces []string, ok bool) {
	pieces = make([]string, 0, p.counters+1)
	var b strings.Builder
	for _, pt := range p.parts {
		switch {
		case pt.counter:
			pieces = append(pieces, b.String())
			b.Reset()
		case pt.field != "":
			value := who[pt.field]
			if value == "" {
				return nil, false
			}
			if pt.prefix > 0 && pt.prefix < len(value) {
				value = value[:pt.prefix]
			}
			b.WriteString(value)
		default:
			b.WriteString(pt.literal)
		}
	}
	return append(pieces, b.String()), true
}

// withNumber joins pieces with n in place of every counter.
func withNumber(pieces []string, n int) string {
	if len(pieces) == 1 {
		return pieces[0]
	}
	return strings.Join(pieces, strconv.Itoa(n))
}
