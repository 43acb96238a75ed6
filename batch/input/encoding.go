package input

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
)

// A file's encoding is decided for the whole file, in the pass that hashes
// it and before the job changes anything: a file that is not in the
// encoding it is to be read with is refused with an *EncodingError. Read
// byte by byte, such a file would have its rows whose names happen to be
// ASCII created and every José failed, or, read with the wrong single-byte
// encoding, José created as "JosÃ©". A file that passes is decoded to
// UTF-8 on its way to the reader, so line numbers stay those of the file.

// inputEncoding is a character encoding an input file may be in.
type inputEncoding struct {
	name    string   // as the config spells it
	label   string   // as messages name it
	aliases []string // other spellings the config accepts
	charmap *charmap.Charmap
	utf16   bool // UTF-16 with a byte order mark
}

var (
	encodingUTF8 = &inputEncoding{name: "utf-8", label: "UTF-8", aliases: []string{"utf8"}}
	// Excel's "CSV (Comma delimited)" on a Western European Windows.
	encodingWindows1252 = &inputEncoding{name: "windows-1252", label: "Windows-1252", aliases: []string{"cp1252"}, charmap: charmap.Windows1252}
	// Excel's "Unicode Text".
	encodingUTF16 = &inputEncoding{name: "utf-16", label: "UTF-16", aliases: []string{"utf16"}, utf16: true}
)

// encodings lists the encodings an input file may be in.
var encodings = []*inputEncoding{
	encodingUTF8,
	encodingWindows1252,
	{name: "iso-8859-1", label: "ISO-8859-1", aliases: []string{"latin1"}, charmap: charmap.ISO8859_1},
	{name: "iso-8859-15", label: "ISO-8859-15", aliases: []string{"latin9"}, charmap: charmap.ISO8859_15},
	encodingUTF16,
}

// EncodingNames returns the names of the encodings an input file may be
// in, as the config and --encoding spell them.
func EncodingNames() []string {
	names := make([]string, len(encodings))
	for i, e := range encodings {
		names[i] = e.name
	}
	return names
}

