package batch

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

var update = flag.Bool("update", false, "rewrite testdata/hostile from the table in hostile_test.go")

// hostileDir holds the hostile corpus: CSV files that mix good rows with
// bad ones. A file named *.semicolon.csv or *.tab.csv is read with that
// delimiter.
const hostileDir = "testdata/hostile"

// hostileCase is one file of the corpus and what the job must make of it.
type hostileCase struct {
	file    string
	content string // the file's bytes; go test -update writes them
	// header is a substring of the *HeaderError the file must stop at,
	// before any side effect; "" when its header is good.
	header string
	// encoding is the config's encoding; "" is UTF-8.
	encoding string
	// refused is a substring of the *EncodingError the file must be
	// refused with, before any side effect, and suggest the encoding the
	// error must suggest.
	refused, suggest string
	// failed maps the line of each record that must fail to a substring of
	// its reason.
	failed map[int]string
	// created lists the lines of the records that must create an account.
	created []int
	// check, when set, looks at more: the report's rows by line, and the
	// emulator.
	check func(t *testing.T, e *env, rows map[int]reportRow)
}

// delimiterOf returns the config delimiter a corpus file is read with.
func delimiterOf(file string) string {
	switch {
	case strings.HasSuffix(file, ".semicolon.csv"):
		return ";"
	case strings.HasSuffix(file, ".tab.csv"):
		return "tab"
	}
	return ","
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func crlf(ls ...string) string { return strings.Join(ls, "\r\n") + "\r\n" }

// fields returns n cells: prefix1, prefix2, ...
func fields(prefix string, from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, from+i)
	}
	return out
}

