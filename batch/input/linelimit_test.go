package input

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// csvRecord is what encoding/csv made of one record.
type csvRecord struct {
	line    int // where it starts
	endLine int // the last physical line it takes
	fields  []string
	err     error
	cut     *overlong // the guard's cut in it, if any
}

// readCSVRecords reads every record of r with encoding/csv, as the Reader
// configures it but with any number of fields, noting the lines each takes.
// With a guard, it notes the guard's cuts and asks it for the lines; data
// is then the guard's input.
func readCSVRecords(t *testing.T, data []byte, delim byte, g *lineGuard) []csvRecord {
	t.Helper()
	var src io.Reader = bytes.NewReader(data)
	if g != nil {
		g.src = src
		src = g
	}
	cr := csv.NewReader(src)
	cr.Comma = rune(delim)
	cr.FieldsPerRecord = -1
	var recs []csvRecord
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			return recs
		}
		rec := csvRecord{fields: fields, err: err}
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			rec.line = pe.StartLine
		} else if err != nil {
			t.Fatalf("Read() error = %v", err)
		} else {
			rec.line, _ = cr.FieldPos(0)
		}
		if g != nil {
			rec.endLine = g.lineAt(cr.InputOffset() - 1)
			if cut, ok := g.claim(cr.InputOffset()); ok {
				rec.cut = &cut
			}
		} else {
			end := cr.InputOffset()
			rec.endLine = 1 + bytes.Count(data[:end-1], []byte{'\n'})
		}
		recs = append(recs, rec)
	}
}

// longLines returns the numbers of the lines of data longer than max
// bytes before their '\n'.
func longLines(data []byte, max int) []int {
	var long []int
	for i, line := range bytes.Split(data, []byte{'\n'}) {
		if len(line) > max {
			long = append(long, i+1)
		}
	}
	return long
}

