package batch

import (
	"hash/maphash"
	"math"
	"sync"

	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// kept.go holds the rows a job keeps in memory instead of journaling them.
// Within an invocation, what matters of such a row is that a later line
// with the same identity is refused as a duplicate; memory answers that.
//
//   - A plan keeps every row it reads or finishes: its journal is a scratch
//     copy that nobody reads once the plan ends. What a plan no longer
//     reads back: a record ignored (OneRoster: leaving, or not
//     provisioned) or a OneRoster leaver whose identity an earlier line of
//     the same plan recorded is reported with the scratch journal's older
//     row (its address and names), not with that line's.
//   - A run keeps the rows it finishes as skipped (done in an earlier run,
//     nothing to change), and the journal records only that the run
//     skipped them, by line (journal/skips.go): rewriting each of them
//     would rewrite every row of a rerun of tonight's cumulative file.
//     Such a row keeps the run, line and status of the run that last
//     changed it. A resumed run reads its skips back (skippedBefore) and
//     does not report those lines again.
//
// Memory is bounded: past keptMemory rows, rows are journaled as rows.

// keptMemory bounds how many rows a job keeps in memory: about 36 bytes
// each in the map, 9 MB at most.
var keptMemory = 1 << 18 // a variable for tests

// keptRows are the rows kept in memory, by identity, with their lines. An
// identity is kept as a 96-bit fingerprint (two hashes with seeds of this
// process), not as a string: a third of the memory. A new identity is
// taken for a kept one with a probability under 1e-17 over a million
// rows. A nil *keptRows keeps nothing.
type keptRows struct {
	mu       sync.Mutex
	lines    map[uint64]keptRow
	capacity int // keptMemory
}

type keptRow struct {
	line  int32
	check uint32 // the second hash: with the key, 96 bits
}

var keptSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func newKeptRows() *keptRows { return &keptRows{lines: map[uint64]keptRow{}, capacity: keptMemory} }

func keptKey(identity string) (uint64, uint32) {
	return maphash.String(keptSeeds[0], identity), uint32(maphash.String(keptSeeds[1], identity))
}

// keep records the row with identity at line, and reports whether it did:
// false for a nil *keptRows, or for a new identity once keptMemory rows
// are kept.
func (p *keptRows) keep(identity string, line int) bool {
	if p == nil || line > math.MaxInt32 {
		return false
	}
	key, check := keptKey(identity)
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.lines[key]; ok && r.check != check || !ok && len(p.lines) >= p.capacity {
		// Another identity's key, or no room: the journal keeps this one.
		return false
	}
	p.lines[key] = keptRow{line: int32(line), check: check}
	return true
}

// line returns the line of the row kept with identity, if one is.
func (p *keptRows) line(identity string) (int, bool) {
	if p == nil {
		return 0, false
	}
	key, check := keptKey(identity)
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.lines[key]
	if !ok || r.check != check {
		return 0, false
	}
	return int(r.line), true
}

// destination says where a row goes once an event moved it.
type destination int

const (
	toJournal destination = iota // its record in the journal's rows
	toMemory                     // kept in memory only, or nowhere (a plan's finished rows past keptMemory)
	toSkips                      // kept in memory; the journal records that the run skipped it
)

// destination returns where row r goes once event ev moved it, and keeps
// it in memory when it goes there:
//   - a plan keeps every row as far as keptMemory allows, and journals the
//     others, except the rows it finishes: those only a duplicate line
//     reads back, and it finds them while they are queued (finisher);
//   - a run keeps the rows it finishes as skipped, as far as keptMemory
//     allows, and records them as skips; it journals every other row.
func (s *runner) destination(r *journal.Row, ev event) destination {
	switch {
	case s.job.Mode == Plan:
		if s.inMemory.keep(r.Identity, r.Line) || ev == evFinished {
			return toMemory
		}
	case ev == evFinished && r.Status == report.StatusSkipped && r.Stored && s.inMemory.keep(r.Identity, r.Line):
		return toSkips
	}
	return toJournal
}

// lineSet is a set of line numbers, a bit each.
type lineSet []uint64

// maxSetLine bounds the lines a lineSet holds (8 MB of bits): a line past
// it is not added, so a damaged journal cannot take the memory.
const maxSetLine = 1 << 26

func (l *lineSet) add(line int) {
	if line < 0 || line > maxSetLine {
		return
	}
	i := line / 64
	if i >= len(*l) {
		*l = append(*l, make([]uint64, i+1-len(*l))...)
	}
	(*l)[i] |= 1 << (line % 64)
}

func (l lineSet) has(line int) bool {
	i := line / 64
	return line >= 0 && i < len(l) && l[i]&(1<<(line%64)) != 0
}
