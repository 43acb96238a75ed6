package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Batching of writes that need no immediate durability: they are committed
// with the next durable write, or when the batch reaches maxBatch writes or
// maxDelay of age, whichever comes first.
const (
	maxBatch = 512
	maxDelay = 250 * time.Millisecond
	// A scratch journal needs no durability at all: its batches are only
	// bounded so that a commit never holds too much.
	maxScratchBatch = 1 << 18
	maxScratchDelay = 5 * time.Second
)

// batchLimits returns how many writes, and how old a batch, wait for a
// commit.
func (j *Journal) batchLimits() (int, time.Duration) {
	if j.opts.Scratch {
		return maxScratchBatch, maxScratchDelay
	}
	return maxBatch, maxDelay
}

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("journal is closed")

// ErrLeaseLost means another process took the journal's lease: this process
// must stop making changes.
var ErrLeaseLost = errors.New("the journal's lease was taken by another process")

// durability says whether a write must be on disk when the call returns.
type durability int

const (
	// batched: durable with a later commit.
	batched durability = iota
	// durable: committed before the call returns.
	durable
	// grouped: on disk before the call returns, committed together with
	// the grouped writes of other goroutines (see groupCommit): for the
	// intents and outcomes that every worker writes around each call.
	grouped
)

// write runs fn inside the journal's open transaction, starting one if
// needed, and commits according to d. fn runs with j.mu held.
func (j *Journal) write(ctx context.Context, d durability, fn func() error) error {
	seq, err := j.writeLocked(ctx, d, fn)
	if err != nil || d != grouped {
		return err
	}
	return j.awaitCommit(seq)
}

// writeLocked is write without the wait of a grouped write, whose sequence
// number it returns. The queued writes are applied first.
func (j *Journal) writeLocked(ctx context.Context, d durability, fn func() error) (uint64, error) {
	// A cancelled caller must not abort a statement half-way: the failure
	// would roll back the whole batch, other rows' writes with it.
	ctx = context.WithoutCancel(ctx)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.usableLocked(); err != nil {
		return 0, err
	}
	if err := j.drainAllLocked(ctx); err != nil {
		return 0, err
	}
	return j.applyLocked(ctx, d, fn)
}

// usableLocked returns why the journal cannot be used, if it cannot. j.mu
// must be held.
func (j *Journal) usableLocked() error {
	if j.closed {
		return ErrClosed
	}
	j.mem.Lock()
	defer j.mem.Unlock()
	return j.usableMemLocked()
}

// applyLocked runs fn in the open transaction. j.mu must be held.
func (j *Journal) applyLocked(ctx context.Context, d durability, fn func() error) (uint64, error) {
	if j.closed {
		return 0, ErrClosed
	}
	if j.opts.ReadOnly {
		return 0, errors.New("journal is open read-only")
	}
	if j.lost {
		return 0, ErrLeaseLost
	}
	if err := j.beginLocked(ctx); err != nil {
		return 0, err
	}
	if err := fn(); err != nil {
		if !isStatementError(err) {
			// The transaction may be gone with the error; abandon it
			// rather than commit half of it.
			j.rollbackLocked(ctx, err)
		}
		return 0, err
	}
	j.pending++
	j.written++
	limit, delay := j.batchLimits()
	switch {
	case d == durable, j.pending >= limit, j.opts.Now().Sub(j.txStarted) >= delay:
		return j.written, j.commitTxLocked(ctx)
	case d == grouped:
		select {
		case j.commitAsked <- struct{}{}:
		default: // a commit is asked for already: it will take this write too
		}
	}
	return j.written, nil
}

// beginLocked opens a transaction, unless one is open. j.mu must be held.
func (j *Journal) beginLocked(ctx context.Context) error {
	if j.tx {
		return nil
	}
	if _, err := j.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin journal transaction: %w", err)
	}
	j.tx, j.pending, j.txStarted = true, 0, j.opts.Now()
	return nil
}

