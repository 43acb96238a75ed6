package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/naming"
	"golang.org/x/sync/errgroup"
)

// runner is what one invocation of a job shares between its reader and its
// workers.
type runner struct {
	job      *Job
	cfg      Config
	dir      Directory
	journal  *journal.Journal
	run      journal.Run
	finisher *finisher // the finishing stage: report lines, then the journal
	inMemory *keptRows // rows kept in memory instead of journaled (kept.go)
	// skippedBefore are the lines earlier invocations of this run
	// skipped (kept.go).
	skippedBefore lineSet
	placement     *placement
	// columns are the managed fields besides the names that the file has
	// a column for: title, department, manager, phone.
	columns  map[string]bool
	provides func(field string) bool // whether the file gives a field (Reader.Provides)
	reserver *naming.Reserver
	log      *slog.Logger
	orgUnits *existence
	groups   *existence
	// groupsToCreate are the missing groups plan found run would create.
	groupsToCreate stringSet
	// leavers are the accounts a full file leaves out, acted on after the
	// last row; leaverInfo says what was found.
	leavers      []leaver
	leaverInfo   *Leavers
	createMoveTo bool // leavers.moveTo is missing and may be created

	mu     sync.Mutex
	counts map[string]int // statuses of rows finished by this invocation
	// stop is the systemic refusal that halted the job, once one did.
	stop *directory.SystemicError
}

// halt stops the job taking rows, for a systemic refusal of the directory.
func (s *runner) halt(sys *directory.SystemicError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop == nil {
		s.stop = sys
		s.log.Error("the directory refuses the job itself; stopping: no new row is taken, rows not finished stay pending",
			"refusal", sys.Kind.String(), "fix", sys.Fix)
	}
}

// halted returns the refusal that halted the job, or nil.
func (s *runner) halted() *directory.SystemicError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop
}

// process reads the input in order, names each row, and hands the rows
// that need remote work to a bounded pool of workers. It stops taking rows
// when ctx is cancelled; workers use work, which outlives ctx by the grace
// period.
func (s *runner) process(ctx, work context.Context, reader *input.Reader) error {
	g, gctx := errgroup.WithContext(work)
	g.SetLimit(s.cfg.Concurrency)
	readErr := s.readAhead(reader, func(rec input.Record, known *prefetched) (bool, error) {
		if ctx.Err() != nil || gctx.Err() != nil || s.halted() != nil {
			return false, nil
		}
		t, err := s.prepare(ctx, rec, known)
		if err != nil || t == nil {
			return err == nil, err
		}
		if s.job.Mode == Plan && s.plannable(t) {
			// Nothing to ask the directory: a worker would only add
			// the cost of a goroutine.
			return true, s.work(ctx, gctx, t)
		}
		g.Go(func() error { return s.work(ctx, gctx, t) })
		return true, nil
	})
	werr := g.Wait()
	if readErr != nil {
		return readErr
	}
	if werr != nil {
		return werr
	}
	return ctx.Err()
}

// count records a finished row.
func (s *runner) count(status string) {
	s.mu.Lock()
	s.counts[status]++
	s.mu.Unlock()
	if s.job.Progress != nil {
		s.job.Progress.Row(status)
	}
}

// A chunk is some records read ahead, with the identities of the valid
// ones and their rows in the journal, or the error that ended the reading.
type chunk struct {
	seq   int // 0 for the first chunk of the file, then 1, 2…
	recs  []input.Record
	ids   []string
	known *prefetched
	// since is how many chunks the reader had taken when known was read:
	// the reader may have changed the rows of the chunks from since on
	// since. recorded is how many groups the finisher had recorded then:
	// the rows it recorded after stay pending in it until a later read
	// shows them (finisher.forget).
	since    int
	recorded uint64
	err      error
}

// readChunks reads and validates the input on a goroutine of its own, a
// few records at a time, and reads their rows from the journal on
// another, until the end, an error, or stop; both are done when wg is.
// taken is how many chunks the reader has taken.
func (s *runner) readChunks(reader *input.Reader, taken *atomic.Int64, stop <-chan struct{}, wg *sync.WaitGroup) <-chan chunk {
	read := make(chan chunk, 2)
	wg.Go(func() {
		defer close(read)
		for seq := 0; ; seq++ {
			c := s.readChunk(reader, seq)
			if len(c.recs) == 0 && c.err == nil {
				return
			}
			select {
			case read <- c:
			case <-stop:
				return
			}
			if c.err != nil || len(c.recs) < readAheadRecords {
				return
			}
		}
	})
	chunks := make(chan chunk, 2)
	wg.Go(func() {
		defer close(chunks)
		for c := range read {
			c.since, c.recorded = int(taken.Load()), s.finisher.recordedThrough()
			rows, accounts, err := s.journal.RowsAndAccountsOf(context.Background(), c.ids)
			if err != nil {
				// The journal failed: the job stops before these records.
				c.recs, c.err = nil, err
			} else {
				c.known = &prefetched{rows: rows, asked: make(map[string]bool, len(c.ids)), accounts: accounts}
				for _, id := range c.ids {
					c.known.asked[id] = true
				}
			}
			select {
			case chunks <- c:
			case <-stop:
				return
			}
			if c.err != nil {
				return
			}
		}
	})
	return chunks
}

