package batch

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/provisionhq/provision/batch/input"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
)

// encode returns s in enc; s must hold only characters enc has.
func encode(enc encoding.Encoding, s string) string {
	out, err := enc.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return out
}

// The encodings of the corpus. UTF-16 files are written with a byte order
// mark, as Excel's "Unicode Text" writes them.
var (
	cp1252    = charmap.Windows1252
	latin1    = charmap.ISO8859_1
	latin9    = charmap.ISO8859_15
	utf16LE   = xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM)
	utf16BE   = xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM)
	utf16Bare = xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM)
)

// hostileEncodingCorpus is the part of the hostile corpus about character
// encodings: a file is read whole in its encoding, or refused whole before
// anything changes.
func hostileEncodingCorpus() []hostileCase {
	return []hostileCase{
		{
			// Excel's "CSV (Comma delimited)" on a Western European
			// Windows: refused whole, rather than have Ada created and
			// José failed, with a hint at the encoding it reads as.
			file: "windows1252.csv",
			content: encode(cp1252, lines("First Name,Last Name,ID",
				"Ada,Lovelace,51001",
				"José,Martínez,51002",
				"Renée,Müller,51003")),
			refused: `the file is not UTF-8: line 3 holds the byte 0xE9, which is not UTF-8 there; read as Windows-1252, the line says "José,Martínez,51002"`,
			suggest: "windows-1252",
		},
		{
			// The same file, read as what it is, with a note over two
			// lines and a bad row: names arrive as written, lines are the
			// file's, and a NUL is a row's problem, not the file's.
			file:     "windows1252_declared.csv",
			encoding: "windows-1252",
			content: encode(cp1252, crlf("First Name,Last Name,ID,Note",
				"Ada,Lovelace,52001,",
				"José,Martínez,52002,\"Preis: 5 €\r\n„zweite Zeile“\"",
				"Renée,Müller,52003,",
				",Ohne Vorname,52004,",
				"Šimon,Žák,52005,œuvre",
				"Zoë,Nul\x00,52006,")),
			failed: map[int]string{
				6: "line 6: First Name is empty",
				8: "line 8: Last Name contains a NUL byte",
			},
			created: []int{2, 3, 5, 7},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkNames(t, e, rows, map[int]string{3: "José Martínez", 5: "Renée Müller", 7: "Šimon Žák"})
			},
		},
		{
			// 0x81 is one of the five bytes Windows-1252 leaves
			// undefined: the file is in another encoding.
			file:     "windows1252_undefined_byte.csv",
			encoding: "windows-1252",
			content:  lines("firstname,lastname", "Ada,Lovelace", "Bj\x81rn,Berg", "Ren\x9de,M\x90ller"),
			refused:  "the file is not Windows-1252: line 3 holds the byte 0x81, which is not text in Windows-1252",
		},
		{
			// A UTF-8 file read as Windows-1252 would create "JosÃ©".
			file:     "utf8_declared_windows1252.csv",
			encoding: "cp1252",
			content:  lines("firstname,lastname", "Ada,Lovelace", "José,Müller"),
			refused:  `the file is not Windows-1252: line 3 says "José,Müller" in UTF-8, which Windows-1252 would read as "JosÃ©,MÃ¼ller"`,
			suggest:  "utf-8",
		},
		{
			file:     "utf8_bom_declared_windows1252.csv",
			encoding: "windows-1252",
			content:  "\uFEFF" + lines("firstname,lastname", "Ada,Lovelace"),
			refused:  "the file is not Windows-1252: it starts with UTF-8's byte order mark",
			suggest:  "utf-8",
		},
		{
			// A BOM is no reason to refuse a file said to be UTF-8.
			file:     "bom_declared_utf8.csv",
			encoding: "UTF8",
			content:  "\uFEFF" + lines("firstname,lastname", "Zoë,Weiß", "Ada,"),
			failed:   map[int]string{3: "line 3: lastname is empty"},
			created:  []int{2},
		},
		{
			// Windows-1252 bytes, a lone UTF-8 lead byte, and a line of
			// UTF-8: no one encoding reads the file.
			file: "invalid_utf8.csv",
			content: lines("firstname,lastname,id,region",
				"J\xfcrgen,M\xfcller,15001,Nord",
				"Ada,Lovelace,15002,S\xfcd",
				"Grace,Hopper,15\xff03,Ost",
				"Alan,Turing,15004,\xc3",
				"Jürgen,Müller,15005,Nord"),
			refused: "the file is not UTF-8: line 2 holds the byte 0xFC, which is not UTF-8 there, but line 6 holds UTF-8 text: the file mixes two encodings",
		},
		{
			file:     "invalid_utf8_declared_windows1252.csv",
			encoding: "windows-1252",
			content:  lines("firstname,lastname", "J\xfcrgen,M\xfcller", "Jürgen,Müller"),
			refused:  "the file is not Windows-1252: line 3 holds UTF-8 text, but line 2 holds the byte 0xFC, which is not UTF-8 there: the file mixes two encodings",
		},
		{
			file:    "invalid_utf8_header.csv",
			content: lines("firstname,lastname,Stra\xdfe", "Ada,Lovelace,Hauptstra\xdfe"),
			refused: `line 1 holds the byte 0xDF, which is not UTF-8 there; read as Windows-1252, the line says "firstname,lastname,Straße"`,
			suggest: "windows-1252",
		},
		{
			// Not UTF-8, and not Windows-1252 either (0x90): no hint.
			file:    "invalid_utf8_not_windows1252.csv",
			content: lines("firstname,lastname", "Ada,Lovelace", "\x90\x91,Lovelace"),
			refused: "the file is not UTF-8: line 3 holds the byte 0x90, which is not UTF-8 there",
		},
		{
			// A UTF-8 sequence cut short by the end of the file.
			file:    "utf8_cut_at_end.csv",
			content: "firstname,lastname\nAda,Lovelace\nZo\xc3",
			refused: "line 3 holds the byte 0xC3, which is not UTF-8 there",
			suggest: "windows-1252",
		},
		{
			// Excel's "Unicode Text" is UTF-16 with a byte order mark.
			file:    "utf16.csv",
			content: encode(utf16LE, "firstname,lastname\r\nAda,Lovelace\r\n"),
			refused: `the file is not UTF-8: it starts with UTF-16's byte order mark, as Excel's "Unicode Text" writes it`,
			suggest: "utf-16",
		},
		{
			file:    "utf16_without_bom.csv",
			content: encode(utf16Bare, "firstname,lastname\r\nAda,Lovelace\r\n"),
			refused: "the file is not UTF-8: it looks like UTF-16 without a byte order mark",
		},
		{
			file:     "utf16_declared.tab.csv",
			encoding: "utf-16",
			content: encode(utf16LE, crlf("First Name\tLast Name\tID\tNote",
				"José\tMartínez\t53001\t\"zwei\r\nZeilen\"",
				"Renée\t\t53002\t",
				"李\t王\t53003\t😀",
				"Zoë\tWeiß\t53004\t")),
			failed:  map[int]string{4: "line 4: Last Name is empty"},
			created: []int{2, 5, 6},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkNames(t, e, rows, map[int]string{2: "José Martínez", 5: "李 王", 6: "Zoë Weiß"})
			},
		},
		{
			file:     "utf16_big_endian.csv",
			encoding: "utf-16",
			content:  encode(utf16BE, lines("firstname,lastname", "Renée,Müller")),
			created:  []int{2},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkNames(t, e, rows, map[int]string{2: "Renée Müller"})
			},
		},
		{
			file:     "utf16_declared_without_bom.csv",
			encoding: "utf-16",
			content:  lines("firstname,lastname", "Zoë,Weiß"),
			refused:  "the file is not UTF-16: it does not start with a byte order mark",
			suggest:  "utf-8",
		},
		{
			// A high surrogate (U+D83D) without its low half.
			file:     "utf16_lone_surrogate.csv",
			encoding: "utf-16",
			content:  encode(utf16LE, "firstname,lastname\nAda,Lovelace\n") + "\x3d\xd8,\x00x\x00\n\x00",
			refused:  "the file is not UTF-16: line 3 holds half of a surrogate pair (U+D83D) without the other",
		},
		{
			file:     "utf16_odd_length.csv",
			encoding: "utf-16",
			content:  encode(utf16LE, "firstname,lastname\nAda,Lovelace\n") + "x",
			refused:  "the file is not UTF-16: it ends in the middle of a character",
		},
		{
			// ISO-8859-15 has € at 0xA4 and Š at 0xA6, where ISO-8859-1
			// has ¤ and ¦.
			file:     "latin9_declared.csv",
			encoding: "iso-8859-15",
			content:  encode(latin9, lines("firstname,lastname,note", "Šárka,Nováková,5 €", "Œdipe,Roi,")),
			created:  []int{2, 3},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkNames(t, e, rows, map[int]string{2: "Šárka Nováková", 3: "Œdipe Roi"})
			},
		},
		{
			file:     "latin1_declared.csv",
			encoding: "latin1",
			content:  encode(latin1, lines("firstname,lastname", "Søren,Kierkegaard", "Renée,Müller")),
			created:  []int{2, 3},
			check: func(t *testing.T, e *env, rows map[int]reportRow) {
				checkNames(t, e, rows, map[int]string{2: "Søren Kierkegaard", 3: "Renée Müller"})
			},
		},
		{
			// 0x80 is a control code in ISO-8859-1 and € in Windows-1252,
			// which Excel writes.
			file:     "windows1252_declared_latin1.csv",
			encoding: "iso-8859-1",
			content:  encode(cp1252, lines("firstname,lastname,note", "Renée,Müller,5 €")),
			refused:  `the file is not ISO-8859-1: line 2 holds the byte 0x80, which is a control code in ISO-8859-1, not text; read as Windows-1252, the line says "Renée,Müller,5 €"`,
			suggest:  "windows-1252",
		},
	}
}