// lookupEncoding returns the encoding a config names, ignoring case and
// punctuation ("UTF8", "ISO_8859-1", "latin1"); "" is UTF-8.
func lookupEncoding(name string) (*inputEncoding, error) {
	if strings.TrimSpace(name) == "" {
		return encodingUTF8, nil
	}
	key := headerKey(name)
	for _, e := range encodings {
		if key == headerKey(e.name) || slices.ContainsFunc(e.aliases, func(a string) bool { return key == headerKey(a) }) {
			return e, nil
		}
	}
	names := EncodingNames()
	return nil, fmt.Errorf("encoding %q is not supported: use %s or %s", name, strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// decode returns r decoded to UTF-8. The check must have passed: bytes
// the encoding does not define would come out as U+FFFD.
func (e *inputEncoding) decode(r io.Reader) io.Reader {
	switch {
	case e.charmap != nil:
		return e.charmap.NewDecoder().Reader(r)
	case e.utf16:
		return xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder().Reader(r)
	}
	return r
}

// notText returns the bytes a single-byte encoding does not map to text:
// those it leaves undefined (0x81, 0x8D, 0x8F, 0x90 and 0x9D in
// Windows-1252), and the C1 control codes 0x80-0x9F of ISO-8859, which
// nobody types: in a file said to be ISO-8859-1 they are Windows-1252's
// € „ " " and the like.
func (e *inputEncoding) notText() *[256]bool {
	var t [256]bool
	for b := 0x80; b <= 0xff; b++ {
		r := e.charmap.DecodeByte(byte(b))
		t[b] = r == utf8.RuneError || unicode.IsControl(r)
	}
	return &t
}

var notWindows1252 = encodingWindows1252.notText()

// EncodingError means the input file is not in the encoding it is to be
// read with. The job refuses it as a whole, before it changes anything.
type EncodingError struct {
	Encoding string // the encoding the file was to be read with, as the config names it
	Line     int    // 1-based line of the first problem; 0 when it is the whole file's
	Err      error  // what is wrong, in plain words
	// Suggest is an encoding the file reads as, as the config names it;
	// "" when none is likely to read it right.
	Suggest string
}

func (e *EncodingError) Error() string {
	label := e.Encoding
	if enc, err := lookupEncoding(e.Encoding); err == nil {
		label = enc.label
	}
	return fmt.Sprintf("the file is not %s: %v", label, e.Err)
}

func (e *EncodingError) Unwrap() error { return e.Err }

// mixedEncodings says what a file of UTF-8 and other bytes is.
const mixedEncodings = "the file mixes two encodings, as when two files are pasted together"

// sampleBytes is how much of a line an EncodingError may quote.
const sampleBytes = 120

// finding is where a kind of byte sequence first occurs in a file.
type finding struct {
	line   int    // 1-based; 0 when it does not occur
	b      byte   // the byte
	sample []byte // the start of the line, once the line has ended
}

// encodingCheck is told the bytes of an input file in order, as an
// io.Writer, and decides in Close whether the file is in its encoding. It
// follows UTF-8 whatever the encoding, to tell a UTF-8 file said to be
// Windows-1252, and the other way round, from a file that is neither.
type encodingCheck struct {
	enc     *inputEncoding
	notText *[256]bool // of a single-byte encoding
	n       int64      // bytes seen
	start   []byte     // the first 4 bytes, for byte order marks
	line    int        // the current line, 1-based
	head    []byte     // the start of the current line

	need   int  // UTF-8 continuation bytes still expected
	lo, hi byte // the range of the next one
	lead   byte // the byte that started the sequence

	badUTF8  finding // the first byte that is not UTF-8
	multi    finding // the first character of more than one byte in UTF-8, but a leading byte order mark
	badByte  finding // the first byte that is not text in a single-byte encoding
	not1252  bool    // a byte Windows-1252 leaves undefined was seen
	utf16    utf16Check
	findings []*finding
}

func newEncodingCheck(enc *inputEncoding) *encodingCheck {
	c := &encodingCheck{enc: enc, line: 1, lo: 0x80, hi: 0xbf, head: make([]byte, 0, sampleBytes)}
	if enc.charmap != nil {
		c.notText = enc.notText()
	}
	c.utf16.line = 1
	c.findings = []*finding{&c.badUTF8, &c.multi, &c.badByte}
	return c
}

func (c *encodingCheck) Write(p []byte) (int, error) {
	if c.enc.utf16 {
		c.utf16.write(p)
	}
	for _, b := range p {
		c.n++
		if len(c.start) < 4 {
			c.start = append(c.start, b)
		}
		if len(c.head) < sampleBytes {
			c.head = append(c.head, b)
		}
		c.utf8Byte(b)
		c.not1252 = c.not1252 || notWindows1252[b]
		if c.notText != nil && c.notText[b] {
			c.found(&c.badByte, b)
		}
		if b == '\n' {
			c.endLine()
		}
	}
	return len(p), nil
}

// found notes that f occurs at byte b of the current line, unless it
// occurred before.
func (c *encodingCheck) found(f *finding, b byte) {
	if f.line == 0 {
		f.line, f.b = c.line, b
	}
}

// endLine keeps the start of the line ending for the findings on it.
func (c *encodingCheck) endLine() {
	for _, f := range c.findings {
		if f.line == c.line && f.sample == nil {
			f.sample = bytes.Clone(c.head)
		}
	}
	c.line++
	c.head = c.head[:0]
}

// utf8Byte follows the UTF-8 encoding (RFC 3629) one byte at a time.
func (c *encodingCheck) utf8Byte(b byte) {
	if c.need > 0 {
		if c.lo <= b && b <= c.hi {
			c.need--
			c.lo, c.hi = 0x80, 0xbf
			if c.need == 0 && !(c.n == 3 && bytes.Equal(c.start, []byte(bom))) {
				c.found(&c.multi, c.lead)
			}
			return
		}
		c.need = 0 // a sequence cut short; b starts afresh
		c.lo, c.hi = 0x80, 0xbf
		c.found(&c.badUTF8, c.lead)
	}
	switch {
	case b < utf8.RuneSelf:
		return
	case 0xc2 <= b && b <= 0xdf:
		c.need = 1
	case b == 0xe0:
		c.need, c.lo = 2, 0xa0
	case 0xe1 <= b && b <= 0xef:
		c.need = 2
		if b == 0xed {
			c.hi = 0x9f // not a surrogate
		}
	case b == 0xf0:
		c.need, c.lo = 3, 0x90
	case 0xf1 <= b && b <= 0xf3:
		c.need = 3
	case b == 0xf4:
		c.need, c.hi = 3, 0x8f
	default:
		c.found(&c.badUTF8, b)
		return
	}
	c.lead = b
}

// failFunc returns an *EncodingError for line (0 for the whole file),
// suggesting an encoding ("" for none).
type failFunc func(line int, suggest string, format string, args ...any) error

// Close returns an *EncodingError when the file is not in its encoding.
func (c *encodingCheck) Close() error {
	if c.need > 0 {
		c.found(&c.badUTF8, c.lead) // cut short by the end of the file
	}
	c.endLine()
	fail := func(line int, suggest string, format string, args ...any) error {
		return &EncodingError{Encoding: c.enc.name, Line: line, Suggest: suggest, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.enc.utf16:
		return c.utf16.result(fail, c.badUTF8.line == 0)
	case bytes.HasPrefix(c.start, []byte{0xff, 0xfe}) || bytes.HasPrefix(c.start, []byte{0xfe, 0xff}):
		return fail(0, encodingUTF16.name, "it starts with UTF-16's byte order mark, as Excel's \"Unicode Text\" writes it")
	case c.badUTF8.line != 0 && c.multi.line != 0:
		return c.mixed(fail)
	case c.enc.charmap != nil:
		return c.singleByteResult(fail)
	case len(c.start) == 4 && (c.start[0] != 0 && c.start[1] == 0 && c.start[2] != 0 && c.start[3] == 0 ||
		c.start[0] == 0 && c.start[1] != 0 && c.start[2] == 0 && c.start[3] != 0):
		return fail(1, "", "it looks like UTF-16 without a byte order mark: there is a NUL byte next to each letter of its first line")
	case c.badUTF8.line != 0 && !c.not1252:
		return fail(c.badUTF8.line, encodingWindows1252.name, "line %d holds the byte 0x%02X, which is not UTF-8 there; read as Windows-1252, the line says %q",
			c.badUTF8.line, c.badUTF8.b, sample(c.badUTF8.sample, encodingWindows1252))
	case c.badUTF8.line != 0:
		return fail(c.badUTF8.line, "", "line %d holds the byte 0x%02X, which is not UTF-8 there", c.badUTF8.line, c.badUTF8.b)
	}
	return nil
}

// mixed returns the error of a file that holds both UTF-8 text and bytes
// that are not UTF-8, which no one encoding reads right.
func (c *encodingCheck) mixed(fail failFunc) error {
	bad := fmt.Sprintf("line %d holds the byte 0x%02X, which is not UTF-8 there", c.badUTF8.line, c.badUTF8.b)
	good := fmt.Sprintf("line %d holds UTF-8 text", c.multi.line)
	if c.enc.charmap != nil {
		return fail(c.badUTF8.line, "", "%s, but %s: %s", good, bad, mixedEncodings)
	}
	if c.multi.line == c.badUTF8.line {
		good = "it holds UTF-8 text too"
	}
	return fail(c.badUTF8.line, "", "%s, but %s: %s", bad, good, mixedEncodings)
}

// singleByteResult decides on a file to be read with a single-byte
// encoding that does not mix UTF-8 with other bytes.
func (c *encodingCheck) singleByteResult(fail failFunc) error {
	switch {
	case bytes.HasPrefix(c.start, []byte(bom)):
		return fail(0, encodingUTF8.name, "it starts with UTF-8's byte order mark")
	case c.badUTF8.line == 0 && c.multi.line != 0:
		// Text in a single-byte encoding is valid UTF-8 only where a
		// letter such as Ã is followed by a symbol of 0x80-0xBF (© ® ¼),
		// which names do not hold: the file is UTF-8.
		return fail(c.multi.line, encodingUTF8.name, "line %d says %q in UTF-8, which %s would read as %q",
			c.multi.line, sample(c.multi.sample, encodingUTF8), c.enc.label, sample(c.multi.sample, c.enc))
	case c.badByte.line != 0 && c.enc != encodingWindows1252 && !c.not1252:
		return fail(c.badByte.line, encodingWindows1252.name, "line %d holds the byte 0x%02X, which is a control code in %s, not text; read as Windows-1252, the line says %q",
			c.badByte.line, c.badByte.b, c.enc.label, sample(c.badByte.sample, encodingWindows1252))
	case c.badByte.line != 0:
		return fail(c.badByte.line, "", "line %d holds the byte 0x%02X, which is not text in %s", c.badByte.line, c.badByte.b, c.enc.label)
	}
	return nil
}

// sample returns the start of a line, read with enc, for a message.
func sample(line []byte, enc *inputEncoding) string {
	line = bytes.TrimRight(line, "\r\n")
	s := string(line)
	if enc.charmap != nil {
		if d, err := enc.charmap.NewDecoder().Bytes(line); err == nil {
			s = string(d)
		}
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}

// utf16Check follows a file said to be UTF-16 with a byte order mark, two
// bytes at a time.
type utf16Check struct {
	n       int64
	bigEnd  bool
	odd     []byte // a byte of a unit cut by the end of a write
	high    uint16 // a high surrogate waiting for its low half, or 0
	line    int    // the current line, 1-based
	noBOM   bool
	badLine int // the line of the first half of a surrogate pair alone
	bad     uint16
	records recordCounter // told each unit as its ASCII byte, or 'x'
	ascii   []byte
}

func (u *utf16Check) write(p []byte) {
	if u.noBOM || u.badLine != 0 {
		return
	}
	if len(u.odd) > 0 {
		p = append(u.odd, p...)
		u.odd = nil
	}
	u.ascii = u.ascii[:0]
	for ; len(p) >= 2; p = p[2:] {
		u.n += 2
		if u.n == 2 {
			switch {
			case p[0] == 0xff && p[1] == 0xfe:
			case p[0] == 0xfe && p[1] == 0xff:
				u.bigEnd = true
			default:
				u.noBOM = true
				return
			}
			continue
		}
		unit := uint16(p[0]) | uint16(p[1])<<8
		if u.bigEnd {
			unit = uint16(p[0])<<8 | uint16(p[1])
		}
		u.unit(unit)
		if unit >= utf8.RuneSelf {
			unit = 'x'
		}
		u.ascii = append(u.ascii, byte(unit))
	}
	u.records.Write(u.ascii)
	u.odd = bytes.Clone(p)
}

// unit follows one UTF-16 code unit.
func (u *utf16Check) unit(v uint16) {
	switch {
	case u.high != 0 && 0xdc00 <= v && v <= 0xdfff:
		u.high = 0
		return
	case u.high != 0:
		u.badLine, u.bad = u.line, u.high
		return
	case 0xd800 <= v && v <= 0xdbff:
		u.high = v
	case 0xdc00 <= v && v <= 0xdfff:
		u.badLine, u.bad = u.line, v
	case v == '\n':
		u.line++
	}
}

// result decides on a file said to be UTF-16; validUTF8 says whether it
// would be valid UTF-8.
func (u *utf16Check) result(fail failFunc, validUTF8 bool) error {
	switch {
	case u.noBOM || u.n < 2:
		suggest := ""
		if validUTF8 {
			suggest = encodingUTF8.name
		}
		return fail(0, suggest, "it does not start with a byte order mark, which a UTF-16 file needs here")
	case u.high != 0 && u.badLine == 0:
		u.badLine, u.bad = u.line, u.high
	}
	switch {
	case u.badLine != 0:
		return fail(u.badLine, "", "line %d holds half of a surrogate pair (%U) without the other", u.badLine, rune(u.bad))
	case len(u.odd) > 0:
		return fail(u.line, "", "it ends in the middle of a character: it has an odd number of bytes")
	}
	return nil
}

// Scan reads a whole input once, before a job takes any row of it: it
// returns the file's SHA-256 and how many records it holds (the header
// included), and an *EncodingError for a file that is not in the encoding
// named, so that a file is refused whole or read whole. scanInput counts
// records in the bytes as they are,
// which is right for every encoding but UTF-16, where a quote or a line
// break is two bytes, and other characters hold those bytes too (Т is
// 0x22 0x04): those are counted in UTF-16 code units.
func Scan(r io.Reader, encoding string) (hash string, records int, err error) {
	enc, err := lookupEncoding(encoding)
	if err != nil {
		return "", 0, err
	}
	check := newEncodingCheck(enc)
	if hash, records, err = scanInput(io.TeeReader(r, check)); err != nil {
		return "", 0, err
	}
	if err := check.Close(); err != nil {
		return "", 0, err
	}
	if enc.utf16 {
		records = check.utf16.records.count()
	}
	return hash, records, nil
}

// DefaultEncoding is the encoding of a file when the config names none.
const DefaultEncoding = "utf-8"

// CanonicalEncoding returns the name of the encoding a config names, as
// the reader spells it ("cp1252" is windows-1252), or an error saying
// which encodings it reads.
func CanonicalEncoding(name string) (string, error) {
	enc, err := lookupEncoding(name)
	if err != nil {
		return "", err
	}
	return enc.name, nil
}
