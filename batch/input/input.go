package input

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gocarina/gocsv"

	"github.com/provisionhq/provision/naming"
)

// Record is one input row as read and validated.
type Record struct {
	Line         int               // 1-based line where the record starts
	EndLine      int               // 1-based line where it ends when a quoted value holds line breaks; 0 for one line
	ID           string            // external id (student or employee id), trimmed; "" when the file has no id column
	FirstName    string            // trimmed
	LastName     string            // trimmed
	Email        string            // explicit address, trimmed and lowercased; "" if none
	OrgUnit      string            // trimmed; "" means the configured default
	Groups       []string          // trimmed, lowercased, without blanks and duplicates
	Password     string            // as given, never trimmed; "" if none
	HashFunction string            // "", "SHA-1", "MD5" or "crypt"; as given when it is none of these
	Aliases      []string          // trimmed, lowercased, without blanks and duplicates
	Title        string            // trimmed
	Department   string            // trimmed
	Manager      string            // trimmed and lowercased
	Phone        string            // trimmed
	Custom       map[string]string // every other column by field name, trimmed
	// Err is a *RowError when the row cannot be processed. The other fields
	// then hold what could be read: only Line when the record itself is
	// malformed (a bad quote, a wrong number of fields).
	Err error
}

// Fields returns the record's fields for username patterns and
// templates: firstname, lastname, the single-valued known fields (id,
// title, department, manager, phone: "s[id]", "/Staff/[department]") and
// every custom field.
func (rec Record) Fields() naming.Fields {
	f := make(naming.Fields, len(rec.Custom)+7)
	maps.Copy(f, rec.Custom)
	f[naming.FirstName] = rec.FirstName
	f[naming.LastName] = rec.LastName
	for i, value := range [...]string{rec.ID, rec.Title, rec.Department, rec.Manager, rec.Phone} {
		if value != "" {
			f[valueFields[i]] = value
		}
	}
	return f
}

// valueFields are the known fields Record.Fields gives patterns and
// templates besides firstname and lastname, in the order Fields reads
// them.
var valueFields = [...]string{"id", "title", "department", "manager", "phone"}

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	// Delimiter separates fields; ',' when zero. It must be an ASCII
	// character other than a quote or a line break.
	Delimiter rune
	// Columns maps CSV headers (matched case-insensitively) to field names,
	// overriding the built-in aliases: {"Nachname": "lastname",
	// "Jahrgang": "grade"}.
	Columns map[string]string
	// Domain is the Workspace domain. Explicit addresses, aliases given as
	// addresses and managers must be in it. Empty disables that check.
	Domain string
	// Encoding is the file's character encoding, as the config names it
	// (see Config.Encoding); "" is UTF-8. The reader decodes the file to
	// UTF-8 and does not check it as a whole: a job does that first.
	Encoding string
}

// A Reader reads records from a CSV file with a header row, one at a time,
// without holding more than one record in memory. A physical line longer
// than 1 MiB, or a record longer than 8 MiB, fails its record without
// being read into memory (see lineGuard).
//
// Columns are matched to fields by their header, ignoring case and
// everything but the letters a-z and digits, so "First Name", "first_name"
// and "FirstName" all name firstname. The known fields and their aliases:
//
//	firstname     first name, given name, givenName, forename
//	lastname      last name, surname, family name, familyName
//	id            student id, employee id, externalId, external id
//	orgunit       orgUnitPath, ou, org unit
//	groups        group
//	password
//	hashfunction  hash function, password hash
//	email         primary email, primaryEmail, e-mail
//	aliases       alias
//	title         job title
//	department
//	manager       manager email
//	phone         phone number, mobile
//
// The ReaderOptions.Columns mapping overrides them. Every other column is a
// custom field named by its header in lowercase with each run of characters
// other than a-z and 0-9 turned into "_": "Home Region" is home_region.
type Reader struct {
	guard   *lineGuard
	csv     *csv.Reader
	um      *gocsv.Unmarshaller
	fields  []string // field name of each named column
	headers []string // header cell of each named column, trimmed
	unnamed []string // keys of the empty columns at the end of the header (see mapHeader)
	domain  string
}

// cellRow receives the known columns of one record from gocsv; the tags are
// the canonical field names the header is renormalised to.
type cellRow struct {
	ID           string `csv:"id"`
	FirstName    string `csv:"firstname"`
	LastName     string `csv:"lastname"`
	Email        string `csv:"email"`
	OrgUnit      string `csv:"orgunit"`
	Groups       string `csv:"groups"`
	Password     string `csv:"password"`
	HashFunction string `csv:"hashfunction"`
	Aliases      string `csv:"aliases"`
	Title        string `csv:"title"`
	Department   string `csv:"department"`
	Manager      string `csv:"manager"`
	Phone        string `csv:"phone"`
}

