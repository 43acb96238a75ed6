package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
)

// The writes a job makes for every row, a row saved and a name held, need
// no durability of their own (they are batched) and are the most frequent
// by far. They are not applied by the caller: they are queued in memory and
// a goroutine of the journal's own applies them to the database, so that
// the job's reader names the next row while SQLite stores the last ones.
// On two cores, SQLite's time is no longer added to the reader's.
//
// A queued write is visible at once: the lookups of the rows and names it
// concerns (Row, RowsAndAccountsOf, Holder, Reservations) are answered
// from the queue until it is applied. Everything else that reaches the
// database first applies the queue, in order, with j.mu held: every other
// write (so a durable intent commits the rows saved before it, and the
// database sees the writes in the order they were made), every commit,
// and every read that is not one of those lookups. A queued write lost in
// a crash is lost as an uncommitted batched write is; one the database
// refuses breaks the journal (see drainLocked).

// Queue bounds: the applier is woken once wakeAt writes wait (fewer wait
// for the next commit, read or heartbeat, within maxDelay); a writer waits
// for room once maxQueued do, so memory stays flat when SQLite is the
// slower of the two. applyTurn is how many writes the applier applies per
// hold of j.mu; a lookup waiting for j.mu gets it after the current
// write. Long turns keep the two goroutines from trading places too often.
const (
	wakeAt    = 1024
	maxQueued = 4096
	applyTurn = 1024
)

// A queuedWrite is one write waiting to be applied: a row to save or a name
// to hold.
type queuedWrite struct {
	seq  uint64
	row  *Row
	hold *heldName
}

type heldName struct{ name, owner string }

// writeQueue is the journal's queue of writes not yet applied, and the
// overlay through which lookups see them. It is guarded by j.mem.
type writeQueue struct {
	writes []queuedWrite
	rows   map[string]queuedWrite // the latest queued save of each row, by identity
	holds  map[string]string      // name → owner
	seq    uint64                 // of the last write queued
	// holdsApplied counts the holds applied: a Hold that looked the name
	// up before one was applied looks again (see Hold).
	holdsApplied uint64
	closing      bool          // Close has begun: nothing more is queued
	wake         chan struct{} // the applier's alarm; nil when no applier runs
}

func newWriteQueue() writeQueue {
	return writeQueue{rows: map[string]queuedWrite{}, holds: map[string]string{}}
}

// errRetry is what an overlay returns for enqueue to give up without
// queueing, so that its caller looks again.
var errRetry = errors.New("look again")

// enqueue queues w, after overlay has shown it to lookups; both run with
// j.mem held, and overlay may refuse w with an error (errRetry, or why).
// It waits for room when the queue is full.
func (j *Journal) enqueue(w queuedWrite, overlay func() error) error {
	if j.opts.ReadOnly {
		return errors.New("journal is open read-only")
	}
	j.mem.Lock()
	defer j.mem.Unlock()
	for {
		if err := j.usableMemLocked(); err != nil {
			return err
		}
		if j.queue.closing {
			return ErrClosed
		}
		if len(j.queue.writes) < maxQueued {
			break
		}
		j.wakeApplierMemLocked()
		j.room.Wait()
	}
	if err := overlay(); err != nil {
		return err
	}
	j.queue.seq++
	w.seq = j.queue.seq
	if w.row != nil {
		j.queue.rows[w.row.Identity] = w
	}
	j.queue.writes = append(j.queue.writes, w)
	if len(j.queue.writes) >= wakeAt {
		j.wakeApplierMemLocked()
	}
	return nil
}

// wakeApplierMemLocked wakes the applier, if one runs. j.mem must be held.
func (j *Journal) wakeApplierMemLocked() {
	if j.queue.wake == nil {
		return
	}
	select {
	case j.queue.wake <- struct{}{}:
	default: // woken already
	}
}

// usableMemLocked returns why the journal cannot be used, if it cannot.
// j.mem must be held.
func (j *Journal) usableMemLocked() error {
	switch {
	case j.shut:
		return ErrClosed
	case j.broken != nil:
		return j.broken
	}
	return nil
}

// applyQueued runs on its own goroutine for as long as the journal is open,
// applying queued writes whenever it is woken. Between two writes it lets
// a waiting lookup have the connection.
func (j *Journal) applyQueued() {
	defer j.appliers.Done()
	ctx := context.Background()
	for range j.queue.wake {
		for {
			j.mu.Lock()
			more := false
			if !j.closed {
				var err error
				more, err = j.drainLocked(ctx, applyTurn, math.MaxUint64, true)
				if err != nil && !errors.Is(err, ErrClosed) {
					j.logger.Error("journal write failed", "err", err)
				}
			}
			j.mu.Unlock()
			if !more {
				break
			}
		}
	}
}

