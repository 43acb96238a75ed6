package batch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
	admin "google.golang.org/api/admin/directory/v1"
)

// The rows of a chunk read ahead may be older than what the reader did
// since the read began: the identities of the chunks it took meanwhile
// are read again, and when it no longer knows them, every row is.
func TestRecentChunks(t *testing.T) {
	r := newRecentChunks()
	for seq, ids := range [][]string{{"a", "b"}, {"c", "a"}, {"d"}, {"e"}, {"f"}} {
		r.add(seq, ids)
	}
	tests := []struct {
		since, seq int
		knows      bool
		took       string // the identities taken from since on, of a…f
	}{
		{5, 5, true, ""},      // read when the reader had taken every chunk before
		{4, 5, true, "f"},     // read while it took chunk 4
		{2, 5, true, "def"},   // three chunks ahead
		{1, 5, true, "acdef"}, // a: chunk 1 took it again
		{0, 5, false, ""},     // chunk 0 is forgotten
		{4, 6, false, ""},     // chunk 5 was never taken
	}
	for _, tt := range tests {
		if got := r.knows(tt.since, tt.seq); got != tt.knows {
			t.Errorf("knows(%d, %d) = %v, want %v", tt.since, tt.seq, got, tt.knows)
		}
		if !tt.knows {
			continue
		}
		var took string
		for _, id := range "abcdef" {
			if r.tookSince(string(id), tt.since) {
				took += string(id)
			}
		}
		if took != tt.took {
			t.Errorf("tookSince(…, %d) holds %q, want %q", tt.since, took, tt.took)
		}
	}
	if _, ok := r.last["b"]; ok {
		t.Error("b, taken only in the forgotten chunk 0, is still remembered")
	}
	p := &prefetched{rows: map[string]journal.Row{"f": {Identity: "f"}}, asked: map[string]bool{"f": true}, recent: r, since: 4}
	if _, _, ok := p.take("f"); ok {
		t.Error("take gave a row the reader took after it was read")
	}
}

// A duplicate in the next chunk, read ahead while the reader was taking
// the first line, is refused, and nobody gets two accounts.
func TestJob_duplicateInTheChunkAhead(t *testing.T) {
	var b strings.Builder
	b.WriteString("firstname,lastname,id\n")
	for i := range 3 * readAheadRecords {
		id := 7000 + i
		switch i {
		case readAheadRecords + 5:
			id = 7000 + readAheadRecords - 1 // the last line of the first chunk
		case 2*readAheadRecords + 1:
			id = 7000 + 2*readAheadRecords - 2
		}
		fmt.Fprintf(&b, "Person,Number%d,%d\n", i, id)
	}
	e := newEnv(t, emulator.Options{}, b.String())
	sum, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Statuses[report.StatusFailed] != 2 || sum.Statuses[report.StatusCreated] != 3*readAheadRecords-2 {
		t.Errorf("statuses = %v, want 2 duplicates failed", sum.Statuses)
	}
	owners := map[string]int{}
	for _, u := range e.emu.State().Users {
		for _, id := range u.ExternalIDs {
			owners[id.Value]++
		}
	}
	for id, n := range owners {
		if n > 1 {
			t.Errorf("ID %s has %d accounts", id, n)
		}
	}
}

// A row the reader fails itself waits in the finisher; the rows of a later
// chunk holding the same ID were read from the journal before the
// finisher recorded it. The later line is still refused as a duplicate.
func TestJob_duplicateOfARowTheFinisherRecordsLate(t *testing.T) {
	var b strings.Builder
	b.WriteString("firstname,lastname,id,email\n")
	far := 6*readAheadRecords + 5
	for i := range 8 * readAheadRecords {
		id, email := 7000+i, ""
		switch i {
		case 0:
			email = "admin@example.org" // reserved: the reader fails the row
		case far:
			id = 7000
		}
		fmt.Fprintf(&b, "Person,Number%d,%d,%s\n", i, id, email)
	}
	e := newEnv(t, emulator.Options{}, b.String())
	// The finisher records its first group only once a worker creates a
	// row of the chunk before the duplicate: that chunk ahead was read then.
	d := &watchInserts{Directory: e.client, reached: make(chan struct{}), prefix: fmt.Sprintf("personnumber%d@", 6*readAheadRecords)}
	var once sync.Once
	sum, err := e.runWith(t.Context(), d, func(name string) {
		if name == "reported" {
			once.Do(func() {
				select {
				case <-d.reached:
				case <-time.After(5 * time.Second):
				}
			})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Statuses[report.StatusFailed] != 2 {
		t.Errorf("statuses = %v, want 2 failed: the reserved address, then the duplicate", sum.Statuses)
	}
	text := strings.Join(flatten(readCSV(t, e.report)), "\n")
	if want := fmt.Sprintf(`line %d: the same ID "7000" as line 2`, far+2); !strings.Contains(text, want) {
		t.Errorf("report lacks %q", want)
	}
}

// watchInserts tells when an account with an address starting with prefix
// is created.
type watchInserts struct {
	Directory
	once    sync.Once
	reached chan struct{}
	prefix  string
}

func (d *watchInserts) InsertUser(ctx context.Context, u *admin.User) (*admin.User, error) {
	if strings.HasPrefix(u.PrimaryEmail, d.prefix) {
		d.once.Do(func() { close(d.reached) })
	}
	return d.Directory.InsertUser(ctx, u)
}