// knownFields lists the fields the reader knows and the headers that name
// them, as documented on Reader.
var knownFields = []struct {
	name    string
	aliases []string
}{
	{"firstname", []string{"first name", "given name", "givenName", "forename"}},
	{"lastname", []string{"last name", "surname", "family name", "familyName"}},
	{"id", []string{"student id", "employee id", "externalId", "external id"}},
	{"orgunit", []string{"orgUnitPath", "ou", "org unit"}},
	{"groups", []string{"group"}},
	{"password", nil},
	{"hashfunction", []string{"hash function", "password hash"}},
	{"email", []string{"primary email", "primaryEmail", "e-mail"}},
	{"aliases", []string{"alias"}},
	{"title", []string{"job title"}},
	{"department", nil},
	{"manager", []string{"manager email"}},
	{"phone", []string{"phone number", "mobile"}},
}

// requiredFields are the fields every file must have a column for.
var requiredFields = []string{naming.FirstName, naming.LastName}

// aliasField maps the key (see headerKey) of every known field name and
// alias to its field.
var aliasField = func() map[string]string {
	m := make(map[string]string)
	for _, f := range knownFields {
		m[headerKey(f.name)] = f.name
		for _, a := range f.aliases {
			m[headerKey(a)] = f.name
		}
	}
	return m
}()

const bom = "\uFEFF"

// NewReader reads the header from r and returns a Reader for the records
// after it. A header it cannot use is reported as a *HeaderError.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	columns, err := columnMap(opts.Columns)
	if err != nil {
		return nil, err
	}
	delim := opts.Delimiter
	if delim == 0 {
		delim = ','
	}
	if delim >= utf8.RuneSelf {
		return nil, fmt.Errorf("delimiter %q is not supported: use an ASCII character", delim)
	}
	enc, err := lookupEncoding(opts.Encoding)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(enc.decode(r))
	start, err := br.Peek(len(bom))
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read header: %w", err)
	}
	// A file saved twice by a careless tool may start with several BOMs.
	for string(start) == bom {
		br.Discard(len(bom))
		if start, err = br.Peek(len(bom)); err != nil && err != io.EOF {
			return nil, fmt.Errorf("read header: %w", err)
		}
	}
	guard := newLineGuard(br, byte(delim))
	cr := csv.NewReader(guard)
	cr.Comma = delim
	// FieldsPerRecord stays 0: the header sets the count, and a record with
	// another count is an error rather than a panic in gocsv, which indexes
	// the header by field.
	cr.ReuseRecord = true // gocsv copies the fields out

	um, err := gocsv.NewUnmarshaller(cr, cellRow{})
	if cut, ok := guard.claim(cr.InputOffset()); ok && err != io.EOF {
		return nil, &HeaderError{Err: fmt.Errorf("line %d is longer than 1 MiB; is the file a CSV of people, one per line?", cut.line)}
	}
	if err != nil {
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return nil, &HeaderError{Err: errors.New("the file is empty; it needs a header row naming at least the firstname and lastname columns")}
		case errors.As(err, &pe):
			return nil, &HeaderError{Err: parseProblem(pe, 0, 0)}
		}
		return nil, fmt.Errorf("read header: %w", err)
	}
	rd := &Reader{guard: guard, csv: cr, um: um, domain: strings.ToLower(strings.TrimSpace(opts.Domain))}
	if err := rd.mapHeader(um.Headers, columns, delim); err != nil {
		return nil, err
	}
	// gocsv fills row by these names and keys the custom columns by them.
	if err := um.RenormalizeHeaders(func([]string) []string { return slices.Concat(rd.fields, rd.unnamed) }); err != nil {
		return nil, fmt.Errorf("map header: %w", err)
	}
	return rd, nil
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

// Provides reports whether a pattern or template field can have a value
// in this file: firstname and lastname always, the other fields when a
// column gives them.
func (r *Reader) Provides(field string) bool {
	switch {
	case field == naming.FirstName || field == naming.LastName:
		return true
	case !slices.Contains(r.fields, field):
		return false
	}
	_, known := aliasField[headerKey(field)]
	return !known || slices.Contains(valueFields[:], field)
}

// HasID reports whether the file has an id column.
func (r *Reader) HasID() bool { return slices.Contains(r.fields, "id") }

