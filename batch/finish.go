package batch

import (
	"context"
	"sync"
	"time"

	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// finish.go is the finishing stage. Rows whose outcome is known, from the
// reader (rejected, skipped, failed before any call) and from the workers,
// are queued for one finisher goroutine, which writes their report lines,
// makes them durable with one fsync for the whole group, and only then
// records the rows as finished (evFinished) in the journal: a row never
// counts as reported before its line is on disk, and a generated password
// is on disk before the journal stops marking it as pending. Many rows
// share one fsync, and neither the reader nor a worker waits for it.

// maxGroup bounds how many rows share one fsync. When fewer than
// minGroup rows wait, the finisher gives the others groupWait to arrive:
// a group per wakeup rather than a row per wakeup, and fewer fsyncs.
const (
	maxGroup  = 1024
	minGroup  = 32
	groupWait = time.Millisecond
)

// finishing is a row whose outcome is known, on its way to the report.
type finishing struct {
	row  journal.Row // Status and Error set; record sets its state
	line report.Line
}

// A finisher writes the report lines of finished rows and records the rows
// in the journal once their lines are on disk.
type finisher struct {
	s      *runner
	report *report.File
	queue  chan finishing
	dead   chan struct{} // closed when run returns
	err    error         // why run returned early; read after dead is closed

	mu sync.Mutex
	// pending are the rows queued, by identity, with their lines, and the
	// rows recorded that a read of the journal begun before may not show:
	// a later line with the same identity finds them here.
	pending map[string]int
	// recorded are the groups recorded and still pending, oldest first;
	// commits counts the groups recorded.
	recorded []recordedGroup
	commits  uint64

	committed time.Time // when the finisher last committed the journal
}

// recordedGroup is a group of rows the finisher recorded, by identity and
// line, and the number of its commit.
type recordedGroup struct {
	commit     uint64
	identities []string
	lines      []int
}

func newFinisher(s *runner, out *report.File) *finisher {
	f := &finisher{s: s, report: out, queue: make(chan finishing, maxGroup), dead: make(chan struct{}), pending: map[string]int{},
		committed: time.Now()}
	go f.run()
	return f
}

// queued reports whether a row with identity is pending, and the line it
// was on.
func (f *finisher) queued(identity string) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	line, ok := f.pending[identity]
	return line, ok
}

// add queues a finished row. It fails only when the finisher stopped.
func (f *finisher) add(item finishing) error {
	f.mu.Lock()
	f.pending[item.row.Identity] = item.row.Line
	f.mu.Unlock()
	select {
	case f.queue <- item:
		return nil
	case <-f.dead:
		return f.err
	}
}

// recordedThrough returns how many groups the finisher has recorded: a
// read of the journal that begins now shows their rows.
func (f *finisher) recordedThrough() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commits
}

// forget drops from pending the rows of the groups recorded through
// commit: every read of the journal still to be used shows them.
func (f *finisher) forget(commit uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.recorded) > 0 && f.recorded[0].commit <= commit {
		g := f.recorded[0]
		for i, id := range g.identities {
			if f.pending[id] == g.lines[i] {
				delete(f.pending, id)
			}
		}
		f.recorded[0] = recordedGroup{}
		f.recorded = f.recorded[1:]
	}
}

// close waits for every queued row to be recorded and returns why the
// finisher stopped early, if it did. No row may be added after it.
func (f *finisher) close() error {
	close(f.queue)
	<-f.dead
	return f.err
}

func (f *finisher) run() {
	defer close(f.dead)
	// One slice for every group: nothing keeps a row of it after commit.
	group := make([]finishing, 0, maxGroup)
	for item := range f.queue {
		if len(f.queue) < minGroup {
			time.Sleep(groupWait)
		}
		group = append(group[:0], item)
	more:
		for len(group) < maxGroup {
			select {
			case next, ok := <-f.queue:
				if !ok {
					break more
				}
				group = append(group, next)
			default:
				break more
			}
		}
		if err := f.commit(group); err != nil {
			f.err = err
			return
		}
		clear(group) // its passwords too
	}
}

// commit writes the lines of a group, makes them durable, and records
// each row as finished.
func (f *finisher) commit(group []finishing) error {
	for _, item := range group {
		if err := f.report.Add(item.line); err != nil {
			return err
		}
	}
	if err := f.report.Sync(); err != nil {
		return err
	}
	ctx := context.Background()
	f.s.job.failpoint("reported")
	passwords := false
	rows := make([]*journal.Row, len(group))
	for i := range group {
		rows[i] = &group[i].row
		rows[i].ReportedRun = f.s.run.ID
		if group[i].line.Password != "" {
			rows[i].Password, passwords = journal.PasswordReported, true
		}
	}
	if err := f.s.finishRows(ctx, rows); err != nil {
		return err
	}
	g := recordedGroup{identities: make([]string, len(rows)), lines: make([]int, len(rows))}
	for i, r := range rows {
		g.identities[i], g.lines[i] = r.Identity, r.Line
	}
	f.mu.Lock()
	f.commits++
	g.commit = f.commits
	f.recorded = append(f.recorded, g)
	f.mu.Unlock()
	for _, r := range rows {
		f.s.count(r.Status)
	}
	// The journal forgets that passwords are pending only now that the
	// report holding them is on disk. And a run's rows reach the disk at
	// least every commitEvery even when nothing else commits them (a
	// rerun of done rows): a crash then reports few of them again.
	if passwords || f.s.job.Mode == Run && time.Since(f.committed) >= commitEvery {
		if err := f.s.journal.Commit(ctx); err != nil {
			return err
		}
		f.committed = time.Now()
	}
	return nil
}

// commitEvery is how long the finisher lets rows it recorded wait for a
// commit: a second's rows, reported again after a crash at most.
var commitEvery = time.Second // a variable for tests

// finishRows records rows as finished.
func (s *runner) finishRows(ctx context.Context, rows []*journal.Row) error {
	return s.recordAll(ctx, rows, evFinished)
}

// finish ends a row with a report status and reason, in file order for the
// reader's rows: its line goes to the report, and the row is recorded as
// finished once the line is on disk.
func (s *runner) finish(_ context.Context, t *task, status, reason string) error {
	line := report.Line{
		Line: t.rec.Line, ID: t.rec.ID, FirstName: t.rec.FirstName, LastName: t.rec.LastName,
		Email: t.row.Email, OrgUnit: t.orgUnit, Groups: t.groups, Status: status, Error: reason,
	}
	if t.passwordSet {
		line.Password = t.password
	}
	t.row.Status, t.row.Error = status, reason
	if status == report.StatusDeleted {
		t.row.UserID, t.row.Email = "", ""
	}
	return s.finisher.add(finishing{row: t.row, line: line})
}