// awaitCommit waits until the write with sequence number seq is on disk,
// or lost with a transaction that was rolled back.
func (j *Journal) awaitCommit(seq uint64) error {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	for {
		switch {
		case seq > j.lostFrom && seq <= j.lostThrough:
			return j.lostErr
		case seq <= j.committed:
			return nil
		case j.stopped:
			return ErrClosed
		}
		j.committedCond.Wait()
	}
}

// groupCommit commits, for as long as the journal is open, whenever a
// grouped write asks for it. While it commits (an fsync), other workers'
// grouped writes wait for the connection; they are all committed by the
// next commit: one fsync for many intents.
func (j *Journal) groupCommit() {
	defer j.committers.Done()
	for range j.commitAsked {
		j.mu.Lock()
		if !j.closed {
			j.commitLocked(context.Background()) // the outcome reaches the waiters
		}
		j.mu.Unlock()
	}
}

// noteCommitLocked tells the waiters of grouped writes what became of the
// writes so far: committed, or lost with err. j.mu must be held.
func (j *Journal) noteCommitLocked(err error) {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	if err == nil {
		j.committed = j.written
	} else if j.written > j.committed {
		j.lostFrom, j.lostThrough, j.lostErr = j.committed, j.written, err
		j.committed = j.written // nothing below it is waited for any more but through lostErr
	}
	j.committedCond.Broadcast()
}

// isStatementError reports whether err undid only the failing statement
// and left the transaction open, as constraint violations do.
func isStatementError(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}

// commitLocked applies the queued writes and commits them with the open
// transaction. j.mu must be held.
func (j *Journal) commitLocked(ctx context.Context) error {
	if err := j.drainAllLocked(ctx); err != nil {
		return err
	}
	return j.commitTxLocked(ctx)
}

// commitTxLocked commits the open transaction, and the counters that
// moved. j.mu must be held.
func (j *Journal) commitTxLocked(ctx context.Context) error {
	if !j.tx && !j.countersToFlush() {
		return nil
	}
	if err := j.beginLocked(ctx); err != nil {
		return err
	}
	if err := j.flushCountersLocked(ctx); err != nil {
		j.rollbackLocked(ctx, err)
		return err
	}
	// Commit even when ctx is cancelled: what was written must reach the
	// disk, an interrupted job most of all.
	if _, err := j.conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		err = fmt.Errorf("commit journal: %w", err)
		j.rollbackLocked(ctx, err)
		return err
	}
	j.tx, j.pending = false, 0
	j.noteCommitLocked(nil)
	return nil
}

// rollbackLocked abandons the open transaction, because of err, and with
// it what the caches learned from its writes; grouped writes waiting for it
// get err. Writes the transaction held are lost: the journal is broken.
// j.mu must be held.
func (j *Journal) rollbackLocked(ctx context.Context, err error) {
	j.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	lost := j.pending > 0
	j.tx = false
	j.noteCommitLocked(err)
	j.mem.Lock()
	defer j.mem.Unlock()
	j.holders, j.counters = newRecent[string](), newRecent[int]()
	if lost {
		clear(j.dirtyCounters)
		j.breakMemLocked(err)
	}
}

// Commit makes every write so far durable.
func (j *Journal) Commit(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.usableLocked(); err != nil {
		return err
	}
	return j.commitLocked(ctx)
}

// flushIfDue applies the queued writes and commits a batch that has
// waited maxDelay.
func (j *Journal) flushIfDue(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	if err := j.drainAllLocked(ctx); err != nil {
		return err
	}
	if _, delay := j.batchLimits(); !j.tx || j.opts.Now().Sub(j.txStarted) < delay {
		return nil
	}
	return j.commitTxLocked(ctx)
}

// read runs fn with j.mu held, after the queued writes are applied: fn
// sees every write made so far.
func (j *Journal) read(fn func() error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.usableLocked(); err != nil {
		return err
	}
	if err := j.drainAllLocked(context.Background()); err != nil {
		return err
	}
	return fn()
}