// Next returns the next record, or io.EOF after the last one. A record that
// cannot be processed is returned with its Err set, and reading goes on
// with the next; Next itself fails only when the input cannot be read.
func (r *Reader) Next() (Record, error) {
	v, custom, err := r.um.ReadUnmatched()
	pe, parseErr := errors.AsType[*csv.ParseError](err)
	switch {
	case err == io.EOF:
		return Record{}, io.EOF
	case err != nil && !parseErr:
		return Record{}, fmt.Errorf("read input: %w", err)
	}
	line := 0 // where the record starts
	if parseErr {
		line = pe.StartLine
	} else {
		line, _ = r.csv.FieldPos(0)
	}
	end := r.csv.InputOffset()
	last := r.guard.lineAt(end - 1) // where the record ends
	fail := func(err error) Record {
		return Record{Line: line, Err: &RowError{Line: line, EndLine: last, Err: err}}
	}
	if cut, ok := r.guard.claim(end); ok {
		// The record was cut short: what it holds is not what the file
		// says, so its own errors do not matter.
		return fail(cut.err(line)), nil
	}
	if parseErr {
		if errors.Is(pe.Err, csv.ErrQuote) && r.guard.endsInQuote(end) {
			return fail(neverClosed(line, last)), nil
		}
		return fail(parseProblem(pe, len(r.fields), len(r.unnamed))), nil
	}
	cells := v.(cellRow)
	unnamed := r.takeUnnamed(custom)
	rec := newRecord(line, cells, custom)
	if last > line {
		rec.EndLine = last
	}
	rec.Err = r.check(&rec, cells, custom)
	if rec.Err == nil && unnamed != nil {
		rec.Err = &RowError{Line: line, Err: unnamed}
	}
	if re, ok := errors.AsType[*RowError](rec.Err); ok {
		re.EndLine = last
	}
	return rec, nil
}

// newRecord returns the Record for the cells of one row, cleaned up but not
// checked.
func newRecord(line int, c cellRow, custom map[string]string) Record {
	for k, v := range custom {
		custom[k] = strings.TrimSpace(v)
	}
	trimLower := func(s string) string { return lowerASCII(strings.TrimSpace(s)) }
	return Record{
		Line:         line,
		ID:           strings.TrimSpace(c.ID),
		FirstName:    strings.TrimSpace(c.FirstName),
		LastName:     strings.TrimSpace(c.LastName),
		Email:        trimLower(c.Email),
		OrgUnit:      strings.TrimSpace(c.OrgUnit),
		Groups:       splitList(c.Groups),
		Password:     c.Password,
		HashFunction: hashFunction(c.HashFunction),
		Aliases:      splitList(c.Aliases),
		Title:        strings.TrimSpace(c.Title),
		Department:   strings.TrimSpace(c.Department),
		Manager:      trimLower(c.Manager),
		Phone:        strings.TrimSpace(c.Phone),
		Custom:       custom,
	}
}

// splitList splits a ;-separated cell into its entries, trimmed and
// lowercased, without blanks and duplicates.
func splitList(cell string) []string {
	var list []string
	seen := make(map[string]bool)
	for entry := range strings.SplitSeq(cell, ";") {
		entry = lowerASCII(strings.TrimSpace(entry))
		if entry != "" && !seen[entry] {
			seen[entry] = true
			list = append(list, entry)
		}
	}
	return list
}

// lowerASCII returns s with the letters A-Z lowercased and every other
// byte as it is. Addresses and group names are ASCII: strings.ToLower
// would make some that are not valid, turning the KELVIN SIGN into k.
func lowerASCII(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			if b == nil {
				b = []byte(s)
			}
			b[i] = c + 'a' - 'A'
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

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

// parseProblem describes, in plain words, why encoding/csv could not read a
// record when the header has named columns and then unnamed empty ones.
// The error wraps the csv sentinel (csv.ErrFieldCount, csv.ErrBareQuote,
// csv.ErrQuote).
func parseProblem(pe *csv.ParseError, named, unnamed int) error {
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount) && unnamed > 0:
		return fmt.Errorf("%w (the header has %d, counting the %d empty cells at its end)", pe.Err, named+unnamed, unnamed)
	case errors.Is(pe.Err, csv.ErrFieldCount):
		return fmt.Errorf("%w (the header has %d)", pe.Err, named)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Errorf("%w at line %d, byte %d; put the field in quotes and double the quote inside it (\"\")", pe.Err, pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Errorf("%w at line %d, byte %d; a quoted field ends with a quote followed by the delimiter or the end of the line", pe.Err, pe.Line, pe.Column)
	}
	return fmt.Errorf("%w at line %d, byte %d", pe.Err, pe.Line, pe.Column)
}

// unclosedQuote is the error of a record that ends inside a quoted field:
// at the end of the file, or where the line guard ended a record that
// grew past maxRecordBytes. Its message says which lines it took, so a
// RowError adds no more about them. It wraps csv.ErrQuote.
type unclosedQuote struct{ msg string }

func (e *unclosedQuote) Error() string { return e.msg }

func (e *unclosedQuote) Unwrap() error { return csv.ErrQuote }

// neverClosed is the error of a record from line first to line last, the
// end of the file, inside a quote that is never closed.
func neverClosed(first, last int) error {
	if first == last {
		return &unclosedQuote{"a quote opened on this line is never closed"}
	}
	return &unclosedQuote{fmt.Sprintf("a quote is never closed, so the %d lines to the end of the file were read as one record", last-first+1)}
}

// CheckColumns checks a config's mapping of CSV headers to fields.
func CheckColumns(cols map[string]string) error {
	_, err := columnMap(cols)
	return err
}
