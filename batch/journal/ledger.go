package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/provisionhq/provision/naming"
)

var _ naming.Ledger = (*Journal)(nil)

// Holder returns the owner holding name, or "". It implements
// naming.Ledger, so that the names of every run of the job stay taken.
// Most answers come from memory: a hold still queued, the filter of held
// names (most candidates are held by nobody), a recent holder.
func (j *Journal) Holder(ctx context.Context, name string) (string, error) {
	if err := j.lockMem(ctx, heldNames); err != nil {
		return "", err
	}
	if owner, ok := j.queue.holds[name]; ok {
		j.mem.Unlock()
		return owner, nil
	}
	if !j.mayHoldMemLocked(heldNames, name) {
		j.mem.Unlock()
		return "", nil
	}
	owner, ok := j.holders.get(name)
	j.mem.Unlock()
	if ok {
		return owner, nil
	}
	err := j.lookup(func() error {
		q, err := j.queryRow(ctx, "SELECT owner FROM reservations WHERE name = ?", name)
		if err != nil {
			return err
		}
		if err := q.Scan(&owner); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read reservation %q: %w", name, err)
		}
		if owner != "" {
			// With j.mu held: no write of the name can come in between.
			j.mem.Lock()
			j.holders.put(name, owner)
			j.mem.Unlock()
		}
		return nil
	})
	return owner, err
}

// Hold records that owner holds name, which nobody may hold already. It
// implements naming.Ledger. The write is batched and queued (see
// behind.go): it is durable before any side effect that uses the name,
// since that starts with a durable Intent.
func (j *Journal) Hold(ctx context.Context, name, owner string) error {
	name = strings.ToLower(name)
	for {
		// A hold of the same name applied between the look and the queueing
		// would be in neither: then look again.
		j.mem.Lock()
		applied := j.queue.holdsApplied
		j.mem.Unlock()
		held, err := j.Holder(ctx, name)
		if err == nil && held != "" {
			err = fmt.Errorf("%q is held already, by %s", name, held)
		}
		if err == nil {
			err = j.enqueue(queuedWrite{hold: &heldName{name: name, owner: owner}}, func() error {
				if held := j.queue.holds[name]; held != "" {
					return fmt.Errorf("%q is held already, by %s", name, held)
				}
				if j.queue.holdsApplied != applied {
					return errRetry
				}
				j.queue.holds[name] = owner
				j.noteMemLocked(heldNames, name)
				j.noteMemLocked(holdingOwners, owner)
				return nil
			})
		}
		switch {
		case errors.Is(err, errRetry):
			continue
		case err != nil:
			return fmt.Errorf("reserve %q for %s: %w", name, owner, err)
		}
		return nil
	}
}

// Counter returns the next number to try for a [#] base, 0 when unset. It
// implements naming.Ledger.
func (j *Journal) Counter(ctx context.Context, base string) (int, error) {
	j.mem.Lock()
	if err := j.usableMemLocked(); err != nil {
		j.mem.Unlock()
		return 0, err
	}
	moved, known := j.dirtyCounters[base]
	next := moved.next
	if !known {
		next, known = j.counters.get(base)
	}
	j.mem.Unlock()
	if known {
		return next, nil
	}
	err := j.lookup(func() error {
		q, err := j.queryRow(ctx, "SELECT next FROM counters WHERE base = ?", base)
		if err != nil {
			return err
		}
		if err := q.Scan(&next); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read counter %q: %w", base, err)
		}
		// With j.mu held: no commit can save the counter in between.
		j.mem.Lock()
		if _, moved := j.dirtyCounters[base]; !moved {
			j.counters.put(base, next)
		}
		j.mem.Unlock()
		return nil
	})
	return next, err
}

// A movedCounter is a counter moved since the last commit: where to, and
// the last write queued when it moved (see flushCountersLocked).
type movedCounter struct {
	next  int
	after uint64
}

// SetCounter records the next number to try for a [#] base. It implements
// naming.Ledger. A counter that moves many times between two commits is
// written once, at the commit: it only saves probing, and one lost in a
// crash is found again by probing past the names held since.
func (j *Journal) SetCounter(_ context.Context, base string, next int) error {
	j.mem.Lock()
	defer j.mem.Unlock()
	if err := j.usableMemLocked(); err != nil {
		return err
	}
	j.dirtyCounters[base] = movedCounter{next: next, after: j.queue.seq}
	return nil
}

// countersToFlush reports whether flushCountersLocked has a counter to
// save. j.mu must be held.
func (j *Journal) countersToFlush() bool {
	j.mem.Lock()
	defer j.mem.Unlock()
	for _, m := range j.dirtyCounters {
		if m.after <= j.appliedSeq {
			return true
		}
	}
	return false
}

// flushCountersLocked writes the counters that moved since the last
// commit, except those that moved after a write still queued: saved
// before that write, they would be ahead of what the journal holds. j.mu
// must be held, in a transaction.
func (j *Journal) flushCountersLocked(ctx context.Context) error {
	j.mem.Lock()
	moved := map[string]movedCounter{}
	for base, m := range j.dirtyCounters {
		if m.after <= j.appliedSeq {
			moved[base] = m
		}
	}
	j.mem.Unlock()
	for base, m := range moved {
		_, err := j.exec(ctx, "INSERT INTO counters (base, next) VALUES (?, ?) ON CONFLICT (base) DO UPDATE SET next = excluded.next", base, m.next)
		if err != nil {
			return fmt.Errorf("save counter %q: %w", base, err)
		}
	}
	j.mem.Lock()
	defer j.mem.Unlock()
	for base, m := range moved {
		if j.dirtyCounters[base] == m {
			// Not moved again meanwhile: saved.
			delete(j.dirtyCounters, base)
			j.counters.put(base, m.next)
		}
	}
	return nil
}

// Reservations returns the names owner holds, in the order they were
// held (rowid order: reservations are never deleted).
func (j *Journal) Reservations(ctx context.Context, owner string) ([]string, error) {
	if may, err := j.mayHold(ctx, holdingOwners, owner); err != nil || !may {
		return nil, err
	}
	// The holds still queued are the newest. One may be applied between
	// this look and the query: it is then in both.
	var queued []string
	j.mem.Lock()
	for _, w := range j.queue.writes {
		if w.hold != nil && w.hold.owner == owner {
			queued = append(queued, w.hold.name)
		}
	}
	j.mem.Unlock()
	var names []string
	err := j.lookup(func() error {
		return j.eachLocked(ctx, "reservations", "SELECT name FROM reservations WHERE owner = ? ORDER BY rowid",
			scanInto("reservations", &names, scanString), owner)
	})
	for _, name := range queued {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, err
}
