package batch

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// The rows of a chunk read ahead may be older than what the reader did
// since the read began: the identities of the chunks it took meanwhile
// are read again, and when it no longer knows them, every row is.
func TestRecentChunks_since(t *testing.T) {
	var r recentChunks
	for seq, ids := range [][]string{{"a", "b"}, {"c"}, {"d"}, {"e"}, {"f"}} {
		r.add(seq, ids)
	}
	tests := []struct {
		since, seq int
		want       []string
		ok         bool
	}{
		{5, 5, nil, true},                     // read when the reader had taken every chunk before
		{4, 5, []string{"f"}, true},           // read while it took chunk 4
		{2, 5, []string{"d", "e", "f"}, true}, // three chunks ahead
		{1, 5, []string{"c", "d", "e", "f"}, true},
		{0, 5, nil, false}, // chunk 0 is forgotten
		{4, 6, nil, false}, // chunk 5 was never added
	}
	for _, tt := range tests {
		got, ok := r.since(tt.since, tt.seq)
		if ok != tt.ok || !slices.Equal(slices.Sorted(maps.Keys(got)), tt.want) {
			t.Errorf("since(%d, %d) = %v, %v; want %v, %v", tt.since, tt.seq, got, ok, tt.want, tt.ok)
		}
	}
	p := &prefetched{rows: map[string]journal.Row{"a": {Identity: "a"}}, asked: map[string]bool{"a": true}, stale: map[string]bool{"a": true}}
	if _, _, ok := p.take("a"); ok {
		t.Error("take gave a stale row")
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