// checkGuard checks that encoding/csv reads the same records from data
// through a guard of lines of maxLine bytes as from data itself, except
// that a record with a longer line is marked as cut, at that line.
func checkGuard(t *testing.T, data []byte, delim byte, maxLine int) {
	t.Helper()
	want := readCSVRecords(t, data, delim, nil)
	g := newLineGuard(nil, delim)
	g.maxLine = maxLine
	got := readCSVRecords(t, data, delim, g)
	long := longLines(data, maxLine)
	if len(got) != len(want) {
		t.Fatalf("%q: read %d records through the guard, %d without:\n got %+v\nwant %+v", data, len(got), len(want), got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.line != w.line || g.endLine != w.endLine {
			t.Errorf("%q: record %d takes lines %d to %d through the guard, %d to %d without", data, i, g.line, g.endLine, w.line, w.endLine)
			continue
		}
		var wantCut []int // long lines of the record
		for _, l := range long {
			if w.line <= l && l <= w.endLine {
				wantCut = append(wantCut, l)
			}
		}
		switch {
		case len(wantCut) == 0 && g.cut != nil:
			t.Errorf("%q: record at line %d is cut at line %d; it has no line longer than %d", data, w.line, g.cut.line, maxLine)
		case len(wantCut) > 0 && g.cut == nil:
			t.Errorf("%q: record at line %d is not cut; its lines %v are longer than %d", data, w.line, wantCut, maxLine)
		case len(wantCut) > 0 && (g.cut.line != wantCut[0] || g.cut.record):
			t.Errorf("%q: record at line %d is cut at line %d (record %v), want at line %d", data, w.line, g.cut.line, g.cut.record, wantCut[0])
		case len(wantCut) == 0 && (!slices.Equal(g.fields, w.fields) || errText(g.err) != errText(w.err)):
			t.Errorf("%q: record at line %d = %q, %v through the guard, %q, %v without", data, w.line, g.fields, g.err, w.fields, w.err)
		}
	}
}

func TestLineGuard_matchesCSV(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		delim byte
	}{
		{"short lines pass unchanged", "a,b\n\"c\nd\",e\r\n\n\"f\"\"\",g\n", ','},
		{"long unquoted line", "a,b\ncccccccccccccccc,d\ne,f\n", ','},
		{"long line ends the file", "a,b\ncccccccccccccccc", ','},
		{"long last line ends in CRLF", "a,b\r\ncccccccccccccccc\r\n", ','},
		{"long line inside a quoted field that goes on", "a,\"b\ncccccccccccccccc\nd\",e\nf,g\n", ','},
		{"the dropped part closes the quote", "a,\"bbbbbbbbbbbbbbbb\",c\nd,e\n", ','},
		{"the dropped part closes the quote on a later line", "a,\"b\ncccccccccccccc\",d\ne,f\n", ','},
		{"the dropped part opens a quote", "a,bbbbbbbbbbbb,\"c\nd\",e\nf,g\n", ','},
		{"the cut falls after a delimiter, then a quote opens", "a,bbbbb,\"cccccc\nd\",e\nf,g\n", ','},
		{"the dropped part has a bare quote", "a,bbbbbbbbbb\"bbbb\nc,d\n", ','},
		{"the dropped part has a bare quote in a field that would open a quote", "a,bbbbbbbbbb\"b,\"bb\nc,d\"\ne,f\n", ','},
		{"the cut falls after a closing quote", "\"abcdef\"\"\n\"x\nc,d\n", ','},
		{"the cut falls after a quote that doubles", "\"abcdef\"\"gh\nij\",k\nl,m\n", ','},
		{"the cut falls after a quote and a CR", "\"abcdef\"\rzzzz\nc,d\n", ','},
		{"the cut falls between a closing quote and CRLF", "\"abcdefg\"\r\nc,d\n", ','},
		{"an unterminated quote in a long line at the end", "a,b\n\"cccccccccccccccc", ','},
		{"two long lines in one record", "a,\"bbbbbbbbbbbbb\ncccccccccccccc\",d\ne,f\n", ','},
		{"long header", "aaaaaaaaaaaaaaaaaa,b\nc,d\n", ','},
		{"a long line of quotes", strings.Repeat("\"", 41) + "\nc,d\n", ','},
		{"semicolon", "a;\"b;c\nddddddddddddd;\"\";e\nf\";g\nh;i\n", ';'},
		{"tab", "a\t\"bbbbbbbbbbbbbbbbb\"\tc\nd\te\n", '\t'},
		{"the delimiter inside a quoted long line", "a,\"b,b,b,b,b,b,b,b,b\",c\nd,e\n", ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for maxLine := 2; maxLine <= 12; maxLine++ {
				checkGuard(t, []byte(tt.data), tt.delim, maxLine)
			}
		})
	}
}

func FuzzLineGuard(f *testing.F) {
	f.Add([]byte("a,\"b\ncccccccccccccccc\nd\",e\nf,g\n"), byte(0), uint8(8))
	f.Add([]byte("\"abcdef\"\rzzzz\r\nc,d\n"), byte(1), uint8(8))
	f.Add([]byte("a;\"b;c\nddddddddddddd;\"\";e\nf\";g\nh;i\n"), byte(1), uint8(5))
	delimiters := []byte{',', ';', '\t', '|'}
	f.Fuzz(func(t *testing.T, data []byte, delim byte, maxLine uint8) {
		checkGuard(t, data, delimiters[int(delim)%len(delimiters)], 2+int(maxLine%32))
	})
}

