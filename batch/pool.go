package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

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
// ones, or the error that ended the reading.
type chunk struct {
	recs []input.Record
	ids  []string
	err  error
}

// readChunks reads and validates the input on a goroutine of its own, a
// few records at a time, until the end, an error, or stop.
func (s *runner) readChunks(reader *input.Reader, stop <-chan struct{}) <-chan chunk {
	chunks := make(chan chunk, 2)
	go func() {
		defer close(chunks)
		for {
			c := chunk{recs: make([]input.Record, 0, readAheadRecords)}
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
			if len(c.recs) == 0 && c.err == nil {
				return
			}
			select {
			case chunks <- c:
			case <-stop:
				return
			}
			if c.err != nil || len(c.recs) < readAheadRecords {
				return
			}
		}
	}()
	return chunks
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
}

// account returns the prefetched account at email, if the snapshot has it.
func (p *prefetched) account(email string) (journal.Account, bool) {
	a, ok := p.accounts[strings.ToLower(email)]
	return a, ok
}

// take returns the prefetched row of identity, once: a second record with
// the same identity reads the journal again, to see what the first did.
func (p *prefetched) take(identity string) (row journal.Row, known, ok bool) {
	if p == nil || !p.asked[identity] {
		return journal.Row{}, false, false
	}
	delete(p.asked, identity)
	row, known = p.rows[identity]
	delete(p.rows, identity)
	return row, known, true
}

// readAhead reads the input in file order and calls fn with each record
// until fn returns false or an error. A goroutine of its own reads and
// validates the records, a few at a time, while fn works on the ones
// before; the journal's rows of each few are read in one query.
func (s *runner) readAhead(reader *input.Reader, fn func(input.Record, *prefetched) (bool, error)) error {
	stop := make(chan struct{})
	defer close(stop)
	chunks := s.readChunks(reader, stop)
	ctx := context.Background()
	for c := range chunks {
		rows, accounts, err := s.journal.RowsAndAccountsOf(ctx, c.ids)
		if err != nil {
			return err
		}
		known := &prefetched{rows: rows, asked: make(map[string]bool, len(c.ids)), accounts: accounts}
		for _, id := range c.ids {
			known.asked[id] = true
		}
		for _, rec := range c.recs {
			goOn, err := fn(rec, known)
			if err != nil || !goOn {
				return err
			}
		}
		if c.err != nil {
			return c.err
		}
	}
	return nil
}