// lookup runs fn with j.mu held, without applying the queued writes
// first: for the lookups that looked at the queue before (rows, holders,
// reservations), and those of tables no write is queued for (names,
// counters).
func (j *Journal) lookup(fn func() error) error {
	j.lookups.Add(1)
	j.mu.Lock()
	j.lookups.Add(-1)
	defer j.mu.Unlock()
	if err := j.usableLocked(); err != nil {
		return err
	}
	return fn()
}

// each runs a query under the journal's lock and calls fn for every
// result row; what names the result in errors. fn must not call the
// journal.
func (j *Journal) each(ctx context.Context, what, query string, fn func(*sql.Rows) error, args ...any) error {
	return j.read(func() error { return j.eachLocked(ctx, what, query, fn, args...) })
}

// eachLocked is each for a caller that holds j.mu.
func (j *Journal) eachLocked(ctx context.Context, what, query string, fn func(*sql.Rows) error, args ...any) error {
	s, err := j.stmt(ctx, query)
	if err != nil {
		return err
	}
	q, err := s.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer q.Close()
	for q.Next() {
		if err := fn(q); err != nil {
			return err
		}
	}
	if err := q.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

// eachInLocked is eachLocked for a query ending in "IN ", asked for keys
// many to a statement: the cost of a statement through cgo is paid once
// for them all. j.mu must be held.
func (j *Journal) eachInLocked(ctx context.Context, what, query string, keys []any, fn func(*sql.Rows) error) error {
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), rowsPerStatement)]
		keys = keys[len(chunk):]
		if err := j.eachLocked(ctx, what, query+"("+placeholders(len(chunk))+")", fn, chunk...); err != nil {
			return err
		}
	}
	return nil
}

// writeChunks writes rows, rowsPerStatement to a statement that statement
// returns with its arguments, each a batched write of its own: the
// connection is free for lookups in between. It returns the chunk whose
// write failed, with the error.
func (j *Journal) writeChunks(ctx context.Context, rows []*Row, statement func(chunk []*Row) (string, []any)) ([]*Row, error) {
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), rowsPerStatement)]
		rows = rows[len(chunk):]
		query, args := statement(chunk)
		err := j.write(ctx, batched, func() error {
			_, err := j.exec(ctx, query, args...)
			return err
		})
		if err != nil {
			return chunk, err
		}
	}
	return nil, nil
}

// scanInto returns a result-row callback that scans one value of type T
// and adds it to *out.
func scanInto[T any](what string, out *[]T, scan func(*sql.Rows) (T, error)) func(*sql.Rows) error {
	return func(q *sql.Rows) error {
		v, err := scan(q)
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		*out = append(*out, v)
		return nil
	}
}

// scanString scans a one-column result row.
func scanString(q *sql.Rows) (string, error) {
	var s string
	err := q.Scan(&s)
	return s, err
}

// countBy returns, for a query of (key, count) rows, the count per key.
func countBy[K ~string](ctx context.Context, j *Journal, what, query string, args ...any) (map[K]int, error) {
	counts := map[K]int{}
	err := j.each(ctx, what, query, func(q *sql.Rows) error {
		var k K
		var n int
		if err := q.Scan(&k, &n); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		counts[k] = n
		return nil
	}, args...)
	return counts, err
}

// stmt returns a prepared statement for query, cached. j.mu must be held.
func (j *Journal) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := j.stmts[query]; ok {
		return s, nil
	}
	s, err := j.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	j.stmts[query] = s
	return s, nil
}

// exec runs a prepared write. j.mu must be held.
func (j *Journal) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := j.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// queryRow runs a prepared query for one row. j.mu must be held.
func (j *Journal) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	s, err := j.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryRowContext(ctx, args...), nil
}

// placeholders returns n SQL parameters: "?, ?, …".
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// tuples returns n parenthesised groups of width parameters, for a VALUES
// list of many rows.
func tuples(n, width int) string {
	return strings.TrimSuffix(strings.Repeat("("+placeholders(width)+"), ", n), ", ")
}

// timestamp formats t for storage.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// parseTime reads a stored timestamp; "" is the zero time.
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
