package input

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzColumns are the columns of the file FuzzRowValidation writes, before
// they are shuffled: every kind of cell the reader checks, and one custom
// column.
var fuzzColumns = []string{"firstname", "lastname", "id", "email", "password", "hashfunction", "groups", "aliases", "orgunit", "manager", "region"}

// fuzzGoodRow is a valid value for each of fuzzColumns.
var fuzzGoodRow = map[string]string{
	"firstname": "Ada", "lastname": "Lovelace", "id": "S-1", "email": "ada@example.org",
	"password": "correct horse", "hashfunction": "", "groups": "math;staff@other.org",
	"aliases": "al;countess@example.org", "orgunit": "/Students/2026", "manager": "boss@example.org",
	"region": "Nord",
}

// FuzzRowValidation writes one row of arbitrary cells, between two valid
// rows, in columns shuffled by order, with encoding/csv, and reads the file
// back with a Reader. rowOracle restates the rules for each cell without
// calling validate.go: a row it accepts must come back without an error
// and with exactly the cleaned-up values it expects; a row it rejects must
// come back with a *RowError naming the row's own line and the first
// column, from the left, whose cell breaks a rule. The rows around it must
// come back valid, at their own lines.
func FuzzRowValidation(f *testing.F) {
	add := func(change map[string]string, delim byte, order uint64) {
		c := make(map[string]string, len(fuzzGoodRow))
		for _, col := range fuzzColumns {
			c[col] = fuzzGoodRow[col]
		}
		for k, v := range change {
			c[k] = v
		}
		f.Add(c["firstname"], c["lastname"], c["id"], c["email"], c["password"], c["hashfunction"],
			c["groups"], c["aliases"], c["orgunit"], c["manager"], c["region"], delim, order)
	}
	add(nil, 0, 0)
	add(map[string]string{"firstname": " Zoë ", "lastname": "O'Brien\nSmith", "region": "a,b;c\td"}, 1, 7)
	add(map[string]string{"email": " Ada.L@Example.ORG ", "manager": "", "groups": " Math; ;ART;math ", "aliases": ";;"}, 2, 3)
	add(map[string]string{"password": "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8", "hashfunction": " sha-1 "}, 0, 11)
	add(map[string]string{"password": "5f4dcc3b5aa765d61d8327deb882cf99", "hashfunction": "MD5"}, 0, 12)
	add(map[string]string{"password": "$6$rounds=5000$saltsalt$" + strings.Repeat("Ab1", 28) + "zz", "hashfunction": "crypt"}, 0, 13)
	add(map[string]string{"password": "$5$rounds=10001$salt$" + strings.Repeat("./", 21) + "a", "hashfunction": "crypt"}, 0, 13)
	add(map[string]string{"password": "$1$saltsalt$" + strings.Repeat("x", 22), "hashfunction": "CRYPT"}, 0, 14)
	add(map[string]string{"password": "", "hashfunction": "bcrypt"}, 1, 15)
	add(map[string]string{"password": "", "hashfunction": "MD5"}, 1, 16)
	add(map[string]string{"password": "short"}, 0, 17)
	add(map[string]string{"password": "tab\there!"}, 2, 18)
	add(map[string]string{"firstname": strings.Repeat("é", 61), "lastname": "<b>"}, 0, 19)
	add(map[string]string{"lastname": "Love\x00lace", "id": "\xff"}, 0, 20)
	add(map[string]string{"email": "ada..l@example.org"}, 0, 21)
	add(map[string]string{"email": "\u212aate@example.org"}, 0, 22) // KELVIN SIGN lowercases to k
	add(map[string]string{"aliases": "x@other.org", "groups": "g@-bad.org"}, 0, 23)
	add(map[string]string{"orgunit": "/a//b"}, 0, 24)
	add(map[string]string{"orgunit": " / "}, 0, 25)
	add(map[string]string{"orgunit": "Students/"}, 0, 26)
	add(map[string]string{"region": strings.Repeat("r", 1025)}, 0, 27)
	add(map[string]string{"groups": strings.Repeat("g;", 4097)}, 0, 28)
	add(map[string]string{"firstname": "\u2028Ada\u0085", "lastname": "\u00a0"}, 0, 29)

	delimiters := []rune{',', ';', '\t'}
	f.Fuzz(func(t *testing.T, first, last, id, email, password, hash, groups, aliases, orgUnit, manager, region string, delim byte, order uint64) {
		cells := map[string]string{
			"firstname": first, "lastname": last, "id": id, "email": email, "password": password,
			"hashfunction": hash, "groups": groups, "aliases": aliases, "orgunit": orgUnit,
			"manager": manager, "region": region,
		}
		columns := slices.Clone(fuzzColumns)
		rand.New(rand.NewPCG(order, 0)).Shuffle(len(columns), func(i, j int) { columns[i], columns[j] = columns[j], columns[i] })
		comma := delimiters[int(delim)%len(delimiters)]

		var file bytes.Buffer
		w := csv.NewWriter(&file)
		w.Comma = comma
		for _, cs := range []map[string]string{nil, fuzzGoodRow, cells, fuzzGoodRow} {
			row := make([]string, len(columns))
			for i, col := range columns {
				row[i] = col
				if cs != nil {
					row[i] = cs[col]
				}
			}
			w.Write(row)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			t.Fatalf("write CSV: %v", err)
		}

		// What the rows hold and where they start, as encoding/csv reads
		// them, independently of the Reader under test.
		cr := csv.NewReader(bytes.NewReader(file.Bytes()))
		cr.Comma = comma
		var raw [][]string
		var lines []int
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("encoding/csv cannot read what it wrote: %v\n%q", err, file.Bytes())
			}
			line, _ := cr.FieldPos(0)
			raw = append(raw, slices.Clone(rec))
			lines = append(lines, line)
		}
		if len(raw) != 4 {
			t.Fatalf("encoding/csv read %d records back, want 4\n%q", len(raw), file.Bytes())
		}

		r, err := NewReader(bytes.NewReader(file.Bytes()), ReaderOptions{Delimiter: comma, Domain: "Example.org"})
		if err != nil {
			t.Fatalf("NewReader(%q) = %v", file.Bytes(), err)
		}
		for i := 1; i < 4; i++ {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("Next() record %d = %v", i, err)
			}
			want, bad := rowOracle(columns, raw[i], lines[i], "example.org")
			if i != 2 && bad != "" {
				t.Fatalf("the oracle rejects the fixed row at line %d in column %s: %q", lines[i], bad, raw[i])
			}
			// A line break in a quoted cell goes on to the next line.
			end := lines[i]
			for _, cell := range raw[i] {
				end += strings.Count(cell, "\n")
			}
			if bad == "" {
				if end > lines[i] {
					want.EndLine = end
				}
				if got.Err != nil {
					t.Fatalf("line %d %q: Next() error = %v, want none", lines[i], raw[i], got.Err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("line %d %q:\nNext() = %#v\nwant     %#v", lines[i], raw[i], got, want)
				}
				continue
			}
			var re *RowError
			if !errors.As(got.Err, &re) {
				t.Fatalf("line %d %q: Next() error = %v, want a *RowError for column %s", lines[i], raw[i], got.Err, bad)
			}
			if re.Line != lines[i] || re.EndLine != end || got.Line != lines[i] || re.Column != bad {
				t.Fatalf("line %d %q: Next() = line %d, error %v (lines %d to %d, column %q), want lines %d to %d, column %q",
					lines[i], raw[i], got.Line, re, re.Line, re.EndLine, re.Column, lines[i], end, bad)
			}
			prefix := "line " + strconv.Itoa(lines[i]) + ": "
			if end > lines[i] {
				prefix = fmt.Sprintf("lines %d–%d: a quote opened on line %d closes on line %d; %d lines were read as one record: ", lines[i], end, lines[i], end, end-lines[i]+1)
			}
			if !strings.HasPrefix(re.Error(), prefix+bad+" ") {
				t.Fatalf("line %d: error text %q does not start with its lines and column", lines[i], re.Error())
			}
		}
		if rec, err := r.Next(); err != io.EOF {
			t.Fatalf("Next() after the last row = %+v, %v, want io.EOF", rec, err)
		}
	})
}

