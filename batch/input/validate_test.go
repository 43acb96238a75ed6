package input

import (
	"encoding/csv"
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	var (
		long   = strings.Repeat("a", 10_000)
		sha1   = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"
		md5    = "5F4DCC3B5AA765D61D8327DEB882CF99"
		crypt1 = "$1$saltsalt$" + strings.Repeat("x", 22)
		crypt5 = "$5$rounds=5000$saltsaltsaltsalt$" + strings.Repeat("./", 21) + "a"
		crypt6 = "$6$salt$" + strings.Repeat("Ab1", 28) + "zz"
	)
	tests := []struct {
		name   string
		in     string // a header and rows; the last row is checked
		domain string // "example.org" unless "-"
		want   string // the last record's error, "" for none
	}{
		// Names.
		{name: "valid names", in: "firstname,lastname\nAda,Lovelace"},
		{name: "empty firstname", in: "firstname,lastname\n,Lovelace", want: "line 2: firstname is empty"},
		{name: "blank lastname", in: "firstname,lastname\nAda,   ", want: "line 2: lastname is empty"},
		{name: "name of 60 characters", in: "firstname,lastname\nAda," + strings.Repeat("é", 60)},
		{name: "name of 61 characters", in: "firstname,lastname\nAda," + strings.Repeat("é", 61), want: "line 2: lastname is longer than 60 characters (61)"},
		{name: "name of 10,000 characters", in: "firstname,lastname\n" + long + ",Lovelace", want: "line 2: firstname is longer than 60 characters (10000)"},
		{name: "less-than in a name", in: "firstname,lastname\n<b>Ada,Lovelace", want: `line 2: firstname contains "<"; Google does not allow < > = in names`},
		{name: "greater-than in a name", in: "firstname,lastname\nAda,Love>lace", want: `line 2: lastname contains ">"; Google does not allow < > = in names`},
		{name: "formula as a name", in: "firstname,lastname\n=HYPERLINK(1),Lovelace", want: `line 2: firstname contains "="; Google does not allow < > = in names`},
		{name: "line break in a name", in: "firstname,lastname\n\"Ada\nMarie\",Lovelace", want: "lines 2–3: a quote opened on line 2 closes on line 3; 2 lines were read as one record: firstname contains a control character (U+000A); a name is one line of text"},
		{name: "name with spaces, hyphen and apostrophe", in: "firstname,lastname\nMarie-Anne,O'Neil van der Berg"},

		// Encoding, in every cell.
		{name: "invalid UTF-8 in a name", in: "firstname,lastname\nAd\xe9,Lovelace", want: "line 2: firstname is not valid UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)"},
		{name: "invalid UTF-8 in a custom cell", in: "firstname,lastname,Home Region\nAda,Lovelace,Nord\xff", want: "line 2: Home Region is not valid UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)"},
		{name: "invalid UTF-8 in a password", in: "firstname,lastname,password\nAda,Lovelace,secret\xc0\xafpass", want: "line 2: password is not valid UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)"},
		{name: "NUL in a name", in: "firstname,lastname\nAda\x00,Lovelace", want: "line 2: firstname contains a NUL byte"},
		{name: "NUL in a title", in: "firstname,lastname,title\nAda,Lovelace,Count\x00ess", want: "line 2: title contains a NUL byte"},

		// Explicit email.
		{name: "email", in: "firstname,lastname,email\nAda,Lovelace, Ada.Lovelace@Example.ORG "},
		{name: "email with an apostrophe", in: "firstname,lastname,email\nAda,Lovelace,o'neil@example.org"},
		{name: "email without @", in: "firstname,lastname,email\nAda,Lovelace,ada", want: `line 2: email "ada" is not an address: it has no @`},
		{name: "email with two @", in: "firstname,lastname,email\nAda,Lovelace,ada@b@example.org", want: `line 2: email "ada@b@example.org" is not a valid address: the part after @ is not a domain name`},
		{name: "email with a space", in: "firstname,lastname,email\nAda,Lovelace,ada lovelace@example.org", want: `line 2: email "ada lovelace@example.org" is not a valid address: the part before @ contains ' '; only letters a-z, digits and . _ - ' are allowed`},
		{name: "email with a plus", in: "firstname,lastname,email\nAda,Lovelace,ada+x@example.org", want: `line 2: email "ada+x@example.org" is not a valid address: the part before @ contains '+'; only letters a-z, digits and . _ - ' are allowed`},
		{name: "email starting with a dot", in: "firstname,lastname,email\nAda,Lovelace,.ada@example.org", want: `line 2: email ".ada@example.org" is not a valid address: the part before @ starts or ends with a dot`},
		{name: "email ending with a dot", in: "firstname,lastname,email\nAda,Lovelace,ada.@example.org", want: `line 2: email "ada.@example.org" is not a valid address: the part before @ starts or ends with a dot`},
		{name: "email with two dots", in: "firstname,lastname,email\nAda,Lovelace,ada..l@example.org", want: `line 2: email "ada..l@example.org" is not a valid address: the part before @ has two dots in a row`},
		{name: "email with an empty local part", in: "firstname,lastname,email\nAda,Lovelace,@example.org", want: `line 2: email "@example.org" is not a valid address: the part before @ is empty`},
		{name: "email with 64 characters before @", in: "firstname,lastname,email\nAda,Lovelace," + strings.Repeat("a", 64) + "@example.org"},
		{name: "email with 65 characters before @", in: "firstname,lastname,email\nAda,Lovelace," + strings.Repeat("a", 65) + "@example.org", want: `line 2: email "` + strings.Repeat("a", 65) + `@example.org" is not a valid address: the part before @ is longer than 64 characters (65)`},
		{name: "email with a one-label domain", in: "firstname,lastname,email\nAda,Lovelace,ada@example", want: `line 2: email "ada@example" is not a valid address: the part after @ is not a domain name`},
		{name: "email with a hyphen first in the domain", in: "firstname,lastname,email\nAda,Lovelace,ada@-example.org", want: `line 2: email "ada@-example.org" is not a valid address: the part after @ is not a domain name`},
		{name: "email in another domain", in: "firstname,lastname,email\nAda,Lovelace,ada@other.org", want: `line 2: email "ada@other.org" is not in the domain example.org`},
		{name: "email in a subdomain", in: "firstname,lastname,email\nAda,Lovelace,ada@mail.example.org", want: `line 2: email "ada@mail.example.org" is not in the domain example.org`},
		{name: "email in any domain without one configured", in: "firstname,lastname,email\nAda,Lovelace,ada@other.org", domain: "-"},

		// Passwords.
		{name: "password of 7 characters", in: "firstname,lastname,password\nAda,Lovelace,1234567", want: "line 2: password is shorter than 8 characters (7)"},
		{name: "password of 8 characters", in: "firstname,lastname,password\nAda,Lovelace,12345678"},
		{name: "password of 100 characters", in: "firstname,lastname,password\nAda,Lovelace," + strings.Repeat("p", 100)},
		{name: "password of 101 characters", in: "firstname,lastname,password\nAda,Lovelace," + strings.Repeat("p", 101), want: "line 2: password is longer than 100 characters (101)"},
		{name: "password with spaces", in: "firstname,lastname,password\nAda,Lovelace,  a b c  "},
		{name: "password with punctuation", in: "firstname,lastname,password\nAda,Lovelace,\"!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\"\"\""},
		{name: "non-ASCII password", in: "firstname,lastname,password\nAda,Lovelace,pässwört123", want: "line 2: password may contain only printable ASCII characters: letters a-z and A-Z, digits, punctuation and spaces"},
		{name: "password with a tab", in: "firstname,lastname,password\nAda,Lovelace,\"pass\tword\"", want: "line 2: password may contain only printable ASCII characters: letters a-z and A-Z, digits, punctuation and spaces"},

		// Hashed passwords.
		{name: "SHA-1", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + sha1 + ",SHA-1"},
		{name: "sha-1 in lowercase", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + sha1 + ", sha-1 "},
		{name: "SHA-1 too short", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + sha1[1:] + ",SHA-1", want: "line 2: password is not a SHA-1 hash: it must be 40 hexadecimal digits"},
		{name: "SHA-1 not hexadecimal", in: "firstname,lastname,password,hashfunction\nAda,Lovelace,g" + sha1[1:] + ",SHA-1", want: "line 2: password is not a SHA-1 hash: it must be 40 hexadecimal digits"},
		{name: "MD5", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + md5 + ",md5"},
		{name: "MD5 of SHA-1 length", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + sha1 + ",MD5", want: "line 2: password is not an MD5 hash: it must be 32 hexadecimal digits"},
		{name: "crypt MD5", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + crypt1 + ",crypt"},
		{name: "crypt SHA-256 with rounds", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + crypt5 + ",CRYPT"},
		{name: "crypt SHA-512", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + crypt6 + ",crypt"},
		{name: "crypt with too many rounds", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + strings.Replace(crypt5, "5000", "20000", 1) + ",crypt", want: "line 2: password is a crypt hash of more than 10000 rounds, which Google does not accept"},
		{name: "crypt SHA-512 cut short", in: "firstname,lastname,password,hashfunction\nAda,Lovelace," + crypt6[:len(crypt6)-1] + ",crypt", want: "line 2: password is not a crypt hash: it must look like $6$salt$hash, with $1$ (MD5), $5$ (SHA-256) or $6$ (SHA-512)"},
		{name: "bcrypt", in: "firstname,lastname,password,hashfunction\nAda,Lovelace,$2b$10$" + strings.Repeat("a", 53) + ",crypt", want: "line 2: password is not a crypt hash: it must look like $6$salt$hash, with $1$ (MD5), $5$ (SHA-256) or $6$ (SHA-512)"},
		{name: "crypt DES", in: "firstname,lastname,password,hashfunction\nAda,Lovelace,abJnggxhB/yWI,crypt", want: "line 2: password is not a crypt hash: it must look like $6$salt$hash, with $1$ (MD5), $5$ (SHA-256) or $6$ (SHA-512)"},
		{name: "unknown hash function", in: "firstname,lastname,password,hashfunction\nAda,Lovelace,whatever,SHA256", want: `line 2: hashfunction "SHA256" is not a hash function Google accepts; use SHA-1, MD5 or crypt`},
		{name: "unknown hash function before the password", in: "firstname,lastname,hashfunction,password\nAda,Lovelace,bcrypt,x", want: `line 2: hashfunction "bcrypt" is not a hash function Google accepts; use SHA-1, MD5 or crypt`},
		{name: "hash function without a password", in: "firstname,lastname,password,hashfunction\nAda,Lovelace,,MD5", want: "line 2: hashfunction is MD5, but there is no password"},
		{name: "hash function without a password column", in: "firstname,lastname,hashfunction\nAda,Lovelace,MD5", want: "line 2: hashfunction is MD5, but there is no password"},

		// Org units.
		{name: "root org unit", in: "firstname,lastname,orgunit\nAda,Lovelace,/"},
		{name: "org unit", in: "firstname,lastname,orgunit\nAda,Lovelace, /Students/Class 5a "},
		{name: "org unit without a leading slash", in: "firstname,lastname,orgunit\nAda,Lovelace,Students/5a", want: `line 2: orgunit "Students/5a" does not start with "/"`},
		{name: "org unit with a trailing slash", in: "firstname,lastname,orgunit\nAda,Lovelace,/Students/", want: `line 2: orgunit "/Students/" ends with "/"`},
		{name: "org unit with an empty part", in: "firstname,lastname,orgunit\nAda,Lovelace,/Students//5a", want: `line 2: orgunit "/Students//5a" has an empty part`},
		{name: "org unit with a blank part", in: "firstname,lastname,orgunit\nAda,Lovelace,/Students/ /5a", want: `line 2: orgunit "/Students/ /5a" has an empty part`},

		// Groups.
		{name: "groups with blanks and duplicates", in: "firstname,lastname,groups\nAda,Lovelace,\"Math; ;ART;math;;\""},
		{name: "group addresses in any domain", in: "firstname,lastname,groups\nAda,Lovelace,staff@example.org;club@other.org"},
		{name: "group name with a space", in: "firstname,lastname,groups\nAda,Lovelace,math;Math 5a", want: `line 2: groups "math 5a" is not a valid group name: it contains ' '; only letters a-z, digits and . _ - ' are allowed`},
		{name: "group name with two dots", in: "firstname,lastname,groups\nAda,Lovelace,a..b", want: `line 2: groups "a..b" is not a valid group name: it has two dots in a row`},
		{name: "group name starting with a dot", in: "firstname,lastname,groups\nAda,Lovelace,.math", want: `line 2: groups ".math" is not a valid group name: it starts or ends with a dot`},
		{name: "group name of 65 characters", in: "firstname,lastname,groups\nAda,Lovelace," + strings.Repeat("g", 65), want: `line 2: groups "` + strings.Repeat("g", 65) + `" is not a valid group name: it is longer than 64 characters (65)`},
		{name: "group address without a domain", in: "firstname,lastname,groups\nAda,Lovelace,staff@", want: `line 2: groups "staff@" is not a valid address: the part after @ is not a domain name`},

		// Aliases.
		{name: "aliases", in: "firstname,lastname,aliases\nAda,Lovelace,ada; A.Lovelace@example.org"},
		{name: "alias in another domain", in: "firstname,lastname,aliases\nAda,Lovelace,ada@other.org", want: `line 2: aliases "ada@other.org" is not in the domain example.org`},
		{name: "alias with a space", in: "firstname,lastname,aliases\nAda,Lovelace,a b", want: `line 2: aliases "a b" is not a valid alias: it contains ' '; only letters a-z, digits and . _ - ' are allowed`},

		// Manager.
		{name: "manager", in: "firstname,lastname,manager\nAda,Lovelace,Boss@Example.org"},
		{name: "manager without @", in: "firstname,lastname,manager\nAda,Lovelace,boss", want: `line 2: manager "boss" is not an address: it has no @`},
		{name: "manager in another domain", in: "firstname,lastname,manager\nAda,Lovelace,boss@other.org", want: `line 2: manager "boss@other.org" is not in the domain example.org`},

		// Cell lengths.
		{name: "title of 1024 bytes", in: "firstname,lastname,title\nAda,Lovelace," + long[:1024]},
		{name: "title of 1025 bytes", in: "firstname,lastname,title\nAda,Lovelace," + long[:1025], want: "line 2: title is longer than 1024 bytes (1025)"},
		{name: "id of 10,000 bytes", in: "firstname,lastname,id\nAda,Lovelace," + long, want: "line 2: id is longer than 1024 bytes (10000)"},
		{name: "custom cell of 10,000 bytes", in: "firstname,lastname,notes\nAda,Lovelace," + long, want: "line 2: notes is longer than 1024 bytes (10000)"},
		{name: "groups of 8193 bytes", in: "firstname,lastname,groups\nAda,Lovelace," + strings.Repeat("g;", 4096) + "g", want: "line 2: groups is longer than 8192 bytes (8193)"},
		{name: "email of 10,000 bytes", in: "firstname,lastname,email\nAda,Lovelace," + long, want: "line 2: email is longer than 1024 bytes (10000)"},

		// Cells that look like formulas are left for the report to neutralise.
		{name: "formula-like cells", in: "firstname,lastname,title,phone,department,note,id\nAda,Lovelace,=SUM(A1),+49 30 1234,-,@home,-1"},

		// Which problem, and how the column is named.
		{name: "first problem from the left", in: "firstname,lastname,email\n,Lovelace,bad", want: "line 2: firstname is empty"},
		{name: "first problem from the left, other order", in: "email,lastname,firstname\nbad,Lovelace,", want: `line 2: email "bad" is not an address: it has no @`},
		{name: "column named as in the file", in: "Given Name, Surname \nAda,", want: "line 2: Surname is empty"},
		{name: "line after a multi-line record", in: "firstname,lastname,note\nAda,Lovelace,\"a\r\nb\"\r\n\r\nGrace,,x", want: "line 5: lastname is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ReaderOptions{Domain: "example.org"}
			if tt.domain == "-" {
				opts.Domain = ""
			}
			r, err := NewReader(strings.NewReader(tt.in), opts)
			if err != nil {
				t.Fatalf("NewReader() error = %v", err)
			}
			recs := readAll(t, r)
			if len(recs) == 0 {
				t.Fatal("read no record")
			}
			rec := recs[len(recs)-1]
			if got := errText(rec.Err); got != tt.want {
				t.Errorf("Next() line %d error =\n%s\nwant\n%s", rec.Line, got, tt.want)
			}
		})
	}
}

