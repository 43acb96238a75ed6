package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/provisionhq/provision/naming"
)

var _ naming.Ledger = (*Journal)(nil)

// Holder returns the owner holding name, or "". It implements
// naming.Ledger, so that the names of every run of the job stay taken.
func (j *Journal) Holder(ctx context.Context, name string) (string, error) {
	var owner string
	err := j.read(func() error {
		if o, ok := j.holders.get(name); ok {
			owner = o
			return nil
		}
		if may, err := j.mayHoldLocked(ctx, heldNames, name); err != nil || !may {
			return err
		}
		q, err := j.queryRow(ctx, "SELECT owner FROM reservations WHERE name = ?", name)
		if err != nil {
			return err
		}
		switch err := q.Scan(&owner); {
		case err == nil:
			j.holders.put(name, owner)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read reservation %q: %w", name, err)
		}
		return nil
	})
	return owner, err
}

// Hold records that owner holds name. It implements naming.Ledger. The
// write is batched; it is durable before any side effect that uses the name,
// since that starts with a durable Intent.
func (j *Journal) Hold(ctx context.Context, name, owner string) error {
	name = strings.ToLower(name)
	return j.write(ctx, batched, func() error {
		j.noteLocked(heldNames, name)
		j.noteLocked(holdingOwners, owner)
		_, err := j.exec(ctx, "INSERT INTO reservations (name, owner, created_at) VALUES (?, ?, ?)", name, owner, timestamp(j.opts.Now()))
		if err != nil {
			return fmt.Errorf("reserve %q for %s: %w", name, owner, err)
		}
		j.holders.put(name, owner)
		return nil
	})
}

// Counter returns the next number to try for a [#] base, 0 when unset. It
// implements naming.Ledger.
func (j *Journal) Counter(ctx context.Context, base string) (int, error) {
	var next int
	err := j.read(func() error {
		if n, ok := j.dirtyCounters[base]; ok {
			next = n
			return nil
		}
		if n, ok := j.counters.get(base); ok {
			next = n
			return nil
		}
		q, err := j.queryRow(ctx, "SELECT next FROM counters WHERE base = ?", base)
		if err != nil {
			return err
		}
		if err := q.Scan(&next); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read counter %q: %w", base, err)
		}
		j.counters.put(base, next)
		return nil
	})
	return next, err
}

// SetCounter records the next number to try for a [#] base. It implements
// naming.Ledger. A counter that moves many times between two commits is
// written once, at the commit: it only saves probing, and one lost in a
// crash is found again by probing past the names held since.
func (j *Journal) SetCounter(ctx context.Context, base string, next int) error {
	return j.write(ctx, batched, func() error {
		j.dirtyCounters[base] = next
		return nil
	})
}

// flushCountersLocked writes the counters that moved since the last
// commit. j.mu must be held, in a transaction.
func (j *Journal) flushCountersLocked(ctx context.Context) error {
	for base, next := range j.dirtyCounters {
		_, err := j.exec(ctx, "INSERT INTO counters (base, next) VALUES (?, ?) ON CONFLICT (base) DO UPDATE SET next = excluded.next", base, next)
		if err != nil {
			return fmt.Errorf("save counter %q: %w", base, err)
		}
		j.counters.put(base, next)
	}
	clear(j.dirtyCounters)
	return nil
}

// Reservations returns the names owner holds, oldest first.
func (j *Journal) Reservations(ctx context.Context, owner string) ([]string, error) {
	var names []string
	if may, err := j.mayHold(ctx, holdingOwners, owner); err != nil || !may {
		return nil, err
	}
	err := j.each(ctx, "reservations", "SELECT name FROM reservations WHERE owner = ? ORDER BY created_at, name",
		scanInto("reservations", &names, scanString), owner)
	return names, err
}