// drainAllLocked applies every write queued so far; writes queued while
// it works wait for the next drain, so that a busy writer cannot keep it
// going forever. j.mu must be held.
func (j *Journal) drainAllLocked(ctx context.Context) error {
	j.mem.Lock()
	upto := j.queue.seq
	j.mem.Unlock()
	for {
		more, err := j.drainLocked(ctx, maxQueued, upto, false)
		if err != nil || !more {
			return err
		}
	}
}

// drainLocked applies up to n queued writes, oldest first and none queued
// after upto, in the open transaction, and reports whether more of those
// wait. With yield, it stops early for a lookup waiting for j.mu. A write
// that fails breaks the journal: the open transaction is rolled back (its
// grouped writes' waiters get the error), the writes queued after it are
// dropped, and every later call returns the error. j.mu must be held.
func (j *Journal) drainLocked(ctx context.Context, n int, upto uint64, yield bool) (bool, error) {
	j.mem.Lock()
	if err := j.usableMemLocked(); err != nil {
		j.mem.Unlock()
		if errors.Is(err, ErrClosed) {
			err = nil // Close applied the queue
		}
		return false, err
	}
	count := 0
	for count < min(n, len(j.queue.writes)) && j.queue.writes[count].seq <= upto {
		count++
	}
	batch := j.queue.writes[:count]
	j.mem.Unlock()
	if count == 0 {
		return false, nil
	}

	var err error
	applied := 0
	at := timestamp(j.opts.Now())
	for _, w := range batch {
		if _, err = j.applyLocked(ctx, batched, func() error { return j.applyWriteLocked(ctx, w, at) }); err != nil {
			break
		}
		applied++
		j.appliedSeq = w.seq
		if yield && j.lookups.Load() > 0 {
			break // a lookup waits for j.mu: it goes first
		}
	}
	if err != nil && j.tx {
		// A statement error leaves the transaction open, with the writes
		// before this one and perhaps an intent waiting for its commit.
		j.rollbackLocked(ctx, err)
	}

	j.mem.Lock()
	defer j.mem.Unlock()
	if err != nil || j.broken != nil {
		// The transaction, and the queue with it, are gone.
		j.breakMemLocked(cmp.Or(err, j.broken))
		return false, j.broken
	}
	for _, w := range batch[:applied] {
		if w.row != nil {
			if q, ok := j.queue.rows[w.row.Identity]; ok && q.seq == w.seq {
				delete(j.queue.rows, w.row.Identity)
			}
		}
		if h := w.hold; h != nil {
			delete(j.queue.holds, h.name)
			j.queue.holdsApplied++
			// The holder of a name many people share is looked up again.
			j.holders.put(h.name, h.owner)
		}
	}
	j.queue.writes = j.queue.writes[applied:]
	if len(j.queue.writes) == 0 {
		j.queue.writes = nil // let the backing array go
	}
	j.room.Broadcast()
	return len(j.queue.writes) > 0 && j.queue.writes[0].seq <= upto, nil
}

// breakMemLocked marks the journal unusable after err lost writes it had
// accepted. j.mem must be held.
func (j *Journal) breakMemLocked(err error) {
	if j.broken == nil {
		j.broken = fmt.Errorf("the journal lost writes and cannot go on: %w", err)
	}
	j.queue.writes = nil
	clear(j.queue.rows)
	clear(j.queue.holds)
	j.room.Broadcast()
}

// applyWriteLocked runs the statement of one queued write, stamped with
// at. j.mu must be held.
func (j *Journal) applyWriteLocked(ctx context.Context, w queuedWrite, at string) error {
	if h := w.hold; h != nil {
		if _, err := j.exec(ctx, "INSERT INTO reservations (name, owner, created_at) VALUES (?, ?, ?)", h.name, h.owner, at); err != nil {
			return fmt.Errorf("reserve %q for %s: %w", h.name, h.owner, err)
		}
		return nil
	}
	r := w.row
	var err error
	if r.Status == "" && r.Error == "" && r.UserID == "" && r.Password == PasswordNone && r.ReportedRun == 0 {
		// A row read or named, the most frequent save: fewer values.
		_, err = j.exec(ctx, rowUpsertNew, r.Identity, r.RunID, r.Line, r.ExternalID, r.FirstName, r.LastName, r.Email, r.OrgUnit,
			strings.Join(r.Groups, ";"), string(r.State), at)
	} else {
		_, err = j.exec(ctx, rowUpsert, r.Identity, r.RunID, r.Line, r.ExternalID, r.FirstName, r.LastName, r.Email, r.OrgUnit,
			strings.Join(r.Groups, ";"), string(r.State), r.Status, r.Error, r.UserID, string(r.Password), r.ReportedRun, at)
	}
	if err != nil {
		return fmt.Errorf("save row %s (line %d): %w", r.Identity, r.Line, err)
	}
	return nil
}