func TestValidate_CleanedValues(t *testing.T) {
	in := "firstname,lastname,groups,aliases,hashfunction,password\n" +
		"Ada,Lovelace,\" Math; ;ART;math;staff@Example.org \",\"ada;;ADA\", md5 ,5F4DCC3B5AA765D61D8327DEB882CF99\n"
	r, err := NewReader(strings.NewReader(in), ReaderOptions{Domain: "example.org"})
	if err != nil {
		t.Fatal(err)
	}
	rec := readAll(t, r)[0]
	if rec.Err != nil {
		t.Fatalf("Next() line 2 error = %v", rec.Err)
	}
	if want := []string{"math", "art", "staff@example.org"}; strings.Join(rec.Groups, "|") != strings.Join(want, "|") {
		t.Errorf("Groups = %q, want %q", rec.Groups, want)
	}
	if want := []string{"ada"}; strings.Join(rec.Aliases, "|") != strings.Join(want, "|") {
		t.Errorf("Aliases = %q, want %q", rec.Aliases, want)
	}
	if rec.HashFunction != "MD5" {
		t.Errorf("HashFunction = %q, want MD5", rec.HashFunction)
	}
}

func TestValidate_RowError(t *testing.T) {
	tests := []struct {
		err  *RowError
		want string
	}{
		{&RowError{Line: 12, Column: "lastname", Err: errors.New("is longer than 60 characters (73)")}, "line 12: lastname is longer than 60 characters (73)"},
		{&RowError{Line: 7, Err: csv.ErrFieldCount}, "line 7: wrong number of fields"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, tt.err.Err) {
			t.Errorf("errors.Is(%v, %v) = false, want true", tt.err, tt.err.Err)
		}
	}
}

// TestValidate_ParseErrors checks that malformed records can be told apart
// with errors.Is.
func TestValidate_ParseErrors(t *testing.T) {
	in := "firstname,lastname\nAda\nA\"da,Lovelace\nAda,\"Love\"lace\n"
	r, err := NewReader(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, r)
	want := []error{csv.ErrFieldCount, csv.ErrBareQuote, csv.ErrQuote}
	if len(recs) != len(want) {
		t.Fatalf("read %d records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if !errors.Is(rec.Err, want[i]) {
			t.Errorf("Next() line %d error = %v, want %v", rec.Line, rec.Err, want[i])
		}
	}
}