func TestLineGuard_recordLimit(t *testing.T) {
	// A quote opened on line 2 is never closed. Each line is short; the
	// record passes 20 bytes on line 5 and ends there.
	data := "h,i\na,\"b\nccccc\nddddd\neeeee\ng,h\ni,j\n"
	g := newLineGuard(nil, ',')
	g.maxRecord = 20
	got := readCSVRecords(t, []byte(data), ',', g)
	if len(got) != 4 {
		t.Fatalf("read %d records, want 4: %+v", len(got), got)
	}
	got = got[1:] // the header
	if r := got[0]; r.line != 2 || r.cut == nil || !r.cut.record || r.cut.line != 5 {
		t.Errorf("record 1 = %+v, want line 2, ended at line 5", r)
	}
	if want := "line 2: the record goes on past 8 MiB by line 5, so a quote is probably never closed; it was ended there and reading went on with line 6"; got[0].cut != nil && (&RowError{Line: 2, Err: got[0].cut.err(2)}).Error() != want {
		t.Errorf("error = %v, want %s", got[0].cut.err(2), want)
	}
	for i, want := range []csvRecord{{line: 6, fields: []string{"g", "h"}}, {line: 7, fields: []string{"i", "j"}}} {
		if r := got[i+1]; r.line != want.line || !slices.Equal(r.fields, want.fields) || r.cut != nil || r.err != nil {
			t.Errorf("record %d = %+v, want %+v", i+2, r, want)
		}
	}
}

// lazyFile generates a CSV file as it is read: head, then a line of n
// bytes of filler, then tail. It never holds the long line.
type lazyFile struct {
	head, tail *strings.Reader
	filler     []byte
	n, done    int64
	// sample, when set, is called every 16 MiB of filler.
	sample func()
}

func newLazyFile(head string, n int64, filler, tail string) *lazyFile {
	return &lazyFile{head: strings.NewReader(head), tail: strings.NewReader(tail), n: n,
		filler: bytes.Repeat([]byte(filler), (64<<10)/len(filler))}
}

func (f *lazyFile) Read(p []byte) (int, error) {
	if f.head.Len() > 0 {
		return f.head.Read(p)
	}
	if f.done < f.n {
		k := int(min(int64(len(p)), f.n-f.done))
		for o := 0; o < k; {
			o += copy(p[o:k], f.filler[(f.done+int64(o))%int64(len(f.filler)):])
		}
		if f.sample != nil && f.done/(16<<20) != (f.done+int64(k))/(16<<20) {
			f.sample()
		}
		f.done += int64(k)
		return k, nil
	}
	return f.tail.Read(p)
}

// heapPeak samples the heap in use and keeps the highest value.
type heapPeak struct{ max uint64 }

func (h *heapPeak) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.max = max(h.max, m.HeapInuse)
}

func TestReader_GiganticLine(t *testing.T) {
	const (
		size   = 1 << 30   // line 3, never held
		quoted = 256 << 20 // line 6, full of doubled quotes: the slowest to skip
		bound  = 64 << 20
	)
	// Line 3 is 1 GiB; line 6, inside a quoted note that goes on to
	// line 7, is 256 MiB. Both are rejected, and the rows around them
	// are read, at their lines.
	inner := newLazyFile("", quoted, "Lorem ipsum, \"\"dolor\"\" sit amet " /* 32 bytes, quotes doubled */, "\nend of note\",5\nGrace,Hopper,,6\n")
	f := io.MultiReader(
		newLazyFile("firstname,lastname,note,id\nAda,Lovelace,,1\nBad,", size, "x", "\nAlan,Turing,,3\nEdsger,Dijkstra,\"a note\n"),
		inner)
	var peak heapPeak
	src := &countingReader{r: f, sample: peak.sample}
	start := time.Now()
	r, err := NewReader(src, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		line  int
		first string
		err   string
	}
	wants := []want{
		{line: 2, first: "Ada"},
		{line: 3, err: "line 3: the line is longer than 1 MiB; the rest of it was skipped unread"},
		{line: 4, first: "Alan"},
		{line: 5, err: "lines 5–7: a quote opened on line 5 closes on line 7; 3 lines were read as one record: line 6 of the record is longer than 1 MiB; the rest of it was skipped unread"},
		{line: 8, first: "Grace"},
	}
	for i := 0; ; i++ {
		rec, err := r.Next()
		peak.sample()
		if err == io.EOF {
			if i != len(wants) {
				t.Fatalf("read %d records, want %d", i, len(wants))
			}
			break
		}
		if err != nil {
			t.Fatalf("Next() error = %v", err)
		}
		if i >= len(wants) {
			t.Fatalf("Next() = %+v, want io.EOF", rec)
		}
		w := wants[i]
		if rec.Line != w.line || rec.FirstName != w.first || errText(rec.Err) != w.err {
			t.Errorf("Next() = line %d, %q, %v; want line %d, %q, %s", rec.Line, rec.FirstName, rec.Err, w.line, w.first, w.err)
		}
	}
	elapsed := time.Since(start)
	if src.n < size+quoted {
		t.Errorf("read %d bytes of input, want all of it (%d)", src.n, size+quoted)
	}
	t.Logf("read %d MiB with lines of 1 GiB and 256 MiB in %v; heap in use peaked at %.1f MiB", src.n>>20, elapsed.Round(time.Millisecond), float64(peak.max)/(1<<20))
	if peak.max > bound {
		t.Errorf("heap in use peaked at %d MiB, want under %d MiB", peak.max>>20, bound>>20)
	}
}

