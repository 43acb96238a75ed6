package input

import (
	"bytes"
	"encoding/csv"
	"io"
	"testing"
)

func TestRecordCounter(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"plain", "a,b\n1,2\n3,4\n"},
		{"no final line break", "a,b\n1,2\n3,4"},
		{"CRLF", "a,b\r\n1,2\r\n"},
		{"blank lines", "a,b\n\n1,2\n\r\n3,4\n\n"},
		{"quoted line break", "a,b\n\"x\ny\",2\n3,4\n"},
		{"doubled quotes", "a,b\n\"say \"\"hi\"\"\",2\n"},
		{"empty", ""},
	}
	for _, tt := range tests {
		cr := csv.NewReader(bytes.NewReader([]byte(tt.in)))
		cr.FieldsPerRecord = -1
		want := 0
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			want++
		}
		// Fed one byte at a time and whole: the same count.
		var c1, c2 recordCounter
		for i := range len(tt.in) {
			c1.Write([]byte{tt.in[i]})
		}
		c2.Write([]byte(tt.in))
		if c1.count() != want || c2.count() != want {
			t.Errorf("%s: count = %d and %d, want %d as encoding/csv reads it", tt.name, c1.count(), c2.count(), want)
		}
	}
}
