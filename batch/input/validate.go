package input

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on cells, from what Google accepts where it says.
const (
	maxNameChars     = 60 // given and family names
	minPasswordChars = 8
	maxPasswordChars = 100
	maxCryptRounds   = 10000
	maxLocalPart     = 64   // the part of an address before @
	maxDomainName    = 253  // the part after @
	maxLabel         = 63   // one dot-separated part of a domain name
	maxCellBytes     = 1024 // any cell without a tighter limit
	maxListBytes     = 8192 // a ;-separated list of groups or aliases
)

// hashFunctions are the password hash functions Google accepts, spelled as
// its API wants them.
var hashFunctions = []string{"SHA-1", "MD5", "crypt"}

// cryptHash matches the crypt(3) hashes Google accepts: $1$ (MD5) with up
// to 8 salt characters, and $5$ (SHA-256) and $6$ (SHA-512) with up to 16
// and an optional rounds=N. The submatches are the rounds.
var cryptHash = func() *regexp.Regexp {
	const c = `[./0-9A-Za-z]`
	return regexp.MustCompile(`^\$(?:` +
		`1\$` + c + `{1,8}\$` + c + `{22}` +
		`|5\$(?:rounds=([0-9]+)\$)?` + c + `{1,16}\$` + c + `{43}` +
		`|6\$(?:rounds=([0-9]+)\$)?` + c + `{1,16}\$` + c + `{86}` +
		`)$`)
}()

// RowError says why one row cannot be processed, in plain words, naming
// the line and, where there is one, the column.
//
// A record that spans lines is named by its first and last line. Only a
// quoted field goes on over a line break, so when such a record fails,
// the likeliest cause is a stray quote that took the lines after it into
// one field: the message says which lines were read as one record, so
// that none of the people on them is lost without a word.
type RowError struct {
	Line    int    // 1-based line where the record starts
	EndLine int    // 1-based line where the record ends; 0 or Line when it is one line
	Column  string // the column's header as written; "" when the whole record is at fault
	Err     error
}

func (e *RowError) Error() string {
	var b strings.Builder
	if e.EndLine > e.Line {
		fmt.Fprintf(&b, "lines %d–%d: ", e.Line, e.EndLine)
		if _, ok := errors.AsType[*unclosedQuote](e.Err); !ok {
			// The line break that ends the first line is inside a quoted
			// field, which therefore opens on it.
			fmt.Fprintf(&b, "a quote opened on line %d closes on line %d; %d lines were read as one record: ", e.Line, e.EndLine, e.EndLine-e.Line+1)
		}
	} else {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Column != "" {
		b.WriteString(e.Column)
		b.WriteByte(' ')
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RowError) Unwrap() error { return e.Err }

// check returns the first problem of a record, reading its cells from left
// to right, or nil when the record can be processed. cells and custom are
// the record's cells as read; rec holds their cleaned-up values.
func (r *Reader) check(rec *Record, cells cellRow, custom map[string]string) error {
	for i, field := range r.fields {
		if err := r.checkField(field, rec, cells, custom); err != nil {
			return &RowError{Line: rec.Line, Column: r.headers[i], Err: err}
		}
	}
	return nil
}

// takeUnnamed removes the cells of the columns without a header from
// custom, and returns why the row fails when one of them holds a value:
// it would be dropped without a word, and a value there means the row is
// shifted or the column should have a name. nil when they are all blank.
func (r *Reader) takeUnnamed(custom map[string]string) error {
	var problem error
	for i, key := range r.unnamed {
		if strings.TrimSpace(custom[key]) != "" && problem == nil {
			problem = fmt.Errorf("column %d has a value but no header; name the column in the header row, or empty the cell", len(r.fields)+i+1)
		}
		delete(custom, key)
	}
	return problem
}

// checkField checks the cell of one field: first its text as read, then
// the value the record holds.
func (r *Reader) checkField(field string, rec *Record, c cellRow, custom map[string]string) error {
	switch field {
	case "firstname":
		return checkName(c.FirstName)
	case "lastname":
		return checkName(c.LastName)
	case "id":
		if strings.TrimSpace(c.ID) == "" {
			// Known by content instead, the person would be someone new:
			// a second account for whoever has one under their ID.
			return errors.New("is empty; in a file with an ID column every person needs theirs, or they would be taken for someone new")
		}
		return checkText(c.ID, maxCellBytes)
	case "email":
		return r.checkOptionalAddress(c.Email, rec.Email)
	case "orgunit":
		if err := checkText(c.OrgUnit, maxCellBytes); err != nil || rec.OrgUnit == "" {
			return err
		}
		return CheckOrgUnit(rec.OrgUnit)
	case "groups":
		return checkList(c.Groups, rec.Groups, CheckGroup)
	case "password":
		if err := checkEncoding(c.Password); err != nil {
			return err
		}
		return checkPassword(rec.Password, rec.HashFunction)
	case "hashfunction":
		return checkHashFunction(c.HashFunction, rec)
	case "aliases":
		return checkList(c.Aliases, rec.Aliases, r.checkAlias)
	case "title":
		return checkText(c.Title, maxCellBytes)
	case "department":
		return checkText(c.Department, maxCellBytes)
	case "manager":
		return r.checkOptionalAddress(c.Manager, rec.Manager)
	case "phone":
		return checkText(c.Phone, maxCellBytes)
	}
	return checkNote(custom[field])
}

// checkEncoding reports text that is not valid UTF-8 or holds a NUL byte.
func checkEncoding(s string) error {
	switch {
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)")
	case strings.IndexByte(s, 0) >= 0:
		return errors.New("contains a NUL byte")
	}
	return nil
}

// checkNote checks the cell of a custom column: valid UTF-8, at most
// maxCellBytes, and nothing hidden except the line breaks and tabs that
// multi-line notes hold. Such a value reaches Google only through a
// template, whose result is checked again (an org unit with a line break
// is refused there); patterns reduce it to a-z 0-9 . _ -.
func checkNote(s string) error {
	switch {
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)")
	case strings.IndexByte(s, 0) >= 0:
		return errors.New("contains a NUL byte")
	case len(s) > maxCellBytes:
		return fmt.Errorf("is longer than %d bytes (%d)", maxCellBytes, len(s))
	}
	return checkVisible(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s), "a value")
}

