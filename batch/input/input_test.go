package input

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/provisionhq/provision/naming"
)

// open returns a Reader for a file under testdata/input.
func open(t *testing.T, name string, opts ReaderOptions) (*Reader, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "input", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return NewReader(f, opts)
}

// readAll returns every record r reads, failing the test on an I/O error.
func readAll(t *testing.T, r *Reader) []Record {
	t.Helper()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("Next() after %d records: %v", len(recs), err)
		}
		recs = append(recs, rec)
	}
}

// errText returns err's message, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestNewReader_Header(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		opts    ReaderOptions
		want    []string // Fields()
		wantErr string   // HeaderError message
	}{
		{
			name:   "canonical names",
			header: "firstname,lastname",
			want:   []string{"firstname", "lastname"},
		},
		{
			name:   "case, spaces, underscores and hyphens are ignored",
			header: "FIRST_NAME, Last-Name ,E-Mail,Org Unit,Group(s)",
			want:   []string{"firstname", "lastname", "email", "orgunit", "groups"},
		},
		{
			name:   "aliases",
			header: "givenName,familyName,externalId,ou,mobile,hash function,primaryEmail,alias,manager email,job title",
			want:   []string{"firstname", "lastname", "id", "orgunit", "phone", "hashfunction", "email", "aliases", "manager", "title"},
		},
		{
			name:   "more aliases",
			header: "Forename,Surname,Student ID,Password Hash,Phone Number,Password,Department",
			want:   []string{"firstname", "lastname", "id", "hashfunction", "phone", "password", "department"},
		},
		{
			name:   "custom fields",
			header: "firstname,lastname,Home Region,secondLastname,  Klasse (2024) ,nick__name,2nd",
			want:   []string{"firstname", "lastname", "home_region", "secondlastname", "klasse_2024", "nick_name", "2nd"},
		},
		{
			name:   "config mapping",
			header: "Vorname,Nachname,Jahrgang,Schülernummer",
			opts:   ReaderOptions{Columns: map[string]string{"vorname": "firstname", "NACHNAME": "Last Name", "Jahrgang": "grade", "schülernummer": "id"}},
			want:   []string{"firstname", "lastname", "grade", "id"},
		},
		{
			name:   "config mapping overrides an alias",
			header: "firstname,lastname,Email,Work Email",
			opts:   ReaderOptions{Columns: map[string]string{"Email": "private email", "work email": "email"}},
			want:   []string{"firstname", "lastname", "private_email", "email"},
		},
		{
			name:    "no lastname column",
			header:  "firstname,name",
			wantErr: "header: there is no lastname column (looked for lastname, last name, surname, family name, familyName); rename a column or map it to lastname in the config's columns",
		},
		{
			name:    "no firstname column",
			header:  "vorname,lastname",
			wantErr: "header: there is no firstname column (looked for firstname, first name, given name, givenName, forename); rename a column or map it to firstname in the config's columns",
		},
		{
			name:    "empty header cell",
			header:  "firstname,lastname,,grade",
			wantErr: `header column 3 ("") is empty; name the column or remove it`,
		},
		{
			name:    "blank header cell before a named one",
			header:  "firstname,   ,lastname",
			wantErr: `header column 2 ("") is empty; name the column or remove it`,
		},
		{
			name:    "empty header cells in the middle and at the end",
			header:  "firstname,,lastname,,",
			wantErr: `header column 2 ("") is empty; name the column or remove it`,
		},
		{
			// Excel writes a cell for every column ever used.
			name:   "empty header cells at the end",
			header: "First Name,Last Name,,\r\n",
			want:   []string{"firstname", "lastname"},
		},
		{
			name:   "blank header cells at the end",
			header: "firstname,lastname,grade, ,\t",
			want:   []string{"firstname", "lastname", "grade"},
		},
		{
			name:    "only empty header cells",
			header:  ",,\n",
			wantErr: "header: there is no firstname column (looked for firstname, first name, given name, givenName, forename); rename a column or map it to firstname in the config's columns",
		},
		{
			name:    "one column and empty cells, split by the wrong delimiter",
			header:  "firstname;lastname,,\n",
			wantErr: `header: there is no firstname column (looked for firstname, first name, given name, givenName, forename); rename a column or map it to firstname in the config's columns; the header is one column holding "firstname;lastname": if the file is ;-separated, set the delimiter to ";"`,
		},
		{
			name:    "two columns for one field",
			header:  "firstname,Last Name,grade,Surname",
			wantErr: `header column 4 ("Surname") is a second lastname column, after column 2 ("Last Name"); remove one, or map one to another field in the config's columns`,
		},
		{
			name:    "two custom columns with one name",
			header:  "firstname,lastname,Home Region,home-region",
			wantErr: `header column 4 ("home-region") is a second home_region column, after column 3 ("Home Region"); remove one, or map one to another field in the config's columns`,
		},
		{
			name:    "config maps onto a column's field",
			header:  "firstname,lastname,Nachname",
			opts:    ReaderOptions{Columns: map[string]string{"Nachname": "lastname"}},
			wantErr: `header column 3 ("Nachname") is a second lastname column, after column 2 ("lastname"); remove one, or map one to another field in the config's columns`,
		},
		{
			name:    "header without letters a-z",
			header:  "firstname,lastname,Класс",
			wantErr: `header column 3 ("Класс") has no letter a-z or digit to name a field; rename the column or map it to a field in the config's columns`,
		},
		{
			name:   "header without letters a-z, mapped",
			header: "firstname,lastname,Класс",
			opts:   ReaderOptions{Columns: map[string]string{"класс": "class"}},
			want:   []string{"firstname", "lastname", "class"},
		},
		{
			name:    "header not UTF-8",
			header:  "firstname,lastname,Stra\xdfe",
			wantErr: `header column 3 ("Stra\xdfe") is not valid UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)`,
		},
		{
			name:    "CR line endings",
			header:  "firstname,lastname,id\rAda,Lovelace,1\rGrace,Hopper,2\r",
			wantErr: `header column 3 ("id\rAda") contains a carriage return: the file's lines end with CR alone, as old Mac files do; save it with LF or CRLF line endings`,
		},
		{
			name:    "a tab-separated file read with commas",
			header:  "firstname\tlastname\n",
			wantErr: `header column 1 ("firstname\tlastname") contains a tab; if the file is tab-separated, set the delimiter to tab`,
		},
		{
			name:    "control character",
			header:  "firstname,last\x00name",
			wantErr: `header column 2 ("last\x00name") contains a control character (U+0000); a header is one line of text`,
		},
		{
			name:    "a line break in a quoted header",
			header:  "firstname,\"last\nname\"",
			wantErr: `header column 2 ("last\nname") contains a control character (U+000A); a header is one line of text`,
		},
		{
			name:    "a semicolon-separated file read with commas",
			header:  "firstname;lastname\n",
			wantErr: `header: there is no firstname column (looked for firstname, first name, given name, givenName, forename); rename a column or map it to firstname in the config's columns; the header is one column holding "firstname;lastname": if the file is ;-separated, set the delimiter to ";"`,
		},
		{
			name:    "a comma-separated file read with semicolons",
			header:  "firstname,lastname\n",
			opts:    ReaderOptions{Delimiter: ';'},
			wantErr: `header: there is no firstname column (looked for firstname, first name, given name, givenName, forename); rename a column or map it to firstname in the config's columns; the header is one column holding "firstname,lastname": if the file is ,-separated, set the delimiter to ","`,
		},
		{
			name:    "Excel's sep= line",
			header:  "sep=;\nfirstname;lastname\n",
			wantErr: `header: line 1 is Excel's "sep=;" line, not a header; delete it, and set the delimiter to ";"`,
		},
		{
			name:    "Excel's sep= line split at its delimiter",
			header:  "SEP=\t\nfirstname\tlastname\n",
			opts:    ReaderOptions{Delimiter: '\t'},
			wantErr: `header: line 1 is Excel's "SEP=\t" line, not a header; delete it, and set the delimiter to "tab"`,
		},
		{
			name:    "bare quote in the header",
			header:  "firstname,last\"name",
			wantErr: `header: bare " in non-quoted-field at line 1, byte 15; put the field in quotes and double the quote inside it ("")`,
		},
		{
			name:    "empty file",
			header:  "",
			wantErr: "header: the file is empty; it needs a header row naming at least the firstname and lastname columns",
		},
		{
			name:    "only a BOM and blank lines",
			header:  "\ufeff\r\n\r\n",
			wantErr: "header: the file is empty; it needs a header row naming at least the firstname and lastname columns",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.header), tt.opts)
			if tt.wantErr != "" {
				var he *HeaderError
				if !errors.As(err, &he) {
					t.Fatalf("NewReader(%q) error = %v, want a *HeaderError", tt.header, err)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("NewReader(%q) error =\n%s\nwant\n%s", tt.header, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewReader(%q) error = %v", tt.header, err)
			}
			if got := r.fields; !slices.Equal(got, tt.want) {
				t.Errorf("fields = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewReader_Columns(t *testing.T) {
	tests := []struct {
		name    string
		columns map[string]string
		wantErr string
	}{
		{"not a field name", map[string]string{"Klasse": " - "}, `columns: "Klasse" maps to " - ", which is not a field name`},
		{"one header twice", map[string]string{"Klasse": "grade", "KLASSE": "class"}, `columns: "Klasse" is mapped twice, to class and to grade`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader("firstname,lastname\n"), ReaderOptions{Columns: tt.columns})
			if errText(err) != tt.wantErr {
				t.Errorf("NewReader() error = %v, want %s", err, tt.wantErr)
			}
		})
	}
}

func TestNewReader_Delimiter(t *testing.T) {
	_, err := NewReader(strings.NewReader("firstname\"lastname\n"), ReaderOptions{Delimiter: '"'})
	if err == nil {
		t.Fatal(`NewReader(Delimiter: '"') error = nil, want one`)
	}
	// The line guard follows quotes byte by byte.
	_, err = NewReader(strings.NewReader("firstname§lastname\n"), ReaderOptions{Delimiter: '§'})
	if want := `delimiter '§' is not supported: use an ASCII character`; errText(err) != want {
		t.Errorf("NewReader(Delimiter: '§') error = %v, want %s", err, want)
	}
}

func TestReader_HasID(t *testing.T) {
	for header, want := range map[string]bool{
		"firstname,lastname":            false,
		"firstname,lastname,student id": true,
		"id,firstname,lastname":         true,
		"firstname,lastname,idea":       false,
	} {
		r, err := NewReader(strings.NewReader(header), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.HasID(); got != want {
			t.Errorf("NewReader(%q).HasID() = %v, want %v", header, got, want)
		}
	}
}

func TestReader_HeaderOnly(t *testing.T) {
	r, err := open(t, "header_only.csv", ReaderOptions{})
	if err != nil {
		t.Fatalf("NewReader(header_only.csv) error = %v", err)
	}
	if rec, err := r.Next(); err != io.EOF {
		t.Errorf("Next() = %+v, %v, want io.EOF", rec, err)
	}
}

func TestReader_EmptyFile(t *testing.T) {
	_, err := open(t, "empty.csv", ReaderOptions{})
	var he *HeaderError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "the file is empty") {
		t.Errorf("NewReader(empty.csv) error = %v, want a *HeaderError saying the file is empty", err)
	}
}

// TestReader_Files reads whole files and checks where each record starts and
// what it holds or why it was rejected.
func TestReader_Files(t *testing.T) {
	type want struct {
		line  int
		first string
		last  string
		err   string
	}
	tests := []struct {
		file string
		opts ReaderOptions
		want []want
	}{
		{
			// A BOM, CRLF, a blank line and quoted fields over several lines.
			file: "bom_crlf.csv",
			want: []want{
				{line: 2, first: "Ada", last: "Lovelace"},
				{line: 3, first: "Grace", last: "Hopper"},
				{line: 6, first: "Alan", last: "Turing"},
				{line: 9, first: "Edsger", last: "Dijkstra"},
			},
		},
		{
			file: "semicolon.csv",
			opts: ReaderOptions{Delimiter: ';', Columns: map[string]string{"Vorname": "firstname", "Nachname": "lastname", "Jahrgang": "grade", "Gruppen": "groups"}},
			want: []want{
				{line: 2, first: "Jürgen", last: "Müller"},
				{line: 3, first: "Zoë", last: "Weiß, von"},
			},
		},
		{
			file: "tab.tsv",
			opts: ReaderOptions{Delimiter: '\t'},
			want: []want{
				{line: 2, first: "Ada", last: "Lovelace"},
				{line: 3, first: "Grace\tAnn", last: "Hopper", err: "line 3: firstname contains a control character (U+0009); a name is one line of text"},
			},
		},
		{
			// Broken records in the middle do not stop the reading; an
			// unterminated quote swallows the rest of the file.
			file: "broken.csv",
			want: []want{
				{line: 2, first: "Ada", last: "Lovelace"},
				{line: 3, err: "line 3: wrong number of fields (the header has 3)"},
				{line: 4, err: "line 4: wrong number of fields (the header has 3)"},
				{line: 5, err: `line 5: bare " in non-quoted-field at line 5, byte 3; put the field in quotes and double the quote inside it ("")`},
				{line: 6, first: "Barbara", last: "Liskov"},
				{line: 7, err: "lines 7–8: a quote is never closed, so the 2 lines to the end of the file were read as one record"},
			},
		},
		{
			// Excel's "CSV" in Western Europe is Windows-1252.
			file: "windows1252.csv",
			want: []want{
				{line: 2, first: "J\xfcrgen", last: "M\xfcller", err: "line 2: firstname is not valid UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)"},
				{line: 3, first: "Ada", last: "Lovelace"},
			},
		},
		{
			// The same, read as what it is.
			file: "windows1252.csv",
			opts: ReaderOptions{Encoding: "windows-1252"},
			want: []want{
				{line: 2, first: "Jürgen", last: "Müller"},
				{line: 3, first: "Ada", last: "Lovelace"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := open(t, tt.file, tt.opts)
			if err != nil {
				t.Fatalf("NewReader(%s) error = %v", tt.file, err)
			}
			recs := readAll(t, r)
			if len(recs) != len(tt.want) {
				t.Fatalf("read %d records, want %d: %+v", len(recs), len(tt.want), recs)
			}
			for i, w := range tt.want {
				rec := recs[i]
				if rec.Line != w.line {
					t.Errorf("record %d: Line = %d, want %d", i, rec.Line, w.line)
				}
				if rec.FirstName != w.first || rec.LastName != w.last {
					t.Errorf("Next() line %d = %q %q, want %q %q", w.line, rec.FirstName, rec.LastName, w.first, w.last)
				}
				if got := errText(rec.Err); got != w.err {
					t.Errorf("Next() line %d error = %s, want %s", w.line, got, w.err)
				}
				var re *RowError
				if rec.Err != nil && (!errors.As(rec.Err, &re) || re.Line != rec.Line) {
					t.Errorf("Next() line %d error = %#v, want a *RowError for line %d", w.line, rec.Err, rec.Line)
				}
			}
		})
	}
}

// TestReader_Spans reads records that span lines. One that is read
// normally says nothing of it; one that fails names its first and last
// line and says they were read as one record, so that a stray quote loses
// nobody without a word.
func TestReader_Spans(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line, end int    // of the last record
		err       string // of the last record
	}{
		{
			name: "a quoted note over three lines",
			in:   "firstname,lastname,note\nAda,Lovelace,\"one\ntwo\r\nthree\"\n",
			line: 2, end: 4,
		},
		{
			name: "a name with a line break",
			in:   "firstname,lastname\n\"Ada\nMarie\",Lovelace\n",
			line: 2, end: 3,
			err: "lines 2–3: a quote opened on line 2 closes on line 3; 2 lines were read as one record: firstname contains a control character (U+000A); a name is one line of text",
		},
		{
			name: "a stray quote takes four lines into a note",
			in:   "firstname,lastname,id,note\nAda,Lovelace,1,\nGrace,Hopper,2,\"x\nAlan,Turing,3,\nEdsger,Dijkstra,4,\nKen,Thompson\",5,\n",
			line: 3, end: 6,
			err: "lines 3–6: a quote opened on line 3 closes on line 6; 4 lines were read as one record: wrong number of fields (the header has 4)",
		},
		{
			name: "a bare quote after the span",
			in:   "firstname,lastname,id\nGrace,\"Hopper,2\nAlan\",Tu\"ring,3\n",
			line: 2, end: 3,
			err: `lines 2–3: a quote opened on line 2 closes on line 3; 2 lines were read as one record: bare " in non-quoted-field at line 3, byte 9; put the field in quotes and double the quote inside it ("")`,
		},
		{
			name: "text after a closing quote",
			in:   "firstname,lastname,id\nGrace,\"Hopper\n\"x,2\n",
			line: 2, end: 3,
			err: `lines 2–3: a quote opened on line 2 closes on line 3; 2 lines were read as one record: extraneous or missing " in quoted-field at line 3, byte 1; a quoted field ends with a quote followed by the delimiter or the end of the line`,
		},
		{
			name: "a quote never closed on the last line",
			in:   "firstname,lastname,id\nGrace,\"Hopper,2\n",
			line: 2, end: 2,
			err: "line 2: a quote opened on this line is never closed",
		},
		{
			name: "a quote never closed swallows the rest of the file",
			in:   "firstname,lastname,id\nGrace,\"Hopper,2\nAlan,Turing,3\n\nEdsger,Dijkstra,4",
			line: 2, end: 5,
			err: "lines 2–5: a quote is never closed, so the 4 lines to the end of the file were read as one record",
		},
		{
			name: "a quote never closed after one that spans lines",
			in:   "firstname,lastname,note\nGrace,\"Hop\nper\",\"x\ny\n",
			line: 2, end: 4,
			err: "lines 2–4: a quote is never closed, so the 3 lines to the end of the file were read as one record",
		},
		{
			name: "the record after a span is at its own line",
			in:   "firstname,lastname,note\r\nAda,Lovelace,\"a\r\nb\"\r\n\r\nGrace,\"Hop\r\nper\",x\r\n",
			line: 5, end: 6,
			err: "lines 5–6: a quote opened on line 5 closes on line 6; 2 lines were read as one record: lastname contains a control character (U+000A); a name is one line of text",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			recs := readAll(t, r)
			rec := recs[len(recs)-1]
			if rec.Line != tt.line || errText(rec.Err) != tt.err {
				t.Errorf("last record = line %d, error\n%v\nwant line %d, error\n%s", rec.Line, rec.Err, tt.line, tt.err)
			}
			if rec.Err == nil {
				return
			}
			re, ok := errors.AsType[*RowError](rec.Err)
			if !ok || re.Line != tt.line || re.EndLine != tt.end {
				t.Errorf("error = %#v, want a *RowError for lines %d to %d", rec.Err, tt.line, tt.end)
			}
		})
	}
}

