package input

import (
	"bytes"
	"fmt"
	"io"
)

// maxLineBytes is the longest physical line the reader takes, not counting
// the '\n' that ends it: 1 MiB. encoding/csv holds a whole line in memory
// before it splits it into fields, so one gigantic line (a binary file, a
// file without line breaks, an attack) would otherwise be read into memory
// whole. No row of people comes near it: a thousand columns of 1 KB each
// would. The record with a longer line fails, its rest is skipped without
// being held, and reading goes on with the next line.
const maxLineBytes = 1 << 20

// maxRecordBytes is the most a record may hold over all its lines: 8 MiB.
// Only a quoted field goes on over several lines, so a longer record is a
// quote that is never closed, which would otherwise swallow the rest of the
// file into memory. The record fails where it passes the limit, and reading
// goes on with the next line as a new record.
const maxRecordBytes = 8 << 20

// csvState is where encoding/csv's parser stands after some bytes of a
// line: enough to tell where a record ends.
type csvState uint8

const (
	fieldStart  csvState = iota // at the start of a field, where a quote opens a quoted field
	unquoted                    // in a field that does not start with a quote
	quoted                      // in a quoted field; a line break does not end it
	quoteSeen                   // a quote in a quoted field: it doubles, or ends the field
	quoteSeenCR                 // a closing quote and a CR: a line break must follow
	badLine                     // the parser failed on this line and drops the rest of it
)

// overlong is a line the guard cut, or a record it ended early.
type overlong struct {
	line   int   // the physical line, 1-based
	end    int64 // offset in the guarded stream just past that line
	record bool  // the record was too long, not the line
}

// err returns the reason a record that holds o fails; start is the line
// where the record starts.
func (o overlong) err(start int) error {
	if o.record {
		return &unclosedQuote{fmt.Sprintf("the record goes on past 8 MiB by line %d, so a quote is probably never closed; it was ended there and reading went on with line %d", o.line, o.line+1)}
	}
	if o.line == start {
		return fmt.Errorf("the line is longer than 1 MiB; the rest of it was skipped unread")
	}
	return fmt.Errorf("line %d of the record is longer than 1 MiB; the rest of it was skipped unread", o.line)
}

// A lineGuard passes a CSV stream on to encoding/csv unchanged, except
// that it keeps every physical line to maxLineBytes and every record to
// maxRecordBytes, without ever holding more than a buffer of the input.
//
// Of a longer line it passes the first maxLineBytes bytes, drops the rest
// up to the line break while following the quotes in it, and then passes a
// bridge of one or two bytes (a quote, or a delimiter and a quote) that
// leaves the parser inside or outside a quoted field exactly as the whole
// line would have. It passes every '\n', so the parser's line numbers stay
// those of the file, and the records after the cut are the file's own.
// A record that reaches maxRecordBytes is ended at the end of a line with
// a closing quote. The Reader fails the record that holds a cut (see
// claim).
//
// The delimiter must be one byte: the guard follows the quotes byte by
// byte, as encoding/csv does. maxLine must be at least 2, so that what is
// left of a cut line is never a blank line, which the parser would skip.
type lineGuard struct {
	src       io.Reader
	delim     byte
	maxLine   int
	maxRecord int

	buf    []byte  // holds what was read from src
	in     []byte  // the part of buf not yet looked at
	pass   []byte  // to hand on: a part of in
	bridge []byte  // to hand on after pass
	bb     [3]byte // bridge's storage
	err    error   // from src, returned once everything before it was handed on

	state    csvState // the parser's state after the bytes handed on
	line     int      // the current physical line, 1-based
	lineLen  int      // bytes of the current line handed on
	recLen   int      // bytes of the current record handed on
	skipping bool     // dropping the rest of a line that is too long
	cut      csvState // the parser's state where that line was cut
	truth    csvState // the state the dropped bytes lead to
	queued   int64    // bytes handed on or queued in pass and bridge
	cuts     []overlong
	// breaks holds the offsets in the guarded stream of the line breaks
	// queued and not yet forgotten by lineAt, and forgotten counts those
	// before them. The parser reads ahead by one buffer at most, so it
	// stays short when lineAt is called after every record.
	breaks    []int64
	forgotten int
}

func newLineGuard(src io.Reader, delim byte) *lineGuard {
	return &lineGuard{src: src, delim: delim, maxLine: maxLineBytes, maxRecord: maxRecordBytes,
		buf: make([]byte, 64<<10), line: 1}
}

func (g *lineGuard) Read(p []byte) (int, error) {
	for len(g.pass) == 0 && len(g.bridge) == 0 {
		switch {
		case len(g.in) > 0:
			g.step()
		case g.err != nil && g.skipping:
			g.endCut(false) // the long line is the last one
		case g.err != nil:
			return 0, g.err
		default:
			n, err := g.src.Read(g.buf)
			g.in, g.err = g.buf[:n], err
		}
	}
	n := copy(p, g.pass)
	g.pass = g.pass[n:]
	m := copy(p[n:], g.bridge)
	g.bridge = g.bridge[m:]
	return n + m, nil
}

