package batch

import (
	"fmt"
	"strings"

	"github.com/provisionhq/provision/naming"
)

// A template is text with [field] placeholders filled from a row, such as
// the org unit "/Students/[grade]" or the group "class-of-[year]".
type template struct {
	text   string
	pieces []templatePiece
}

type templatePiece struct {
	literal string
	field   string // lowercased; "" for a literal
}

// parseTemplate parses text with [field] placeholders. Field names are
// letters, digits and underscores, matched case-insensitively.
func parseTemplate(s string) (template, error) {
	t := template{text: s}
	for rest := s; rest != ""; {
		open := strings.IndexAny(rest, "[]")
		if open < 0 {
			t.pieces = append(t.pieces, templatePiece{literal: rest})
			break
		}
		if rest[open] == ']' {
			return template{}, fmt.Errorf("']' without a matching '['")
		}
		if open > 0 {
			t.pieces = append(t.pieces, templatePiece{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], ']')
		if end < 0 {
			return template{}, fmt.Errorf("'[' is not closed by ']'")
		}
		name := rest[open+1 : open+end]
		if !isFieldName(name) {
			return template{}, fmt.Errorf("[%s] is not a field: field names hold only letters, digits and underscores", name)
		}
		t.pieces = append(t.pieces, templatePiece{field: strings.ToLower(name)})
		rest = rest[open+end+1:]
	}
	return t, nil
}

func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// expand fills the template from fields, passing each value through
// transform. It fails naming the first field that is missing or empty.
func (t template) expand(fields naming.Fields, transform func(string) string) (string, error) {
	var b strings.Builder
	for _, p := range t.pieces {
		if p.field == "" {
			b.WriteString(p.literal)
			continue
		}
		v := strings.TrimSpace(fields.Get(p.field))
		if transform != nil {
			v = transform(v)
		}
		if v == "" {
			return "", fmt.Errorf("%q needs the field %s, which is empty in this row", t.text, p.field)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// sampleValues are plain field values to try a template with.
var sampleValues = []string{"x", "x.x"}

// check fills every field of the template with each of sampleValues in
// turn, passing it through transform, and checks the result with valid.
// When no sample gives a valid result, no row is likely to: it returns the
// first sample's error.
func (t template) check(transform func(string) string, valid func(string) error) error {
	var first error
	for _, v := range sampleValues {
		fields := naming.Fields{}
		for _, p := range t.pieces {
			if p.field != "" {
				fields[p.field] = v
			}
		}
		s, err := t.expand(fields, transform)
		if err == nil {
			err = valid(s)
		}
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