func hostileCorpus() []hostileCase {
	a60, a61 := strings.Repeat("a", 60), strings.Repeat("a", 61)
	e60, e61 := strings.Repeat("é", 60), strings.Repeat("é", 61)
	pw100, pw101 := strings.Repeat("Pw1!", 25), strings.Repeat("Pw1!", 25)+"x"
	cols := slices.Concat([]string{"firstname", "lastname", "id"}, fields("c", 4, 997))
	manyRow := func(first, last, id string, n int) string {
		return strings.Join(slices.Concat([]string{first, last, id}, fields("v", 4, n-3)), ",")
	}
	withNUL := slices.Concat([]string{"Alan", "Turing", "35003"}, fields("v", 4, 997))
	withNUL[499] = "v\x00500"
	return append(hostileEncodingCorpus(), []hostileCase{
		{
			file:    "bom.csv",
			content: "\uFEFF" + lines("firstname,lastname,id", "Ada,Lovelace,1001", ",Nobody,1002", "Grace,Hopper,1003"),
			failed:  map[int]string{3: "firstname is empty"},
			created: []int{2, 4},
		},
		{
			file:    "crlf.csv",
			content: crlf("firstname,lastname,id", "Ada,Lovelace,2001", "Gr<ace,Hopper,2002", "Alan,Turing,2003"),
			failed:  map[int]string{3: `firstname contains "<"`},
			created: []int{2, 4},
		},
		{
			// A BOM, CRLF, and CRLF inside quoted fields.
			file: "bom_crlf_multiline.csv",
			content: "\uFEFF" + crlf("First Name,Last Name,Student ID,Note",
				"Ada,Lovelace,3001,\"line one\r\nline two\"",
				"Grace,Hopper,3002,",
				"\"Al\r\nan\",Turing,3003,",
				"Edsger,Dijkstra,3004,ok"),
			failed:  map[int]string{5: "lines 5–6: a quote opened on line 5 closes on line 6; 2 lines were read as one record: First Name contains a control character (U+000A)"},
			created: []int{2, 4, 7},
		},
		{
			file: "groups.semicolon.csv",
			content: lines("firstname;lastname;id;groups",
				`Jürgen;Müller;4001;"chess;drama"`,
				`Zoë;"Weiß, von";4002;`,
				"Ana;Lima;4003;chess;drama"),
			failed:  map[int]string{4: "wrong number of fields (the header has 4)"},
			created: []int{2, 3},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkGroups(t, e, rows[2].email, "chess@example.org", "drama@example.org")
			},
		},
		{
			file: "people.tab.csv",
			content: lines("firstname\tlastname\tid\tregion",
				"Ada\tLovelace\t5001\tNord",
				"\"Grace\tAnn\"\tHopper\t5002\tSüd",
				"Alan\tTuring\t5003\t\"Ost, West\""),
			failed:  map[int]string{3: "firstname contains a control character (U+0009)"},
			created: []int{2, 4},
		},
		{
			// A comma file read with ";": one column named after all of them.
			file:    "comma_read_as.semicolon.csv",
			content: lines("firstname,lastname,id", "Ada,Lovelace,6001"),
			header:  `there is no firstname column (looked for firstname, first name, given name, givenName, forename); rename a column or map it to firstname in the config's columns; the header is one column holding "firstname,lastname,id": if the file is ,-separated, set the delimiter to ","`,
		},
		{
			file:    "semicolons_read_as_comma.csv",
			content: lines("firstname;lastname;id", "Ada;Lovelace;6001"),
			header:  `if the file is ;-separated, set the delimiter to ";"`,
		},
		{
			file:    "tabs_read_as_comma.csv",
			content: lines("firstname\tlastname\tid", "Ada\tLovelace\t6001"),
			header:  `header column 1 ("firstname\tlastname\tid") contains a tab; if the file is tab-separated, set the delimiter to tab`,
		},
		{
			file:    "no_lastname_column.csv",
			content: lines("firstname,name,id", "Ada,Lovelace,7001"),
			header:  "there is no lastname column",
		},
		{
			// Excel's hint line for the delimiter is not a header.
			file:    "excel_sep_line.csv",
			content: lines("sep=;", "firstname;lastname", "Ada;Lovelace"),
			header:  `header: line 1 is Excel's "sep=;" line, not a header; delete it, and set the delimiter to ";"`,
		},
		{
			file: "extra_columns.csv",
			content: lines("firstname,lastname,id,Home Region,nickname,Klasse (2024),shoe size",
				"Ada,Lovelace,8001,Nord,ada,5a,38",
				"Grace,Hopper,8002,,,,"),
			created: []int{2, 3},
		},
		{
			// Excel's CSV UTF-8: a BOM, CRLF, and a cell for every column
			// ever used right of the table. Empty columns without a header
			// are ignored; a value in one fails its row.
			file: "excel_trailing_empty_columns.csv",
			content: "\uFEFF" + crlf("First Name,Last Name,Student ID,,",
				"Ada,Lovelace,10001,,",
				"Grace,Hopper,10002,, ",
				"Alan,Turing,10003,,5a",
				"Edsger,Dijkstra,10004,5a,",
				"Barbara,Liskov,10005"),
			failed: map[int]string{
				4: "line 4: column 5 has a value but no header; name the column in the header row, or empty the cell",
				5: "line 5: column 4 has a value but no header",
				6: "line 6: wrong number of fields (the header has 5, counting the 2 empty cells at its end)",
			},
			created: []int{2, 3},
		},
		{
			file:    "empty_header_cell_inside.csv",
			content: lines("First Name,,Last Name", "Ada,x,Lovelace"),
			header:  `header column 2 ("") is empty; name the column or remove it`,
		},
		{
			file:    "duplicate_header.csv",
			content: lines("firstname,lastname,Surname,id", "Ada,Lovelace,Byron,9001"),
			header:  `header column 3 ("Surname") is a second lastname column, after column 2`,
		},
		{
			file:    "duplicate_custom_header.csv",
			content: lines("firstname,lastname,Region,region", "Ada,Lovelace,Nord,Süd"),
			header:  `header column 4 ("region") is a second region column`,
		},
		{
			file: "empty_names.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,11001",
				",Lovelace,11002",
				"Ada,,11003",
				`"   ",Lovelace,11004`,
				`"",Hopper,11005`,
				"Grace,Hopper,11006"),
			failed: map[int]string{
				3: "line 3: firstname is empty",
				4: "line 4: lastname is empty",
				5: "line 5: firstname is empty",
				6: "line 6: firstname is empty",
			},
			created: []int{2, 7},
		},
		{
			// Google allows 60 characters, not bytes.
			file: "name_lengths.csv",
			content: lines("firstname,lastname,id",
				a60+",Lovelace,12001",
				a61+",Lovelace,12002",
				"Ada,"+e60+",12003",
				"Ada,"+e61+",12004"),
			failed: map[int]string{
				3: "firstname is longer than 60 characters (61)",
				5: "lastname is longer than 60 characters (61)",
			},
			created: []int{2, 4},
		},
		{
			file: "name_10000.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,13001",
				strings.Repeat("x", 10000)+",Lovelace,13002",
				"Grace,"+strings.Repeat("ü", 10000)+",13003",
				"Alan,Turing,13004"),
			failed: map[int]string{
				3: "firstname is longer than 60 characters (10000)",
				4: "lastname is longer than 60 characters (10000)",
			},
			created: []int{2, 5},
		},
		{
			file: "name_angle_equals.csv",
			content: lines("firstname,lastname,id",
				"Ada,Love<lace,14001",
				"Ada>,Lovelace,14002",
				"A=da,Lovelace,14003",
				"Ada & Co,O'Brien,14004"),
			failed: map[int]string{
				2: `lastname contains "<"; Google does not allow < > = in names`,
				3: `firstname contains ">"`,
				4: `firstname contains "="`,
			},
			created: []int{5},
		},
		{
			file:    "double_bom.csv",
			content: "\uFEFF\uFEFF" + lines("firstname,lastname", "Ada,Lovelace"),
			created: []int{2},
		},
		{
			file: "nul_bytes.csv",
			content: lines("firstname,lastname,id,region",
				"Ada\x00,Lovelace,17001,Nord",
				"Grace,Hopper,17002,No\x00rd",
				"Alan,Turing,\x0017003,Ost",
				"Edsger,Dijkstra,17004,West"),
			failed: map[int]string{
				2: "firstname contains a NUL byte",
				3: "region contains a NUL byte",
				4: "id contains a NUL byte",
			},
			created: []int{5},
		},
		{
			file:    "nul_in_header.csv",
			content: lines("firstname,last\x00name,id", "Ada,Lovelace,18001"),
			header:  `header column 2 ("last\x00name") contains a control character (U+0000)`,
		},
		{
			file: "quote_bare_middle.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,19001",
				`Gr"ace,Hopper,19002`,
				`"Alan"x,Turing,19003`,
				"Edsger,Dijkstra,19004"),
			failed: map[int]string{
				3: `bare " in non-quoted-field at line 3, byte 3`,
				4: `extraneous or missing " in quoted-field at line 4, byte 6`,
			},
			created: []int{2, 5},
		},
		{
			file: "quote_unclosed_end.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,20001",
				"Grace,Hopper,20002",
				`Alan,"Turing,20003`),
			failed:  map[int]string{4: "line 4: a quote opened on this line is never closed"},
			created: []int{2, 3},
		},
		{
			// A quote never closed takes every line after it into its
			// field: the report names them all.
			file: "quote_unclosed_swallows_end.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,20101",
				`Grace,"Hopper,20102`,
				"Alan,Turing,20103",
				"Edsger,Dijkstra,20104"),
			failed:  map[int]string{3: "lines 3–5: a quote is never closed, so the 3 lines to the end of the file were read as one record"},
			created: []int{2},
		},
		{
			// An opening quote takes the next lines into its field, up to
			// the next quote.
			file: "quote_swallows_lines.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,21001",
				`Grace,"Hopper,21002`,
				"Alan,Turing,21003",
				`Edsger,Dijkstra",21004`,
				"Barbara,Liskov,21005"),
			failed:  map[int]string{3: "lines 3–5: a quote opened on line 3 closes on line 5; 3 lines were read as one record: lastname contains a control character (U+000A)"},
			created: []int{2, 6},
		},
		{
			// A stray quote in a note on line 5 pairs with one on line 9:
			// five people's lines are one record of too many fields. A
			// stray pair on lines 11 and 12 ends in a bare quote. A note
			// over two lines, quoted as it should be, is read as usual.
			file: "quote_swallows_field_count.csv",
			content: lines("firstname,lastname,id,note",
				"Ada,Lovelace,21101,",
				`Barbara,Liskov,21102,"call back`+"\r\n"+`after 5"`,
				`Grace,Hopper,21104,"Amazing Grace`,
				"Alan,Turing,21105,",
				"Edsger,Dijkstra,21106,",
				"Donald,Knuth,21107,",
				`Ken,Thompson",21108,`,
				"Dennis,Ritchie,21109,",
				`Frances,"Allen,21110,`,
				`John,Backus",21111,x"y`,
				"Niklaus,Wirth,21112,"),
			failed: map[int]string{
				5:  "lines 5–9: a quote opened on line 5 closes on line 9; 5 lines were read as one record: wrong number of fields (the header has 4)",
				11: `lines 11–12: a quote opened on line 11 closes on line 12; 2 lines were read as one record: bare " in non-quoted-field at line 12`,
			},
			created: []int{2, 3, 10, 13},
		},
		{
			file: "duplicate_ids.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,22001",
				"Grace,Hopper,22001",
				"Alan,Turing, 22001 ",
				"Edsger,Dijkstra,22002",
				"Ada,Lovelace,22003"),
			failed: map[int]string{
				3: `line 3: the same ID "22001" as line 2`,
				4: `line 4: the same ID "22001" as line 2`,
			},
			created: []int{2, 5, 6},
		},
		{
			// Without an ID column a row is known by its content, so the
			// same person twice is caught, however the cells are spelled.
			file: "duplicate_rows_no_id.csv",
			content: lines("firstname,lastname,region",
				"Ada,Lovelace,Nord",
				"Ada,Lovelace,Nord",
				"ada, LOVELACE ,nord",
				"Ada,Lovelace,Süd"),
			failed: map[int]string{
				3: "line 3: the same content as line 2",
				4: "line 4: the same content as line 2",
			},
			created: []int{2, 5},
		},
		{
			// A blank ID in a file with an ID column fails the row: known
			// by its content instead, the person would be someone new to
			// whoever has their account under their ID, or will have.
			file: "blank_ids.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,   ",
				"Grace,Hopper,23002",
				"Ada,Lovelace,"),
			failed:  map[int]string{2: "line 2: id is empty", 4: "line 4: id is empty"},
			created: []int{3},
		},
		{
			// Names with = are refused (Google refuses them); the other
			// formula starters are names Google takes, and the report
			// neutralises them.
			file: "formula_names.csv",
			content: lines("firstname,lastname,id",
				`"=HYPERLINK(""http://x"",""y"")",Lovelace,24001`,
				`+cmd|' /C calc'!A0,Hopper,24002`,
				"@SUM(A1),Turing,24003",
				"-2+3,Dijkstra,24004",
				"Ada,=1+1,24005"),
			failed: map[int]string{
				2: `firstname contains "="`,
				// Google takes the name, but it gives no username: every
				// candidate starts with "-".
				5: `no pattern gives a valid username for firstname "-2+3"`,
				6: `lastname contains "="`,
			},
			created: []int{3, 4},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkCells(t, rows, map[int][2]string{
					2: {"firstname", `'=HYPERLINK("http://x","y")`},
					3: {"firstname", `'+cmd|' /C calc'!A0`},
					4: {"firstname", "'@SUM(A1)"},
					5: {"firstname", "'-2+3"},
					6: {"lastname", "'=1+1"},
				})
			},
		},
		{
			// Formulas in an ID or a custom column are data: accepted,
			// written to the account as they are, neutralised in the report.
			file: "formula_custom_and_id.csv",
			content: lines("firstname,lastname,id,region,note",
				`Ada,Lovelace,=1+1,"=HYPERLINK(""http://x"",""y"")",@SUM(A1)`,
				`Grace,Hopper,+25002,+cmd|' /C calc'!A0,-2+3`,
				"Alan,Turing,-25003,ok,ok",
				"Edsger,Dijkstra,@25004,ok,ok",
				"Barbara,Liskov,\t25005,ok,ok"),
			created: []int{2, 3, 4, 5, 6},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkCells(t, rows, map[int][2]string{
					2: {"id", "'=1+1"},
					3: {"id", "'+25002"},
					4: {"id", "'-25003"},
					5: {"id", "'@25004"},
					6: {"id", "25005"},
				})
			},
		},
		{
			file: "passwords.csv",
			content: lines("firstname,lastname,id,password",
				"Ada,Lovelace,26001,short77",
				"Grace,Hopper,26002,exactly8",
				"Alan,Turing,26003,"+pw101,
				"Edsger,Dijkstra,26004,"+pw100,
				"Barbara,Liskov,26005,pässwört123",
				`Donald,Knuth,26006," spaced pw "`,
				"Ken,Thompson,26007,密码密码密码密码"),
			failed: map[int]string{
				2: "password is shorter than 8 characters (7)",
				4: "password is longer than 100 characters (101)",
				6: "password may contain only printable ASCII characters",
				8: "password may contain only printable ASCII characters",
			},
			created: []int{3, 5, 7},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				for line, row := range rows {
					if strings.Contains(row.reason, "short77") || strings.Contains(row.reason, "pässwört") || row.password != "" {
						t.Errorf("line %d: the report shows a password given in the file: %+v", line, row)
					}
				}
			},
		},
		{
			file: "emails_invalid.csv",
			content: lines("firstname,lastname,id,email",
				"Ada,Lovelace,27001,not-an-email",
				"Grace,Hopper,27002,a@@example.org",
				"Alan,Turing,27003,a b@example.org",
				"Edsger,Dijkstra,27004,.ed@example.org",
				"Barbara,Liskov,27005,b..l@example.org",
				"Donald,Knuth,27006,dk@example",
				"Ken,Thompson,27007,Ken.Thompson@Example.org"),
			failed: map[int]string{
				2: `email "not-an-email" is not an address: it has no @`,
				3: `email "a@@example.org" is not a valid address: the part after @ is not a domain name`,
				4: `the part before @ contains ' '`,
				5: "the part before @ starts or ends with a dot",
				6: "the part before @ has two dots in a row",
				7: `email "dk@example" is not a valid address: the part after @ is not a domain name`,
			},
			created: []int{8},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				if rows[8].email != "ken.thompson@example.org" {
					t.Errorf("line 8 created %s, want ken.thompson@example.org", rows[8].email)
				}
			},
		},
		{
			// An address twice, in any case, or one a pattern gave an
			// earlier row, or a reserved one.
			file: "duplicate_emails.csv",
			content: lines("firstname,lastname,id,email",
				"Ada,Lovelace,45001,ada@example.org",
				"Grace,Hopper,45002,ADA@example.org",
				"Alan,Turing,45003,",
				"Edsger,Dijkstra,45004,alanturing@example.org",
				"Barbara,Liskov,45005,admin@example.org",
				"Donald,Knuth,45006,"),
			failed: map[int]string{
				3: "the address ada@example.org is already taken",
				5: "the address alanturing@example.org is already taken",
				6: "the address admin@example.org is on the reserved list",
			},
			created: []int{2, 4, 7},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				if rows[2].email != "ada@example.org" || rows[4].email != "alanturing@example.org" {
					t.Errorf("lines 2 and 4 created %s and %s, want ada@ and alanturing@", rows[2].email, rows[4].email)
				}
			},
		},
		{
			file: "aliases.csv",
			content: lines("firstname,lastname,id,aliases",
				"Ada,Lovelace,46001,ada;countess@example.org; ;ADA",
				"Grace,Hopper,46002,grace@evil.com",
				"Alan,Turing,46003,a b",
				"Edsger,Dijkstra,46004,=ed"),
			failed: map[int]string{
				3: `aliases "grace@evil.com" is not in the domain example.org`,
				4: `aliases "a b" is not a valid alias`,
				5: `aliases "=ed" is not a valid alias: it contains '='`,
			},
			created: []int{2},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				u, _ := e.user(rows[2].email)
				if got, want := slices.Sorted(slices.Values(u.Aliases)), []string{"ada@example.org", "countess@example.org"}; !slices.Equal(got, want) {
					t.Errorf("%s has aliases %q, want %q", u.PrimaryEmail, got, want)
				}
			},
		},
		{
			// An alias is held in file order, as a name is: the next rows
			// are named around it, whatever the concurrency.
			file: "aliases_vs_names.csv",
			content: lines("firstname,lastname,id,aliases",
				"Ada,Lovelace,48001,gracehopper",
				"Grace,Hopper,48002,",
				"Alan,Turing,48003,adalovelace",
				"Edsger,Dijkstra,48004,admin;edsgerdijkstra"),
			failed:  map[int]string{4: "the alias adalovelace@example.org is already taken"},
			created: []int{2, 3, 5},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				if rows[3].email != "grace.hopper@example.org" {
					t.Errorf("line 3 created %s, want grace.hopper@example.org: gracehopper is line 2's alias", rows[3].email)
				}
				if u, _ := e.user(rows[2].email); !slices.Equal(u.Aliases, []string{"gracehopper@example.org"}) {
					t.Errorf("%s has aliases %q, want gracehopper@example.org", u.PrimaryEmail, u.Aliases)
				}
			},
		},
		{
			file: "password_hashes.csv",
			content: lines("firstname,lastname,id,password,hash function",
				"Ada,Lovelace,47001,5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8,SHA-1",
				"Grace,Hopper,47002,5baa61e4c9b93f3f,SHA-1",
				"Alan,Turing,47003,correct horse,rot13",
				"Edsger,Dijkstra,47004,,MD5",
				"Barbara,Liskov,47005,$6$rounds=99999$saltsalt$"+strings.Repeat("a", 86)+",crypt",
				"Donald,Knuth,47006,$6$saltsalt$"+strings.Repeat("a", 86)+",CRYPT"),
			failed: map[int]string{
				3: "password is not a SHA-1 hash: it must be 40 hexadecimal digits",
				4: `hash function "rot13" is not a hash function Google accepts`,
				5: "hash function is MD5, but there is no password",
				6: "password is a crypt hash of more than 10000 rounds",
			},
			created: []int{2, 7},
		},
		{
			file: "emails_outside_domain.csv",
			content: lines("firstname,lastname,id,email",
				"Ada,Lovelace,28001,ada@evil.com",
				"Grace,Hopper,28002,grace@example.org.evil.com",
				"Alan,Turing,28003,alan@sub.example.org",
				"Edsger,Dijkstra,28004,edsger@EXAMPLE.ORG"),
			failed: map[int]string{
				2: `"ada@evil.com" is not in the domain example.org`,
				3: `"grace@example.org.evil.com" is not in the domain example.org`,
				4: `"alan@sub.example.org" is not in the domain example.org`,
			},
			created: []int{5},
		},
		{
			file: "orgunit_paths.csv",
			content: lines("firstname,lastname,id,orgunit",
				"Ada,Lovelace,29001,Students",
				"Grace,Hopper,29002,/Students/",
				"Alan,Turing,29003,/Students//5a",
				"Edsger,Dijkstra,29004,/",
				"Barbara,Liskov,29005,/Students/5a",
				"Donald,Knuth,29006,",
				"Ken,Thompson,29007,/Students/ /x"),
			failed: map[int]string{
				2: `orgunit "Students" does not start with "/"`,
				3: `orgunit "/Students/" ends with "/"`,
				4: `orgunit "/Students//5a" has an empty part`,
				8: `orgunit "/Students/ /x" has an empty part`,
			},
			created: []int{5, 6, 7},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				for line, want := range map[int]string{5: "/", 6: "/Students/5a", 7: "/"} {
					if u, _ := e.user(rows[line].email); u.OrgUnitPath != want {
						t.Errorf("line %d: %s is in %q, want %q", line, u.PrimaryEmail, u.OrgUnitPath, want)
					}
				}
			},
		},
		{
			file: "groups_blanks.csv",
			content: lines("firstname,lastname,id,groups",
				"Ada,Lovelace,30001,a;;b; ;c",
				"Grace,Hopper,30002,;;;",
				"Alan,Turing,30003,chess;CHESS; chess ",
				"Edsger,Dijkstra,30004,a b;c",
				"Barbara,Liskov,30005,c;"),
			failed:  map[int]string{5: `groups "a b" is not a valid group name`},
			created: []int{2, 3, 4, 6},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkGroups(t, e, rows[2].email, "a@example.org", "b@example.org", "c@example.org")
				checkGroups(t, e, rows[3].email)
				checkGroups(t, e, rows[4].email, "chess@example.org")
				checkGroups(t, e, rows[6].email, "c@example.org")
			},
		},
		{
			file:    "empty.csv",
			content: "",
			header:  "the file is empty",
		},
		{
			file:    "header_only.csv",
			content: lines("firstname,lastname,id"),
		},
		{
			file:    "blank_lines_only.csv",
			content: "\n\r\n\n\r\n",
			header:  "the file is empty",
		},
		{
			// Blank lines are skipped; lines keep their numbers.
			file:    "blank_lines_between.csv",
			content: lines("firstname,lastname,id", "", "Ada,Lovelace,34001", "\r", "", "Grace,Hopper,34002", ",,", ""),
			failed:  map[int]string{7: "line 7: firstname is empty"},
			created: []int{3, 6},
		},
		{
			file: "many_columns.csv",
			content: lines(strings.Join(cols, ","),
				manyRow("Ada", "Lovelace", "35001", 1000),
				manyRow("Grace", "Hopper", "35002", 999),
				strings.Join(withNUL, ",")),
			failed: map[int]string{
				3: "line 3: wrong number of fields (the header has 1000)",
				4: "line 4: c500 contains a NUL byte",
			},
			created: []int{2},
		},
		{
			file: "row_10000_fields.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace,36001",
				manyRow("Grace", "Hopper", "36002", 10000),
				"Alan,Turing,36003"),
			failed:  map[int]string{3: "line 3: wrong number of fields (the header has 3)"},
			created: []int{2, 4},
		},
		{
			// Old Mac files end lines with CR alone, which encoding/csv
			// does not take for a line break: the file is one line.
			file:    "cr_only.csv",
			content: "firstname,lastname,id\rAda,Lovelace,37001\rGrace,Hopper,37002\r",
			header:  `header column 3 ("id\rAda") contains a carriage return: the file's lines end with CR alone, as old Mac files do; save it with LF or CRLF line endings`,
		},
		{
			file: "embedded_newline.csv",
			content: lines("firstname,lastname,id,note",
				"Ada,Lovelace,38001,\"first line\nsecond line\"",
				"\"Grace\nBrewster\",Hopper,38002,",
				`Alan,Turing,38003,"a ""quoted"" word"`,
				"Edsger,Dijkstra,38004,ok"),
			failed:  map[int]string{4: "lines 4–5: a quote opened on line 4 closes on line 5; 2 lines were read as one record: firstname contains a control character (U+000A)"},
			created: []int{2, 6, 7},
		},
		{
			file: "headers_mixed_case.csv",
			content: lines("GIVEN NAME,Family_Name,Student-ID,E-Mail,OrgUnitPath,Group(s),JOB TITLE,Mobile",
				"Ada,Lovelace,39001,ada@example.org,/Staff,math;art,Analyst,+44 20 1234",
				"Grace,Hopper,39002,,/Staff,,Admiral,"),
			created: []int{2, 3},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				if rows[2].email != "ada@example.org" || rows[2].orgUnit != "/Staff" {
					t.Errorf("line 2 = %s in %s, want ada@example.org in /Staff", rows[2].email, rows[2].orgUnit)
				}
				checkGroups(t, e, "ada@example.org", "art@example.org", "math@example.org")
			},
		},
		{
			file: "quoted_headers.csv",
			content: lines(`"First Name","Last Name","ID"`,
				`" Ada "," Lovelace ",40001`,
				`"Grace","Hopper","40002"`),
			created: []int{2, 3},
		},
		{
			file: "long_cells.csv",
			content: lines("firstname,lastname,id,region",
				"Ada,Lovelace,41001,"+strings.Repeat("x", 1025),
				"Grace,Hopper,41002,"+strings.Repeat("x", 1024),
				"Alan,Turing,"+strings.Repeat("1", 1025)+",ok"),
			failed: map[int]string{
				2: "line 2: region is longer than 1024 bytes (1025)",
				4: "line 4: id is longer than 1024 bytes (1025)",
			},
			created: []int{3},
		},
		{
			file: "wrong_field_count.csv",
			content: lines("firstname,lastname,id",
				"Ada,Lovelace",
				"Grace,Hopper,42002,extra",
				"Alan,Turing,42003",
				"Edsger"),
			failed: map[int]string{
				2: "line 2: wrong number of fields (the header has 3)",
				3: "line 3: wrong number of fields (the header has 3)",
				5: "line 5: wrong number of fields (the header has 3)",
			},
			created: []int{4},
		},
		{
			file: "control_chars.csv",
			content: lines("firstname,lastname,id,note",
				"Ada\x07,Lovelace,43001,x",
				"Grace,Hop\x1b[31mper,43002,x",
				"Alan,Turing,43003,\x1b[31mred",
				"Edsger,Dijkstra\u0085,43004,x"),
			// ESC starts the sequences that recolour or rewrite a terminal:
			// refused in every column, a custom one included.
			failed: map[int]string{
				2: "firstname contains a control character (U+0007)",
				3: "lastname contains a control character (U+001B)",
				4: "note contains a control character (U+001B)",
			},
			created: []int{5},
		},
		{
			file: "invisible_names.csv",
			content: lines("firstname,lastname,id",
				"\u200b,Lovelace,44001",
				"Ada\u202e,Lovelace,44002",
				"\u00a0Grace\u00a0,Hopper,44003",
				"李,王,44004"),
			// A zero-width space and a right-to-left override are names
			// Google takes, but they hide what the name says.
			failed: map[int]string{
				2: "line 2: firstname contains the invisible character U+200B (ZERO WIDTH SPACE)",
				3: "line 3: firstname contains the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE)",
			},
			created: []int{4, 5},
		},
	}...)
}

