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