// readChunk reads the next records of the input.
func (s *runner) readChunk(reader *input.Reader, seq int) chunk {
	c := chunk{seq: seq, recs: make([]input.Record, 0, readAheadRecords)}
	for len(c.recs) < readAheadRecords {
		rec, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.err = fmt.Errorf("read input %s: %w", s.job.InputPath, err)
			break
		}
		if rec.Err == nil && s.job.roster != nil {
			s.job.roster.enrich(&rec)
		}
		c.recs = append(c.recs, rec)
		if rec.Err == nil {
			c.ids = append(c.ids, identityOf(rec, s.cfg).key)
		}
	}
	return c
}

// readAheadRecords is how many records the reader takes at a time: their
// rows are read from the journal in one query.
const readAheadRecords = 128

// prefetched holds the journal's rows of the records read ahead, and the
// snapshot's accounts of those rows.
type prefetched struct {
	rows     map[string]journal.Row
	asked    map[string]bool
	accounts map[string]journal.Account // by lowercased address
	// The rows of identities the reader took after they were read (in a
	// chunk from since on) are read again.
	recent *recentChunks
	since  int
}

// account returns the prefetched account at email, if the snapshot has it.
func (p *prefetched) account(email string) (journal.Account, bool) {
	a, ok := p.accounts[strings.ToLower(email)]
	return a, ok
}

// take returns the prefetched row of identity, once: a second record with
// the same identity, or one the reader took after the read, reads the
// journal again, to see what the first did.
func (p *prefetched) take(identity string) (row journal.Row, known, ok bool) {
	if p == nil || !p.asked[identity] || p.recent != nil && p.recent.tookSince(identity, p.since) {
		return journal.Row{}, false, false
	}
	delete(p.asked, identity)
	row, known = p.rows[identity]
	delete(p.rows, identity)
	return row, known, true
}

// readAhead reads the input in file order and calls fn with each record
// until fn returns false or an error. Two goroutines of their own read and
// validate the records, a few at a time, and read their rows from the
// journal in one query, while fn works on the ones before (readChunks).
func (s *runner) readAhead(reader *input.Reader, fn func(input.Record, *prefetched) (bool, error)) error {
	stop := make(chan struct{})
	var readers sync.WaitGroup
	defer readers.Wait() // nothing reads the input or the journal once it returns
	defer close(stop)
	var taken atomic.Int64
	chunks := s.readChunks(reader, &taken, stop, &readers)
	recent := newRecentChunks()
	for c := range chunks {
		// Rows the finisher recorded before this chunk was read need not
		// stay pending: this read and every later one show them.
		s.finisher.forget(c.recorded)
		if c.known != nil {
			c.known.recent, c.known.since = recent, c.since
			if !recent.knows(c.since, c.seq) {
				c.known = nil // every row is read again
			}
		}
		for _, rec := range c.recs {
			goOn, err := fn(rec, c.known)
			if err != nil || !goOn {
				return err
			}
		}
		if c.err != nil {
			return c.err
		}
		recent.add(c.seq, c.ids)
		taken.Store(int64(c.seq + 1))
	}
	return nil
}

// recentChunks are the identities the reader took in its last chunks.
type recentChunks struct {
	ids  [4][]string    // the identities of chunk seq at seq % 4; readChunks is never further ahead
	last map[string]int // identity → the last of those chunks that took it
	n    int            // chunks taken
}

func newRecentChunks() *recentChunks { return &recentChunks{last: map[string]int{}} }

// add records that the reader took chunk seq, with ids.
func (r *recentChunks) add(seq int, ids []string) {
	slot := seq % len(r.ids)
	for _, id := range r.ids[slot] { // chunk seq-4 leaves
		if r.last[id] == seq-len(r.ids) {
			delete(r.last, id)
		}
	}
	r.ids[slot] = ids
	for _, id := range ids {
		r.last[id] = seq
	}
	r.n = seq + 1
}

// knows reports whether r can tell which identities the chunks from since
// to seq-1 took: a read of rows that began when the reader had taken since
// chunks may not show theirs as they are.
func (r *recentChunks) knows(since, seq int) bool {
	return since >= seq || seq-since <= len(r.ids) && r.n == seq
}

// tookSince reports whether a chunk from since on took identity.
func (r *recentChunks) tookSince(identity string, since int) bool {
	seq, ok := r.last[identity]
	return ok && seq >= since
}
