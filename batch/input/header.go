package input

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// header.go maps a file's header row to fields: the spellings a column's
// name may have, a config's own mapping, and what is wrong with a header
// the reader cannot use.

// HeaderError reports a header row the reader cannot use: what is wrong,
// with which column, and what to do about it.
type HeaderError struct {
	Column int    // 1-based; 0 when the problem is not one column's
	Header string // the column's header cell, trimmed
	Err    error
}

func (e *HeaderError) Error() string {
	if e.Column == 0 {
		return "header: " + e.Err.Error()
	}
	return fmt.Sprintf("header column %d (%q) %v", e.Column, e.Header, e.Err)
}

func (e *HeaderError) Unwrap() error { return e.Err }

// CheckColumns checks a config's mapping of CSV headers to fields.
func CheckColumns(cols map[string]string) error {
	_, err := columnMap(cols)
	return err
}

// columnMap returns the configured column mapping keyed by lowercased
// header, with canonical field names.
func columnMap(cols map[string]string) (map[string]string, error) {
	m := make(map[string]string, len(cols))
	for _, header := range slices.Sorted(maps.Keys(cols)) {
		field := FieldName(cols[header])
		if field == "" {
			return nil, fmt.Errorf("columns: %q maps to %q, which is not a field name", header, cols[header])
		}
		key := strings.ToLower(strings.TrimSpace(header))
		if prev, dup := m[key]; dup && prev != field {
			return nil, fmt.Errorf("columns: %q is mapped twice, to %s and to %s", header, prev, field)
		}
		m[key] = field
	}
	return m, nil
}

// mapHeader sets the field of every column, or reports why the header
// cannot be used. delim is the delimiter the file was split with.
//
// Empty cells at the end of the header are columns without a name, which
// Excel writes when cells right of the table were ever used: they are
// ignored, and a row with a value in one fails (see takeUnnamed). An
// empty cell before a named one is a header error.
func (r *Reader) mapHeader(headers []string, columns map[string]string, delim rune) error {
	if line := strings.Join(headers, string(delim)); len(line) <= len("sep=;") && strings.HasPrefix(strings.ToLower(line), "sep=") {
		return &HeaderError{Err: fmt.Errorf("line 1 is Excel's %q line, not a header; delete it, and set the delimiter to %q", line, delimiterName(strings.TrimPrefix(strings.ToLower(line), "sep=")))}
	}
	named := len(headers)
	for named > 0 && strings.TrimSpace(headers[named-1]) == "" {
		named--
	}
	for i := named; i < len(headers); i++ {
		// Never a field name, which holds only a-z, 0-9 and _.
		r.unnamed = append(r.unnamed, fmt.Sprintf("column %d", i+1))
	}
	headers = headers[:named]
	r.fields = make([]string, len(headers))
	r.headers = make([]string, len(headers))
	column := make(map[string]int, len(headers)) // field → 1-based column
	for i, h := range headers {
		h = strings.TrimSpace(h)
		r.headers[i] = h
		fail := func(format string, args ...any) error {
			return &HeaderError{Column: i + 1, Header: h, Err: fmt.Errorf(format, args...)}
		}
		switch {
		case h == "":
			return fail("is empty; name the column or remove it")
		case !utf8.ValidString(h):
			return fail("is not valid UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)")
		case strings.ContainsFunc(h, isHidden):
			return fail("%s", controlProblem(h))
		}
		field, ok := columns[strings.ToLower(h)]
		if !ok {
			field = FieldName(h)
		}
		if field == "" {
			return fail("has no letter a-z or digit to name a field; rename the column or map it to a field in the config's columns")
		}
		if prev, dup := column[field]; dup {
			return fail("is a second %s column, after column %d (%q); remove one, or map one to another field in the config's columns", field, prev, r.headers[prev-1])
		}
		column[field] = i + 1
		r.fields[i] = field
	}
	for _, name := range requiredFields {
		if _, ok := column[name]; !ok {
			return &HeaderError{Err: fmt.Errorf("there is no %s column (looked for %s); rename a column or map it to %s in the config's columns%s", name, strings.Join(spellings(name), ", "), name, otherDelimiter(r.headers, delim))}
		}
	}
	return nil
}

// controlProblem says what a control character in a header cell means:
// most often that the file is not split as it should be.
func controlProblem(h string) string {
	c, _ := firstHidden(h)
	switch {
	case c == '\r':
		return "contains a carriage return: the file's lines end with CR alone, as old Mac files do; save it with LF or CRLF line endings"
	case c == '\t':
		return "contains a tab; if the file is tab-separated, set the delimiter to tab"
	case unicode.IsControl(c):
		return fmt.Sprintf("contains a control character (%U); a header is one line of text", c)
	}
	return fmt.Sprintf("contains the invisible character %s; remove it", describeRune(c))
}

// otherDelimiter returns a hint for a header that is one column holding
// another delimiter than delim: the file is probably split by that one.
func otherDelimiter(headers []string, delim rune) string {
	if len(headers) != 1 {
		return ""
	}
	for _, d := range []rune{',', ';', '|'} {
		if d != delim && strings.ContainsRune(headers[0], d) {
			return fmt.Sprintf("; the header is one column holding %q: if the file is %c-separated, set the delimiter to %q", headers[0], d, string(d))
		}
	}
	return ""
}

// delimiterName returns how the config names a delimiter.
func delimiterName(d string) string {
	if d == "\t" {
		return "tab"
	}
	return d
}

// spellings returns the headers that name a known field, for messages.
func spellings(field string) []string {
	for _, f := range knownFields {
		if f.name == field {
			return append([]string{f.name}, f.aliases...)
		}
	}
	return []string{field}
}

// fieldName returns the field a header or configured field name stands
// for: a known field when it spells one or its alias, else a custom field
// name; "" when it has no letter a-z or digit.
func FieldName(s string) string {
	if field, ok := aliasField[headerKey(s)]; ok {
		return field
	}
	return customName(s)
}

// headerKey returns s lowercased with everything but a-z and 0-9 removed,
// so that "First Name", "first_name" and "FirstName" match.
func headerKey(s string) string {
	return strings.ReplaceAll(customName(s), "_", "")
}

// customName returns s lowercased, with each run of characters other than
// a-z and 0-9 turned into one "_", and no "_" at either end: "Home Region"
// is home_region.
func customName(s string) string {
	var b strings.Builder
	gap := false
	for _, c := range strings.ToLower(s) {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
			gap = false
		} else {
			gap = true
		}
	}
	return b.String()
}