// rowOracle restates the input rules of the design for one row, in
// columns order, without calling the reader's own checks. It returns the
// Record the reader should produce and the first column, from the left,
// whose cell breaks a rule, or "" when the row is valid.
func rowOracle(columns, row []string, line int, domain string) (want Record, bad string) {
	cell := map[string]string{}
	for i, col := range columns {
		cell[col] = row[i]
	}
	lowerTrim := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	hash := strings.TrimSpace(cell["hashfunction"])
	for _, h := range []string{"SHA-1", "MD5", "crypt"} {
		if strings.EqualFold(hash, h) {
			hash = h
		}
	}
	want = Record{
		Line:         line,
		ID:           strings.TrimSpace(cell["id"]),
		FirstName:    strings.TrimSpace(cell["firstname"]),
		LastName:     strings.TrimSpace(cell["lastname"]),
		Email:        lowerTrim(cell["email"]),
		OrgUnit:      strings.TrimSpace(cell["orgunit"]),
		Groups:       oracleList(cell["groups"]),
		Password:     cell["password"],
		HashFunction: hash,
		Aliases:      oracleList(cell["aliases"]),
		Manager:      lowerTrim(cell["manager"]),
		Custom:       map[string]string{"region": strings.TrimSpace(cell["region"])},
	}

	// hidden: a control, format, line or paragraph separator character.
	hidden := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) })
	}
	// text: valid UTF-8, no NUL, nothing hidden once trimmed, at most limit
	// bytes as written.
	text := func(s string, limit int) bool {
		return utf8.ValidString(s) && !strings.Contains(s, "\x00") && !hidden(strings.TrimSpace(s)) && len(s) <= limit
	}
	// Addresses and names in lists are ASCII as written: lowercasing must
	// not be what makes them valid (KELVIN SIGN lowercases to k).
	ascii := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return false
			}
		}
		return true
	}
	// address: an address, and in domain unless domain is "".
	address := func(s, domain string) bool {
		s = strings.ToLower(s)
		if strings.Count(s, "@") != 1 {
			return false
		}
		local, host, _ := strings.Cut(s, "@")
		return oracleLocalPart(local) && oracleDomainName(host) && (domain == "" || host == domain)
	}
	// list: each entry an address, or the part of one before @.
	list := func(s string, entries []string, domain string) bool {
		if !text(s, 8192) {
			return false
		}
		for _, e := range entries {
			switch {
			case !ascii(e):
				return false
			case strings.Contains(e, "@"):
				if !address(e, domain) {
					return false
				}
			case !oracleLocalPart(strings.ToLower(e)):
				return false
			}
		}
		return true
	}
	// The lists as written, so that address can see their case.
	writtenList := func(s string) []string {
		var out []string
		for e := range strings.SplitSeq(s, ";") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
		return out
	}

	ok := map[string]bool{}
	for _, col := range []string{"firstname", "lastname"} {
		s := cell[col]
		name := strings.TrimSpace(s)
		ok[col] = utf8.ValidString(s) && !strings.Contains(s, "\x00") &&
			name != "" && utf8.RuneCountInString(name) <= 60 && !strings.ContainsAny(name, "<>=") &&
			!hidden(name)
	}
	ok["id"] = text(cell["id"], 1024) && strings.TrimSpace(cell["id"]) != ""
	// A custom column may hold multi-line notes: line breaks and tabs pass.
	note := strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(cell["region"])
	ok["region"] = utf8.ValidString(note) && !strings.Contains(note, "\x00") && !hidden(note) && len(note) <= 1024
	for _, col := range []string{"email", "manager"} {
		s := strings.TrimSpace(cell[col])
		ok[col] = text(cell[col], 1024) && (s == "" || ascii(s) && address(s, domain))
	}
	ok["groups"] = list(cell["groups"], writtenList(cell["groups"]), "")
	ok["aliases"] = list(cell["aliases"], writtenList(cell["aliases"]), domain)
	ou := want.OrgUnit
	ok["orgunit"] = text(cell["orgunit"], 1024) && (ou == "" || ou == "/" || oracleOrgUnit(ou) && !hidden(ou))
	p := cell["password"]
	switch {
	case !utf8.ValidString(p) || strings.Contains(p, "\x00"):
		ok["password"] = false
	case p == "":
		ok["password"] = true
	case hash == "":
		printable := true
		for i := 0; i < len(p); i++ {
			printable = printable && ' ' <= p[i] && p[i] <= '~'
		}
		ok["password"] = printable && len(p) >= 8 && len(p) <= 100
	case hash == "SHA-1":
		ok["password"] = oracleHex(p, 40)
	case hash == "MD5":
		ok["password"] = oracleHex(p, 32)
	case hash == "crypt":
		ok["password"] = oracleCrypt(p)
	default:
		ok["password"] = true // the hash function cell is at fault
	}
	ok["hashfunction"] = text(cell["hashfunction"], 1024) &&
		(hash == "" || slices.Contains([]string{"SHA-1", "MD5", "crypt"}, hash) && p != "")

	for _, col := range columns {
		if !ok[col] {
			return want, col
		}
	}
	return want, ""
}