// checkNames checks the names of the accounts created from report lines
// in the directory, as "given family".
func checkNames(t *testing.T, e *env, rows map[int]reportRow, want map[int]string) {
	t.Helper()
	for line, name := range want {
		u, ok := e.user(rows[line].email)
		if !ok {
			t.Errorf("line %d: no account", line)
			continue
		}
		if got := u.GivenName + " " + u.FamilyName; got != name {
			t.Errorf("line %d: %s is named %q, want %q", line, u.PrimaryEmail, got, name)
		}
	}
}

// checkRefused checks that the job refused the file with an
// *EncodingError that suggests the encoding wanted, and did nothing.
func checkRefused(t *testing.T, e *env, err error, want, suggest string) {
	t.Helper()
	ee, ok := errors.AsType[*input.EncodingError](err)
	if !ok {
		t.Fatalf("Run error = %v, want an *EncodingError", err)
	}
	if !strings.Contains(err.Error(), want) || ee.Suggest != suggest {
		t.Errorf("Run error = %q, suggesting %q; want it to contain %q, suggesting %q", err, ee.Suggest, want, suggest)
	}
	checkNothingDone(t, e)
}

// TestEncodingCheck_pieces checks that the encoding check decides the same
// however the file reaches it in reads: a character, or a UTF-16 unit,
// may be split between two.
func TestEncodingCheck_pieces(t *testing.T) {
	scan := func(content, encoding string, size int) string {
		var r io.Reader = strings.NewReader(content)
		if size > 0 {
			r = &pieceReader{data: content, size: size}
		}
		_, _, err := input.Scan(r, encoding)
		if err == nil {
			return ""
		}
		return err.Error()
	}
	for _, tc := range hostileEncodingCorpus() {
		t.Run(tc.file, func(t *testing.T) {
			whole := scan(tc.content, tc.encoding, 0)
			if (whole != "") != (tc.refused != "") {
				t.Fatalf("Scan = %q, want refused: %v", whole, tc.refused != "")
			}
			for _, size := range []int{1, 2, 3, 5} {
				if got := scan(tc.content, tc.encoding, size); got != whole {
					t.Errorf("Scan in reads of %d bytes = %q, want %q", size, got, whole)
				}
			}
		})
	}
}

// pieceReader returns data size bytes at a time.
type pieceReader struct {
	data string
	size int
}

func (p *pieceReader) Read(b []byte) (int, error) {
	if p.data == "" {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), p.size)], p.data)
	p.data = p.data[n:]
	return n, nil
}

// TestScanEncoded_records counts the records of a UTF-16 file in its
// characters: Т (U+0422) holds the byte of a quote, and Ċ (U+010A) that of
// a line break.
func TestScanEncoded_records(t *testing.T) {
	text := "firstname,lastname,note\r\nĊaruana,Ċaruana,\"two\r\nlines\"\r\n\r\nТимур,Ловлейс,\r\n"
	for _, tt := range []struct {
		encoding string
		data     string
	}{
		{"utf-8", text},
		{"utf-16", encode(utf16LE, text)},
		{"utf-16", encode(utf16BE, text)},
	} {
		_, records, err := input.Scan(strings.NewReader(tt.data), tt.encoding)
		if err != nil || records != 3 {
			t.Errorf("Scan(%q, %s) = %d records, %v; want 3, the header included", tt.data, tt.encoding, records, err)
		}
	}
}