// reportRow is one row of the report.
type reportRow struct {
	line                                  int
	id, first, last, email, orgUnit       string
	groups, status, reason, password, raw string
}

// checkGroups checks the groups an address is a direct member of.
func checkGroups(t *testing.T, e *env, email string, want ...string) {
	t.Helper()
	if got := e.groupsOf(email); !slices.Equal(got, want) {
		t.Errorf("%s is in groups %q, want %q", email, got, want)
	}
}

// checkCells checks report cells, by line and column name.
func checkCells(t *testing.T, rows map[int]reportRow, want map[int][2]string) {
	t.Helper()
	for line, w := range want {
		r := rows[line]
		got := map[string]string{"id": r.id, "firstname": r.first, "lastname": r.last}[w[0]]
		if got != w[1] {
			t.Errorf("report line %d: %s = %q, want %q", line, w[0], got, w[1])
		}
	}
}

// unneutralised returns a report cell as the input had it.
func unneutralised(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(cell[1])) {
		return cell[1:]
	}
	return cell
}

// checkReportFile checks that the report is text a spreadsheet can open
// safely: valid UTF-8, no NUL, no cell it would run as a formula.
func checkReportFile(t *testing.T, path string) map[int]reportRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(data) {
		t.Errorf("the report is not valid UTF-8")
	}
	if i := strings.IndexByte(string(data), 0); i >= 0 {
		t.Errorf("the report has a NUL at byte %d", i)
	}
	recs := readCSV(t, path)
	if len(recs) == 0 || !slices.Equal(recs[0], report.Columns()) {
		t.Fatalf("the report's header is %q, want %q", recs[0], report.Columns())
	}
	rows := map[int]reportRow{}
	for _, rec := range recs[1:] {
		for i, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("report cell %s = %q: a spreadsheet runs it as a formula", report.Columns()[i], cell)
			}
		}
		line, err := strconv.Atoi(rec[0])
		if err != nil {
			t.Fatalf("report line %q: %v", rec[0], err)
		}
		if _, dup := rows[line]; dup {
			t.Errorf("the report has line %d twice", line)
		}
		rows[line] = reportRow{line: line, id: rec[1], first: rec[2], last: rec[3], email: rec[4], orgUnit: rec[5],
			groups: rec[6], status: rec[7], reason: rec[8], password: rec[9], raw: strings.Join(rec, ",")}
	}
	return rows
}

