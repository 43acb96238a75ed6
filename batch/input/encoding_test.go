package input

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookupEncoding(t *testing.T) {
	for name, want := range map[string]string{
		"":             "utf-8",
		" UTF8 ":       "utf-8",
		"utf-8":        "utf-8",
		"Windows-1252": "windows-1252",
		"CP1252":       "windows-1252",
		"ISO_8859-1":   "iso-8859-1",
		"latin-1":      "iso-8859-1",
		"iso-8859-15":  "iso-8859-15",
		"Latin9":       "iso-8859-15",
		"UTF-16":       "utf-16",
	} {
		enc, err := lookupEncoding(name)
		if err != nil || enc.name != want {
			t.Errorf("lookupEncoding(%q) = %v, %v; want %s", name, enc, err, want)
		}
	}
	_, err := lookupEncoding("ebcdic")
	if want := `encoding "ebcdic" is not supported: use utf-8, windows-1252, iso-8859-1, iso-8859-15 or utf-16`; errText(err) != want {
		t.Errorf("lookupEncoding(ebcdic) error = %v, want %s", err, want)
	}
}

// runEncodingCheck runs the encoding check on data, written in pieces of
// size bytes (all at once when size is 0).
func runEncodingCheck(t *testing.T, data, encoding string, size int) error {
	t.Helper()
	enc, err := lookupEncoding(encoding)
	if err != nil {
		t.Fatal(err)
	}
	c := newEncodingCheck(enc)
	if size == 0 {
		size = len(data) + 1
	}
	for i := 0; i < len(data); i += size {
		c.Write([]byte(data[i:min(i+size, len(data))]))
	}
	return c.Close()
}

func TestEncodingCheck(t *testing.T) {
	tests := []struct {
		name, data, encoding string
		want                 string // the error; "" for none
		line                 int
	}{
		{name: "ASCII", data: "firstname,lastname\nAda,Lovelace\n"},
		{name: "empty", data: ""},
		{name: "empty, as UTF-16", data: "", encoding: "utf-16", want: "the file is not UTF-16: it does not start with a byte order mark, which a UTF-16 file needs here"},
		{name: "a NUL is the row's problem", data: "firstname,lastname\nAda\x00,Lovelace\n"},
		{name: "ASCII as Windows-1252", data: "firstname,lastname\nAda,Lovelace\n", encoding: "windows-1252"},
		{name: "every character of 4 bytes", data: "a\n\U0001F600\U0010FFFF\n"},
		{name: "a surrogate in UTF-8", data: "a\n\xed\xa0\x80\n", want: "the file is not UTF-8: line 2 holds the byte 0xED, which is not UTF-8 there; read as Windows-1252, the line says \"í\\u00a0€\"", line: 2},
		{name: "an overlong form", data: "a\n\xc0\xaf\n", want: "the file is not UTF-8: line 2 holds the byte 0xC0, which is not UTF-8 there; read as Windows-1252, the line says \"À¯\"", line: 2},
		{name: "past U+10FFFF", data: "\xf4\x90\x80\x80", want: "the file is not UTF-8: line 1 holds the byte 0xF4, which is not UTF-8 there", line: 1},
		{name: "a sequence cut by a line break", data: "Ada,Lovelace\nJ\xc3\nx\n", want: "the file is not UTF-8: line 2 holds the byte 0xC3, which is not UTF-8 there; read as Windows-1252, the line says \"JÃ\"", line: 2},
		{name: "a long line is quoted in part", data: "x\n" + strings.Repeat("\xe9", 200) + "\n", want: "the file is not UTF-8: line 2 holds the byte 0xE9, which is not UTF-8 there; read as Windows-1252, the line says \"" + strings.Repeat("é", 60) + "…\"", line: 2},
		{name: "UTF-8 and other bytes on one line", data: "x\nJosé J\xfcrgen\n", want: "the file is not UTF-8: line 2 holds the byte 0xFC, which is not UTF-8 there, but it holds UTF-8 text too: the file mixes two encodings, as when two files are pasted together", line: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runEncodingCheck(t, tt.data, tt.encoding, 0)
			if errText(err) != tt.want {
				t.Fatalf("check = %v, want %s", err, tt.want)
			}
			if ee, ok := errors.AsType[*EncodingError](err); ok && ee.Line != tt.line {
				t.Errorf("check error line = %d, want %d", ee.Line, tt.line)
			}
		})
	}
}

// TestReader_Encoding reads files in other encodings than UTF-8: names
// arrive decoded, at the file's lines.
func TestReader_Encoding(t *testing.T) {
	tests := []struct {
		file     string // of the corpus
		encoding string
		want     map[int]string // line: "first last" or the error
	}{
		{file: "windows1252_declared.csv", encoding: "windows-1252", want: map[int]string{
			2: "Ada Lovelace", 3: "José Martínez", 5: "Renée Müller", 6: "line 6: First Name is empty", 7: "Šimon Žák",
			8: "line 8: Last Name contains a NUL byte"}},
		{file: "utf16_declared.tab.csv", encoding: "utf-16", want: map[int]string{
			2: "José Martínez", 4: "line 4: Last Name is empty", 5: "李 王", 6: "Zoë Weiß"}},
		{file: "latin9_declared.csv", encoding: "latin9", want: map[int]string{2: "Šárka Nováková", 3: "Œdipe Roi"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			// The file of the hostile corpus, which the job's tests write.
			content, err := os.ReadFile(filepath.Join("..", "testdata", "hostile", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(content), ReaderOptions{Delimiter: []rune(map[bool]string{true: "\t", false: ","}[strings.HasSuffix(tt.file, ".tab.csv")])[0], Encoding: tt.encoding})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int]string{}
			for _, rec := range readAll(t, r) {
				got[rec.Line] = rec.FirstName + " " + rec.LastName
				if rec.Err != nil {
					got[rec.Line] = rec.Err.Error()
				}
			}
			for line, w := range tt.want {
				if got[line] != w {
					t.Errorf("line %d = %q, want %q", line, got[line], w)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("read lines %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := NewReader(strings.NewReader("firstname,lastname\n"), ReaderOptions{Encoding: "ebcdic"}); err == nil {
		t.Errorf("NewReader(Encoding: ebcdic) error = nil, want one")
	}
	// Without the check, a UTF-16 file without a byte order mark cannot
	// be read.
	if _, err := NewReader(strings.NewReader("firstname,lastname\n"), ReaderOptions{Encoding: "utf-16"}); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("NewReader(UTF-16 without a BOM) error = %v, want one", err)
	}
}