// checkText checks the encoding of a cell, that its value (trimmed, as
// the record holds it) has no hidden character, and that it is at most
// limit bytes long.
func checkText(s string, limit int) error {
	if err := checkEncoding(s); err != nil {
		return err
	}
	if err := checkVisible(strings.TrimSpace(s), "a value"); err != nil {
		return err
	}
	if len(s) > limit {
		return fmt.Errorf("is longer than %d bytes (%d)", limit, len(s))
	}
	return nil
}

// checkName checks a first or last name as Google does: not empty, at most
// 60 characters, none of < > =. It also refuses hidden characters such as
// line breaks, ESC and bidi overrides (see isHidden): a name is one line
// of plain text.
func checkName(cell string) error {
	if err := checkEncoding(cell); err != nil {
		return err
	}
	name := strings.TrimSpace(cell)
	if name == "" {
		return errors.New("is empty")
	}
	if n := utf8.RuneCountInString(name); n > maxNameChars {
		return fmt.Errorf("is longer than %d characters (%d)", maxNameChars, n)
	}
	if err := checkVisible(name, "a name"); err != nil {
		return err
	}
	if i := strings.IndexAny(name, "<>="); i >= 0 {
		return fmt.Errorf("contains %q; Google does not allow < > = in names", name[i:i+1])
	}
	return nil
}

// checkOptionalAddress checks the cell of an address in the domain, such
// as an explicit email or a manager; value is the cell trimmed and
// lowercased, "" for none.
func (r *Reader) checkOptionalAddress(cell, value string) error {
	if err := checkText(cell, maxCellBytes); err != nil || value == "" {
		return err
	}
	return r.checkOwnAddress(value)
}

// checkOwnAddress checks that s is a valid address in the domain.
func (r *Reader) checkOwnAddress(s string) error {
	if err := checkAddress(s); err != nil {
		return err
	}
	if _, domain, _ := strings.Cut(s, "@"); r.domain != "" && domain != r.domain {
		return fmt.Errorf("%q is not in the domain %s", s, r.domain)
	}
	return nil
}

// checkAddress checks that s, lowercased, is an address Google accepts:
// a local part (see checkLocalPart), @, and a domain name.
func checkAddress(s string) error {
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return fmt.Errorf("%q is not an address: it has no @", s)
	}
	if err := checkLocalPart(local); err != nil {
		return fmt.Errorf("%q is not a valid address: the part before @ %w", s, err)
	}
	if !IsDomainName(domain) {
		return fmt.Errorf("%q is not a valid address: the part after @ is not a domain name", s)
	}
	return nil
}

// checkLocalPart checks the part of an address before @, lowercased: at
// most 64 of a-z, 0-9 and . _ - ', not starting or ending with a dot, and
// no two dots in a row.
func checkLocalPart(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case len(s) > maxLocalPart:
		return fmt.Errorf("is longer than %d characters (%d)", maxLocalPart, len(s))
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.ContainsRune("._-'", c)) {
			return fmt.Errorf("contains %q; only letters a-z, digits and . _ - ' are allowed", c)
		}
	}
	switch {
	case s[0] == '.' || s[len(s)-1] == '.':
		return errors.New("starts or ends with a dot")
	case strings.Contains(s, ".."):
		return errors.New("has two dots in a row")
	}
	return nil
}