// TestHostileCorpus runs the job on every file of testdata/hostile against
// the emulator and checks that bad rows fail with a reason naming their
// line, good rows are created, the report has a line per record and is
// safe to open, and a bad header stops the job before any side effect.
// Then a second run creates nobody, and plan, on a fresh directory, plans
// what run created and changes nothing.
func TestHostileCorpus(t *testing.T) {
	corpus := hostileCorpus()
	if *update {
		writeCorpus(t, corpus)
	}
	onDisk, err := filepath.Glob(filepath.Join(hostileDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	for _, tc := range corpus {
		inTable[tc.file] = true
	}
	for _, path := range onDisk {
		if !inTable[filepath.Base(path)] {
			t.Errorf("%s is not in the table of hostile_test.go; run go test ./batch -run TestHostileCorpus -update", path)
		}
	}
	if len(corpus) < 40 {
		t.Errorf("the corpus has %d files, want at least 40", len(corpus))
	}

	// The jobs wait on fsync more than they compute: run more of them at
	// once than -parallel (GOMAXPROCS) would.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	defer wg.Wait()
	for _, tc := range corpus {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t.Run(tc.file, func(t *testing.T) { runHostileCase(t, tc) })
		})
	}
}

// runHostileCase runs the job on one file of the corpus and checks it.
func runHostileCase(t *testing.T, tc hostileCase) {
	data, err := os.ReadFile(filepath.Join(hostileDir, tc.file))
	if err != nil {
		t.Fatalf("%v; run go test ./batch -run TestHostileCorpus -update", err)
	}
	if string(data) != tc.content {
		t.Fatalf("%s differs from its content in hostile_test.go; run go test ./batch -run TestHostileCorpus -update", tc.file)
	}
	e := newEnv(t, emulator.Options{}, string(data))
	e.cfg.Delimiter = delimiterOf(tc.file)
	e.cfg.Encoding = tc.encoding
	sum, err := e.run(t.Context(), Run)
	switch {
	case tc.header != "":
		checkHeaderStop(t, e, err, tc.header)
		return
	case tc.refused != "":
		checkRefused(t, e, err, tc.refused, tc.suggest)
		return
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkRun(t, e, tc, sum)
	if t.Failed() {
		return
	}
	if len(tc.created) > 0 && len(tc.failed) > 0 {
		// Files of good and bad rows, again: the others would add
		// time, not cases.
		checkRerun(t, e, tc)
		checkPlan(t, tc)
	}
}

// checkRerun runs the job again on the same journal: it creates nobody,
// skips the rows created, and fails the others again.
func checkRerun(t *testing.T, e *env, tc hostileCase) {
	t.Helper()
	before := len(e.emu.State().Users)
	sum, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if sum.Statuses[report.StatusSkipped] != len(tc.created) || sum.Statuses[report.StatusFailed] != len(tc.failed) || sum.Total() != len(tc.created)+len(tc.failed) {
		t.Errorf("second run statuses = %v, want %d skipped and %d failed", sum.Statuses, len(tc.created), len(tc.failed))
	}
	if after := len(e.emu.State().Users); after != before {
		t.Errorf("the second run made %d accounts", after-before)
	}
}

// checkPlan plans the file on a fresh directory and journal: it plans the
// rows run creates, fails the same ones, and changes nothing.
func checkPlan(t *testing.T, tc hostileCase) {
	t.Helper()
	e := newEnv(t, emulator.Options{}, tc.content)
	e.cfg.Delimiter = delimiterOf(tc.file)
	e.cfg.Encoding = tc.encoding
	sum, err := e.run(t.Context(), Plan)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	rows := checkReportFile(t, e.report)
	for line, row := range rows {
		_, failed := tc.failed[line]
		if want := map[bool]string{true: report.StatusFailed, false: report.StatusPlanned}[failed]; row.status != want {
			t.Errorf("plan: report line %d = %s %q, want %s", line, row.status, row.reason, want)
		}
	}
	if sum.Statuses[report.StatusPlanned] != len(tc.created) || sum.Statuses[report.StatusFailed] != len(tc.failed) || len(rows) != len(tc.created)+len(tc.failed) {
		t.Errorf("plan statuses = %v over %d report lines, want %d planned and %d failed", sum.Statuses, len(rows), len(tc.created), len(tc.failed))
	}
	if st := e.emu.State(); len(st.Users) != 0 || len(st.Groups) != 0 || len(st.OrgUnits) > 1 {
		t.Errorf("plan changed the directory: %d users, %d groups, %d org units", len(st.Users), len(st.Groups), len(st.OrgUnits))
	}
}

// checkHeaderStop checks that the job stopped at the header with a
// *HeaderError and did nothing: no request, no report, no run journaled.
func checkHeaderStop(t *testing.T, e *env, err error, want string) {
	t.Helper()
	var he *input.HeaderError
	if !errors.As(err, &he) {
		t.Fatalf("Run error = %v, want a *HeaderError", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Run error = %q, want it to contain %q", err, want)
	}
	checkNothingDone(t, e)
}

// checkNothingDone checks that a job that stopped before its first row did
// nothing: no request, no report, no run journaled.
func checkNothingDone(t *testing.T, e *env) {
	t.Helper()
	if n := e.emu.Stats().Requests; n != 0 {
		t.Errorf("the emulator received %d requests, want none before the header is read", n)
	}
	if _, err := os.Stat(e.report); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a report was written: %v", err)
	}
	j, err := journal.Open(t.Context(), e.journal, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if run, found, err := j.LastRun(t.Context()); err != nil || found {
		t.Errorf("the journal holds a run (%+v, %v), want none", run, err)
	}
}

// checkRun checks a finished job against its case.
func checkRun(t *testing.T, e *env, tc hostileCase, sum *Summary) {
	t.Helper()
	rows := checkReportFile(t, e.report)
	var want []int
	for line := range tc.failed {
		want = append(want, line)
	}
	want = append(want, tc.created...)
	slices.Sort(want)
	var got []int
	for line := range rows {
		got = append(got, line)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the report has lines %v, want one per record: %v", got, want)
	}
	for line, reason := range tc.failed {
		row, ok := rows[line]
		if !ok {
			continue
		}
		named := strings.HasPrefix(row.reason, fmt.Sprintf("line %d: ", line)) || strings.HasPrefix(row.reason, fmt.Sprintf("lines %d–", line))
		if row.status != report.StatusFailed || !named || !strings.Contains(row.reason, reason) {
			t.Errorf("report line %d = %s %q, want failed, naming line %d, with %q", line, row.status, row.reason, line, reason)
		}
	}
	st := e.emu.State()
	for _, line := range tc.created {
		row, ok := rows[line]
		if !ok {
			continue
		}
		if row.status != report.StatusCreated || row.reason != "" {
			t.Errorf("report line %d = %s %q, want created", line, row.status, row.reason)
			continue
		}
		u, ok := e.user(row.email)
		if !ok {
			t.Errorf("line %d: no account %q in the directory", line, row.email)
			continue
		}
		if first, last := unneutralised(row.first), unneutralised(row.last); u.GivenName != first || u.FamilyName != last {
			t.Errorf("line %d: %s is named %q %q, want %q %q", line, row.email, u.GivenName, u.FamilyName, first, last)
		}
		if strings.ContainsFunc(u.GivenName+u.FamilyName, unicode.IsControl) {
			t.Errorf("line %d: %s is named %q %q, with a control character", line, row.email, u.GivenName, u.FamilyName)
		}
		if id := unneutralised(row.id); id != "" && !slices.ContainsFunc(u.ExternalIDs, func(x emulator.ExternalID) bool { return x.Value == id }) {
			t.Errorf("line %d: %s has external IDs %+v, want %q among them", line, row.email, u.ExternalIDs, id)
		}
	}
	if len(st.Users) != len(tc.created) {
		t.Errorf("the directory has %d accounts, want %d", len(st.Users), len(tc.created))
	}
	if sum.Statuses[report.StatusCreated] != len(tc.created) || sum.Statuses[report.StatusFailed] != len(tc.failed) || sum.Total() != len(want) {
		t.Errorf("summary statuses = %v, want %d created and %d failed", sum.Statuses, len(tc.created), len(tc.failed))
	}
	if tc.check != nil {
		tc.check(t, e, rows)
	}
	if t.Failed() {
		for _, line := range got {
			t.Logf("report: %s", rows[line].raw)
		}
	}
}

// writeCorpus rewrites testdata/hostile from the table.
func writeCorpus(t *testing.T, corpus []hostileCase) {
	t.Helper()
	if err := os.RemoveAll(hostileDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(hostileDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range corpus {
		if err := os.WriteFile(filepath.Join(hostileDir, tc.file), []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHostileLongLine runs the job on a file with a line of 2 MiB, made
// here rather than kept in the corpus: its record fails, the rows around it
// are created.
func TestHostileLongLine(t *testing.T) {
	t.Parallel()
	tc := hostileCase{
		content: lines("firstname,lastname,id",
			"Ada,Lovelace,50001",
			"Bad,Row,"+strings.Repeat("9", 2<<20),
			"Grace,\"Hopper\n"+strings.Repeat("x", 2<<20)+"\",50003",
			"Alan,Turing,50004"),
		failed: map[int]string{
			3: "line 3: the line is longer than 1 MiB; the rest of it was skipped unread",
			4: "lines 4–5: a quote opened on line 4 closes on line 5; 2 lines were read as one record: line 5 of the record is longer than 1 MiB",
		},
		created: []int{2, 6},
	}
	e := newEnv(t, emulator.Options{}, tc.content)
	sum, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkRun(t, e, tc, sum)
}
