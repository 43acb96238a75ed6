package input

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// recordCounter counts the records of a CSV stream fed to it in pieces,
// as encoding/csv reads them: a line break ends a record unless it is
// inside a quoted field, and blank lines are no record. The header is
// counted too. It does not check the quotes: a file with a broken quote
// may count a few records more or less than the reader finds, which is
// all an estimate of what a run still has to do needs.
type recordCounter struct {
	records int
	quoted  bool // inside a quoted field
	content bool // the current line holds more than a CR
}

func (c *recordCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		switch {
		case b == '"':
			c.quoted = !c.quoted
			c.content = true
		case b == '\n' && !c.quoted:
			if c.content {
				c.records++
			}
			c.content = false
		case b != '\r':
			c.content = true
		}
	}
	return len(p), nil
}

// count returns the records seen, the last one included when the stream
// does not end with a line break.
func (c *recordCounter) count() int {
	if c.content {
		return c.records + 1
	}
	return c.records
}

// scanInput returns the SHA-256 of the input and the number of its
// records, the header included (see recordCounter).
func scanInput(r io.Reader) (hash string, records int, err error) {
	h := sha256.New()
	var rc recordCounter
	if _, err := io.CopyBuffer(io.MultiWriter(h, &rc), r, make([]byte, 256<<10)); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), rc.count(), nil
}