// TestReader_UnnamedColumns reads a file whose header ends in empty cells,
// as Excel writes them: the columns are ignored while they are empty, and
// a row with a value in one fails, naming the column.
func TestReader_UnnamedColumns(t *testing.T) {
	in := "\uFEFFFirst Name,Last Name,Notes,,\r\n" +
		"Ada,Lovelace,,,\r\n" +
		"Grace,Hopper,x, , \r\n" +
		"Alan,Turing,,42,\r\n" +
		"Edsger,Dijkstra,,,\"a\r\nb\"\r\n" +
		",Knuth,,,x\r\n" +
		"Ken,Thompson\r\n"
	r, err := NewReader(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.fields, []string{"firstname", "lastname", "notes"}; !slices.Equal(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
	want := []struct {
		line   int
		custom map[string]string
		err    string
	}{
		{line: 2, custom: map[string]string{"notes": ""}},
		{line: 3, custom: map[string]string{"notes": "x"}},
		{line: 4, err: "line 4: column 4 has a value but no header; name the column in the header row, or empty the cell"},
		{line: 5, err: "lines 5–6: a quote opened on line 5 closes on line 6; 2 lines were read as one record: column 5 has a value but no header; name the column in the header row, or empty the cell"},
		// The first problem from the left.
		{line: 7, err: "line 7: First Name is empty"},
		{line: 8, err: "line 8: wrong number of fields (the header has 5, counting the 2 empty cells at its end)"},
	}
	recs := readAll(t, r)
	if len(recs) != len(want) {
		t.Fatalf("read %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		rec := recs[i]
		if rec.Line != w.line || errText(rec.Err) != w.err {
			t.Errorf("record %d = line %d, error %v; want line %d, error %s", i, rec.Line, rec.Err, w.line, w.err)
		}
		if w.err == "" && !maps.Equal(rec.Custom, w.custom) {
			t.Errorf("line %d: Custom = %q, want %q", rec.Line, rec.Custom, w.custom)
		}
	}
}

func TestReader_Record(t *testing.T) {
	r, err := open(t, "aliases.csv", ReaderOptions{Domain: "Example.org"})
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, r)
	if len(recs) != 1 {
		t.Fatalf("read %d records, want 1", len(recs))
	}
	got := recs[0]
	want := Record{
		Line:       2,
		ID:         "E1",
		FirstName:  "Ada",
		LastName:   "Lovelace",
		Email:      "ada.lovelace@example.org",
		OrgUnit:    "/Staff",
		Groups:     []string{"math", "art"},
		Password:   "s3cret pass",
		Aliases:    []string{"ada", "countess@example.org"},
		Title:      "Analyst",
		Department: "Engines",
		Manager:    "boss@example.org",
		Phone:      "+44 20 1234",
		Custom:     map[string]string{"home_region": "Nord", "secondlastname": "Byron"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Next() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestReader_CustomAndQuoting(t *testing.T) {
	in := "firstname,lastname,password,region,note\n" +
		`"  Ada ", Lovelace ,"  with ""quotes"", and spaces ", Nord ,"multi` + "\nline\"\n"
	r, err := NewReader(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, r)
	if len(recs) != 1 {
		t.Fatalf("read %d records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.Err != nil {
		t.Fatalf("Next() line 2 error = %v", rec.Err)
	}
	if rec.FirstName != "Ada" || rec.LastName != "Lovelace" {
		t.Errorf("names = %q %q, want trimmed", rec.FirstName, rec.LastName)
	}
	if want := `  with "quotes", and spaces `; rec.Password != want {
		t.Errorf("Password = %q, want %q (never trimmed)", rec.Password, want)
	}
	if want := map[string]string{"region": "Nord", "note": "multi\nline"}; !maps.Equal(rec.Custom, want) {
		t.Errorf("Custom = %q, want %q", rec.Custom, want)
	}
}

func TestRecord_Fields(t *testing.T) {
	rec := Record{FirstName: "Zoë", LastName: "Weiß", Email: "z@example.org", Custom: map[string]string{"region": "Nord", "grade": "5"}}
	want := naming.Fields{"firstname": "Zoë", "lastname": "Weiß", "region": "Nord", "grade": "5"}
	if got := rec.Fields(); !maps.Equal(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
	// Reading through the Reader gives the same fields, ready for naming.
	r, err := NewReader(strings.NewReader("First Name,Last Name,Home Region\nZoë,Weiß,Nord\n"), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)[0].Fields()
	if want := (naming.Fields{"firstname": "Zoë", "lastname": "Weiß", "home_region": "Nord"}); !maps.Equal(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
}

func TestReader_IOError(t *testing.T) {
	boom := errors.New("disk on fire")
	in := io.MultiReader(strings.NewReader("firstname,lastname\nAda,Lovelace\n"), iotest.ErrReader(boom))
	r, err := NewReader(in, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := r.Next(); err != nil || rec.Err != nil {
		t.Fatalf("Next() line 2 = %+v, %v, want a record", rec, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("Next() error = %v, want %v", err, boom)
	}
}

// rowSource generates a CSV file of n rows as it is read, so that the test
// holds no file in memory.
type rowSource struct {
	n, i int
	buf  []byte
}

func newRowSource(n int) *rowSource {
	return &rowSource{n: n, buf: []byte("firstname,lastname,student id,orgunit,groups,region\n")}
}

func (s *rowSource) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.i == s.n {
			return 0, io.EOF
		}
		s.i++
		s.buf = fmt.Appendf(s.buf[:0], "First%d,Last%d,%d,/Students/5a,\"math;art\",Nord\n", s.i, s.i, s.i)
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// liveHeap returns the bytes of live heap objects.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestReader_StreamsWithBoundedMemory(t *testing.T) {
	const (
		rows  = 100_000
		bound = 4 << 20 // growth allowed; keeping every row would take ~30 MiB
	)
	r, err := NewReader(newRowSource(rows), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var base uint64
	for n := 1; ; n++ {
		rec, err := r.Next()
		if err == io.EOF {
			if n-1 != rows {
				t.Fatalf("read %d records, want %d", n-1, rows)
			}
			break
		}
		if err != nil || rec.Err != nil {
			t.Fatalf("Next() line %d = %v, %v", n+1, err, rec.Err)
		}
		if rec.Line != n+1 {
			t.Fatalf("Next() line = %d, want %d", rec.Line, n+1)
		}
		switch {
		case n == 1000:
			base = liveHeap()
		case n > 1000 && n%10_000 == 0:
			if heap := liveHeap(); heap > base+bound {
				t.Fatalf("after %d rows the live heap is %d bytes, %d more than after 1,000 rows", n, heap, heap-base)
			}
		}
	}
}

// FuzzReader checks that no input makes the Reader panic, that every record
// it returns either carries a *RowError for its line or holds values that
// pass the rules, and that lines only go forward. The byte picks the
// delimiter and the encoding the input is read with; in any encoding but
// UTF-8, an input the encoding check refuses is one a job never reads,
// and one it accepts must give no cell that is not UTF-8.
func FuzzReader(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "input", "*"))
	if err != nil {
		f.Fatal(err)
	}
	// The hostile corpus the job's tests write.
	hostile, err := filepath.Glob(filepath.Join("..", "testdata", "hostile", "*"))
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, hostile...)
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 8<<10 {
			continue // minimizing a large input takes the fuzzer minutes
		}
		f.Add(data, byte(0))
	}
	f.Add([]byte("firstname,lastname,email,password,hashfunction,groups,aliases,orgunit,manager\n"+
		"Ada,Lovelace,ada@example.org,correct horse,,math;art,al,/a/b,boss@example.org\n"+
		"Ada,Lovelace,,5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8,SHA-1,,,/,\n"), byte(0))
	f.Add([]byte("firstname;lastname;x\n\"a\nb\";c;d\n"), byte(1))
	delimiters := []rune{',', ';', '\t'}
	encodings := EncodingNames()
	// The hostile corpus read in every other encoding too.
	for _, name := range hostile {
		data, err := os.ReadFile(name)
		if err != nil || len(data) > 8<<10 {
			continue
		}
		for i := 1; i < len(encodings); i++ {
			f.Add(data, byte(i*len(delimiters)))
		}
	}

	f.Fuzz(func(t *testing.T, data []byte, pick byte) {
		opts := ReaderOptions{
			Delimiter: delimiters[int(pick)%len(delimiters)],
			Encoding:  encodings[int(pick)/len(delimiters)%len(encodings)],
			Domain:    "example.org",
		}
		enc, _ := lookupEncoding(opts.Encoding)
		check := newEncodingCheck(enc)
		check.Write(data)
		accepted := check.Close() == nil
		if !accepted && enc != encodingUTF8 {
			return
		}
		r, err := NewReader(strings.NewReader(string(data)), opts)
		if err != nil {
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("NewReader() error = %v, want a *HeaderError", err)
			}
			return
		}
		last := 1 // the last line read
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("Next() error = %v, want only row errors from a bytes reader", err)
			}
			if rec.Line <= last {
				t.Fatalf("Next() line = %d after line %d", rec.Line, last)
			}
			last = rec.Line
			if rec.Err != nil {
				var re *RowError
				if !errors.As(rec.Err, &re) || re.Line != rec.Line || re.EndLine < re.Line {
					t.Fatalf("Next() line %d error = %#v, want a *RowError for that line and the lines after it", rec.Line, rec.Err)
				}
				if want := fmt.Sprintf("lines %d–%d: ", re.Line, re.EndLine); re.EndLine > re.Line && !strings.HasPrefix(re.Error(), want) {
					t.Fatalf("Next() line %d error = %q, want it to start with %q", rec.Line, re, want)
				}
				last = re.EndLine
				if accepted && strings.Contains(re.Error(), "not valid UTF-8") {
					t.Fatalf("Next() line %d error = %q, in a file the encoding check accepts", rec.Line, re)
				}
				continue
			}
			if problem := invalid(rec, opts.Domain); problem != "" {
				t.Fatalf("Next() line %d = %+v, accepted although %s", rec.Line, rec, problem)
			}
		}
	})
}

// invalid restates the rules independently of validate.go: it returns why
// an accepted record breaks them, or "".
func invalid(rec Record, domain string) string {
	texts := []string{rec.ID, rec.FirstName, rec.LastName, rec.Email, rec.OrgUnit, rec.Password,
		rec.HashFunction, rec.Title, rec.Department, rec.Manager, rec.Phone}
	texts = append(texts, rec.Groups...)
	texts = append(texts, rec.Aliases...)
	for _, v := range rec.Custom {
		texts = append(texts, v)
	}
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return fmt.Sprintf("%q is not UTF-8 or holds a NUL", s)
		}
	}
	for _, name := range []string{rec.FirstName, rec.LastName} {
		if name == "" || utf8.RuneCountInString(name) > 60 || strings.ContainsAny(name, "<>=\n") {
			return fmt.Sprintf("name %q is empty, too long or holds < > = or a line break", name)
		}
	}
	for _, addr := range []string{rec.Email, rec.Manager} {
		if addr != "" && (strings.Count(addr, "@") != 1 || !strings.HasSuffix(addr, "@"+domain)) {
			return fmt.Sprintf("address %q is not one in %s", addr, domain)
		}
	}
	if !slices.Contains([]string{"", "SHA-1", "MD5", "crypt"}, rec.HashFunction) {
		return fmt.Sprintf("hash function %q is unknown", rec.HashFunction)
	}
	if rec.HashFunction == "" && rec.Password != "" {
		if n := len(rec.Password); n < 8 || n > 100 {
			return fmt.Sprintf("the password has %d characters", n)
		}
		for _, c := range rec.Password {
			if c < 0x20 || c > 0x7e {
				return "the password is not printable ASCII"
			}
		}
	}
	if rec.OrgUnit != "" && (rec.OrgUnit[0] != '/' || strings.Contains(rec.OrgUnit, "//") || len(rec.OrgUnit) > 1 && strings.HasSuffix(rec.OrgUnit, "/")) {
		return fmt.Sprintf("org unit %q is not a path", rec.OrgUnit)
	}
	for _, e := range slices.Concat(rec.Groups, rec.Aliases) {
		if e == "" || e != strings.ToLower(e) || strings.ContainsAny(e, " ;,\"") || strings.Contains(e, "..") {
			return fmt.Sprintf("group or alias %q is not a name or an address", e)
		}
	}
	return ""
}