// isDomainName reports whether s, lowercased, is a domain name of at least
// two labels of a-z, 0-9 and inner hyphens.
func IsDomainName(s string) bool {
	if len(s) > maxDomainName || !strings.Contains(s, ".") {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > maxLabel || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// checkList checks a ;-separated cell and each of its entries.
func checkList(cell string, entries []string, check func(string) error) error {
	if err := checkText(cell, maxListBytes); err != nil {
		return err
	}
	for _, e := range entries {
		if err := check(e); err != nil {
			return err
		}
	}
	return nil
}

// checkGroup checks one group: an address in any domain, or the part
// before @ of an address in the domain.
func CheckGroup(s string) error {
	if strings.Contains(s, "@") {
		return checkAddress(s)
	}
	if err := checkLocalPart(s); err != nil {
		return fmt.Errorf("%q is not a valid group name: it %w", s, err)
	}
	return nil
}

// checkAlias checks one alias: an address in the domain, or the part
// before its @.
func (r *Reader) checkAlias(s string) error {
	if strings.Contains(s, "@") {
		return r.checkOwnAddress(s)
	}
	if err := checkLocalPart(s); err != nil {
		return fmt.Errorf("%q is not a valid alias: it %w", s, err)
	}
	return nil
}

// checkOrgUnit checks an org unit path: "/" or "/" followed by names
// separated by "/", none of them blank.
func CheckOrgUnit(p string) error {
	switch {
	case p == "/":
		return nil
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q does not start with \"/\"", p)
	case strings.HasSuffix(p, "/"):
		return fmt.Errorf("%q ends with \"/\"", p)
	}
	if err := checkVisible(p, "an org unit"); err != nil {
		return err
	}
	for name := range strings.SplitSeq(p[1:], "/") {
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("%q has an empty part", p)
		}
	}
	return nil
}

// hashFunction returns the hash function named in a cell, spelled as
// Google wants it, or the cell trimmed when it names none.
func hashFunction(cell string) string {
	s := strings.TrimSpace(cell)
	for _, h := range hashFunctions {
		if strings.EqualFold(s, h) {
			return h
		}
	}
	return s
}

// checkHashFunction checks the hash function cell of a record.
func checkHashFunction(cell string, rec *Record) error {
	if err := checkText(cell, maxCellBytes); err != nil {
		return err
	}
	switch {
	case rec.HashFunction == "":
		return nil
	case !slices.Contains(hashFunctions, rec.HashFunction):
		return fmt.Errorf("%q is not a hash function Google accepts; use SHA-1, MD5 or crypt", rec.HashFunction)
	case rec.Password == "":
		return fmt.Errorf("is %s, but there is no password", rec.HashFunction)
	}
	return nil
}

// checkPassword checks a password: without a hash function, 8 to 100
// printable ASCII characters; with one, a hash in that function's format.
// Messages never quote the password. An unknown hash function is left to
// checkHashFunction.
func checkPassword(p, hash string) error {
	if p == "" {
		return nil
	}
	switch hash {
	case "":
		for _, c := range p {
			if c < ' ' || c > '~' {
				return errors.New("may contain only printable ASCII characters: letters a-z and A-Z, digits, punctuation and spaces")
			}
		}
		if len(p) < minPasswordChars {
			return fmt.Errorf("is shorter than %d characters (%d)", minPasswordChars, len(p))
		}
		if len(p) > maxPasswordChars {
			return fmt.Errorf("is longer than %d characters (%d)", maxPasswordChars, len(p))
		}
	case "SHA-1":
		if !isHex(p, 40) {
			return errors.New("is not a SHA-1 hash: it must be 40 hexadecimal digits")
		}
	case "MD5":
		if !isHex(p, 32) {
			return errors.New("is not an MD5 hash: it must be 32 hexadecimal digits")
		}
	case "crypt":
		m := cryptHash.FindStringSubmatch(p)
		if m == nil {
			return errors.New("is not a crypt hash: it must look like $6$salt$hash, with $1$ (MD5), $5$ (SHA-256) or $6$ (SHA-512)")
		}
		if rounds := m[1] + m[2]; rounds != "" {
			if n, err := strconv.Atoi(rounds); err != nil || n > maxCryptRounds {
				return fmt.Errorf("is a crypt hash of more than %d rounds, which Google does not accept", maxCryptRounds)
			}
		}
	}
	return nil
}

// isHex reports whether s is n hexadecimal digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