// oracleList splits a ;-separated cell: trimmed, lowercased, no blanks, no
// repeats, in order.
func oracleList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for e := range strings.SplitSeq(s, ";") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// oracleLocalPart: 1 to 64 of a-z 0-9 . _ - ', no dot first or last, no
// two dots in a row.
func oracleLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == '\'') {
			return false
		}
	}
	return true
}

// oracleDomainName: at most 253 bytes, two or more labels of 1 to 63 of
// a-z 0-9 -, no hyphen first or last.
func oracleDomainName(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// oracleOrgUnit: "/" then names separated by "/", none blank.
func oracleOrgUnit(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for _, name := range strings.Split(p[1:], "/") {
		if strings.TrimSpace(name) == "" {
			return false
		}
	}
	return true
}

func oracleHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return true
}

// oracleCrypt accepts the crypt(3) hashes Google takes: $1$salt$hash with
// up to 8 salt and 22 hash characters, $5$ and $6$ with up to 16 salt
// characters, 43 or 86 hash characters and an optional rounds=N$ of at
// most 10,000 rounds.
func oracleCrypt(p string) bool {
	var maxSalt, hashLen int
	rounds := false
	switch {
	case strings.HasPrefix(p, "$1$"):
		maxSalt, hashLen = 8, 22
	case strings.HasPrefix(p, "$5$"):
		maxSalt, hashLen, rounds = 16, 43, true
	case strings.HasPrefix(p, "$6$"):
		maxSalt, hashLen, rounds = 16, 86, true
	default:
		return false
	}
	rest := p[3:]
	if after, found := strings.CutPrefix(rest, "rounds="); found && rounds {
		digits, tail, ok := strings.Cut(after, "$")
		if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
			return false
		}
		if n, err := strconv.Atoi(digits); err != nil || n > 10000 {
			return false
		}
		rest = tail
	}
	salt, h, ok := strings.Cut(rest, "$")
	cryptChars := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(c == '.' || c == '/' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
		return true
	}
	return ok && len(salt) >= 1 && len(salt) <= maxSalt && cryptChars(salt) && len(h) == hashLen && cryptChars(h)
}