// countingReader counts the bytes read through it and samples the heap
// every 64 MiB.
type countingReader struct {
	r      io.Reader
	n      int64
	sample func()
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n/(64<<20) != (c.n+int64(n))/(64<<20) {
		c.sample()
	}
	c.n += int64(n)
	return n, err
}

func TestReader_GiganticHeader(t *testing.T) {
	r, err := NewReader(newLazyFile("firstname,lastname,", 4<<20, "x", "\nAda,Lovelace,x\n"), ReaderOptions{})
	var he *HeaderError
	if !errors.As(err, &he) {
		t.Fatalf("NewReader() = %v, %v, want a *HeaderError", r, err)
	}
	if want := "header: line 1 is longer than 1 MiB; is the file a CSV of people, one per line?"; err.Error() != want {
		t.Errorf("NewReader() error = %v, want %s", err, want)
	}
}

func TestReader_UnclosedQuote(t *testing.T) {
	// The note opened on line 2 is never closed: each line after it is
	// short, but the record would take the rest of the file. It is ended
	// once it passes 8 MiB; the lines after are read as records again.
	const lines = 200 // of 64 KiB: 12.5 MiB
	var b strings.Builder
	b.WriteString("firstname,lastname,note\nAda,Lovelace,\"never closed\n")
	filler := strings.Repeat("y", 64<<10-1) + "\n"
	for range lines {
		b.WriteString(filler)
	}
	b.WriteString("Grace,Hopper,ok\n")
	r, err := NewReader(strings.NewReader(b.String()), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, r)
	first := recs[0]
	var re *RowError
	if !errors.As(first.Err, &re) || first.Line != 2 || !strings.Contains(re.Error(), "the record goes on past 8 MiB by line") {
		t.Fatalf("record 1 = line %d, %v; want line 2 failed as longer than 8 MiB", first.Line, first.Err)
	}
	var end int
	fmt.Sscanf(re.Error()[strings.Index(re.Error(), "by line ")+len("by line "):], "%d", &end)
	if end < 2+(8<<20)/(64<<10) || end > 2+(8<<20)/(64<<10)+1 {
		t.Errorf("the record was ended at line %d, want where it passes 8 MiB", end)
	}
	// The filler lines after the end are records of one field, and Grace
	// is on the last line.
	if n, want := len(recs), 1+(lines+2-end)+1; n != want {
		t.Errorf("read %d records, want %d", n, want)
	}
	for i, rec := range recs[1 : len(recs)-1] {
		if rec.Line != end+1+i || !strings.Contains(errText(rec.Err), "wrong number of fields") {
			t.Errorf("record at line %d: %v, want line %d with the wrong number of fields", rec.Line, rec.Err, end+1+i)
			break
		}
	}
	if last := recs[len(recs)-1]; last.Line != lines+3 || last.FirstName != "Grace" || last.Err != nil {
		t.Errorf("last record = line %d, %q, %v; want line %d, Grace", last.Line, last.FirstName, last.Err, lines+3)
	}
}