// step looks at the bytes of in up to the next line break, or all of them,
// and queues what to hand on.
func (g *lineGuard) step() {
	nl := bytes.IndexByte(g.in, '\n')
	content := g.in
	if nl >= 0 {
		content = g.in[:nl]
	}
	if g.skipping {
		g.truth = g.scan(g.truth, content)
		if nl < 0 {
			g.in = nil
			return
		}
		g.in = g.in[nl+1:]
		g.endCut(true)
		return
	}
	if room := g.maxLine - g.lineLen; len(content) > room {
		head := content[:room]
		g.cut = g.scan(g.state, head)
		g.truth = g.cut
		g.queuePass(head)
		g.in = g.in[room:]
		g.skipping = true
		return
	}
	g.state = g.scan(g.state, content)
	g.lineLen += len(content)
	if nl < 0 {
		g.queuePass(content)
		g.in = nil
		return
	}
	line := g.in[:nl+1]
	g.in = g.in[nl+1:]
	if g.state == quoted && g.recLen+len(line) > g.maxRecord {
		// Close the quote before the line break, so that the record
		// ends here and the next line starts a new one.
		g.queuePass(content)
		g.queueBridge(append(g.bb[:0], '"', '\n'))
		g.cuts = append(g.cuts, overlong{line: g.line, end: g.queued, record: true})
		g.state = fieldStart
	} else {
		g.queuePass(line)
	}
	g.endLine()
}

// endCut ends a line that was too long: after the head handed on, a bridge
// takes the parser to the state the whole line would have left it in, and
// the line break follows (unless the input ended).
func (g *lineGuard) endCut(newline bool) {
	inside := g.truth == quoted
	b := g.bb[:0]
	switch {
	case inside && (g.cut == fieldStart || g.cut == quoteSeen):
		b = append(b, '"') // opens a quoted field, or doubles the quote
	case inside && g.cut == unquoted:
		b = append(b, g.delim, '"') // a new field, quoted
	case !inside && g.cut == quoted:
		b = append(b, '"') // closes the field
	}
	// Inside from quoteSeenCR or badLine cannot be: the parser failed on
	// the line, or will at its next byte, and so does the whole line.
	if newline {
		b = append(b, '\n')
	}
	g.queueBridge(b)
	g.cuts = append(g.cuts, overlong{line: g.line, end: g.queued})
	g.skipping = false
	g.state = g.truth
	if newline {
		g.endLine()
	}
}

// endLine moves on to the next line.
func (g *lineGuard) endLine() {
	g.line++
	g.lineLen = 0
	if g.state != quoted {
		g.state = fieldStart
		g.recLen = 0
	}
}

func (g *lineGuard) queuePass(b []byte) {
	g.pass = b
	g.queue(b)
}

func (g *lineGuard) queueBridge(b []byte) {
	g.bridge = b
	g.queue(b)
}

// queue counts b as handed on. A line break only ever ends what is
// queued at once.
func (g *lineGuard) queue(b []byte) {
	g.queued += int64(len(b))
	g.recLen += len(b)
	if len(b) > 0 && b[len(b)-1] == '\n' {
		g.breaks = append(g.breaks, g.queued-1)
	}
}

// scan returns the parser's state after b, a part of a line without its
// '\n', starting in state st. It follows encoding/csv's readRecord without
// LazyQuotes: a quote opens a quoted field only at the start of a field,
// anywhere else in an unquoted field it is an error; in a quoted field a
// quote doubles or ends the field, and after it only the delimiter or the
// line break may come. It skips to the quotes with bytes.IndexByte, so
// it runs at memory speed.
func (g *lineGuard) scan(st csvState, b []byte) csvState {
	for len(b) > 0 {
		switch st {
		case fieldStart:
			if b[0] == '"' {
				st, b = quoted, b[1:]
			} else {
				st = unquoted
			}
		case unquoted:
			i := bytes.IndexByte(b, '"')
			switch {
			case i < 0:
				if b[len(b)-1] == g.delim {
					return fieldStart
				}
				return unquoted
			case i > 0 && b[i-1] == g.delim:
				st, b = quoted, b[i+1:]
			default:
				return badLine // a quote inside an unquoted field
			}
		case quoted:
			i := bytes.IndexByte(b, '"')
			if i < 0 {
				return quoted
			}
			st, b = quoteSeen, b[i+1:]
		case quoteSeen:
			switch b[0] {
			case '"':
				st = quoted
			case g.delim:
				st = fieldStart
			case '\r':
				st = quoteSeenCR
			default:
				return badLine // a quote in a quoted field, not doubled nor closing it
			}
			b = b[1:]
		default: // quoteSeenCR followed by more than a line break, or badLine
			return badLine
		}
	}
	return st
}

// claim returns the first cut in the guarded stream up to offset end, the
// end of the record just read, and forgets every cut up to there.
func (g *lineGuard) claim(end int64) (overlong, bool) {
	n := 0
	for n < len(g.cuts) && g.cuts[n].end <= end {
		n++
	}
	if n == 0 {
		return overlong{}, false
	}
	first := g.cuts[0]
	g.cuts = g.cuts[n:]
	return first, true
}

// lineAt returns the physical line, 1-based, of the byte at offset off in
// the guarded stream, and forgets the line breaks before it. off must not
// be less than at the last call: the reader asks for the last byte of each
// record, in order.
func (g *lineGuard) lineAt(off int64) int {
	n := 0
	for n < len(g.breaks) && g.breaks[n] < off {
		n++
	}
	g.forgotten += n
	g.breaks = g.breaks[n:]
	return g.forgotten + 1
}

// endsInQuote reports whether the input ended inside a quoted field at
// offset end: the record that ends there opened a quote that is never
// closed.
func (g *lineGuard) endsInQuote(end int64) bool {
	return g.err == io.EOF && len(g.in) == 0 && end == g.queued && g.state == quoted
}
