package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/provisionhq/provision/naming"
)

// The Store is the naming.Ledger of the service's Reserver: a name it
// holds, is creating or has created is not available, and the [#]
// counters live in it, so that finding a number stays O(1) across
// restarts.
var _ naming.Ledger = (*Store)(nil)

// Holder implements naming.Ledger: it returns the name's state ("held",
// "creating", "created"), or "" when the name is free here, which a hold
// becomes when it expires.
func (s *Store) Holder(ctx context.Context, name string) (string, error) {
	var state string
	var expires int64
	err := s.db.QueryRowContext(ctx, "SELECT state, expires FROM names WHERE name = ?", name).Scan(&state, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read the state of %q: %w", name, err)
	case state == stateHeld && expires <= ms(s.now()):
		return "", nil
	}
	return state, nil
}

// Hold implements naming.Ledger: it holds one name for the store's hold
// time. The owner is not recorded: the Java project's contract has no
// client identity, so a hold belongs to whoever names it.
func (s *Store) Hold(ctx context.Context, name, _ string) error {
	_, err := s.HoldAll(ctx, []string{name})
	return err
}

// Counter implements naming.Ledger.
func (s *Store) Counter(ctx context.Context, base string) (int, error) {
	var next int
	err := s.db.QueryRowContext(ctx, "SELECT next FROM counters WHERE base = ?", base).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return next, err
}

// SetCounter implements naming.Ledger.
func (s *Store) SetCounter(ctx context.Context, base string, next int) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO counters (base, next) VALUES (?, ?)
		ON CONFLICT (base) DO UPDATE SET next = excluded.next`, base, next)
	return err
}

// HoldAll holds names, just suggested, for the store's hold time, in one
// transaction, and forgets holds that have expired. A name suggested again
// after its hold expired gets a new hold. It returns when the holds end.
// Names in the middle of a create, or created, are left as they are; the
// caller found them free under the Reserver's lock, so there are none.
func (s *Store) HoldAll(ctx context.Context, names []string) (time.Time, error) {
	now := s.now()
	expires := now.Add(s.hold)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM names WHERE state = 'held' AND expires <= ?", ms(now)); err != nil {
			return fmt.Errorf("forget expired holds: %w", err)
		}
		for _, n := range names {
			_, err := tx.ExecContext(ctx, `INSERT INTO names (name, state, expires, changed) VALUES (?, 'held', ?, ?)
				ON CONFLICT (name) DO UPDATE SET expires = excluded.expires, changed = excluded.changed WHERE state = 'held'`,
				n, ms(expires), ms(now))
			if err != nil {
				return fmt.Errorf("hold %q: %w", n, err)
			}
		}
		return nil
	})
	return expires, err
}

// Release ends the holds on names, except keep. Names that are not held
// (never suggested, expired, being created or created) are left alone. It
// returns how many holds it ended.
func (s *Store) Release(ctx context.Context, names []string, keep string) (int, error) {
	var release []any
	for _, n := range names {
		if n != keep {
			release = append(release, n)
		}
	}
	if len(release) == 0 {
		return 0, nil
	}
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM names WHERE state = 'held' AND expires > ? AND name IN ("+placeholders(len(release))+")",
			append([]any{ms(s.now())}, release...)...)
		if err != nil {
			return fmt.Errorf("release holds: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// HoldExpiry returns when the hold on name ends, or false when it is not
// held.
func (s *Store) HoldExpiry(ctx context.Context, name string) (time.Time, bool, error) {
	var expires int64
	err := s.db.QueryRowContext(ctx, "SELECT expires FROM names WHERE name = ? AND state = 'held' AND expires > ?", name, ms(s.now())).Scan(&expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return time.UnixMilli(expires), true, nil
}

// lowerAll lowercases every name: usernames are compared in lowercase.
func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(strings.TrimSpace(n))
	}
	return out
}
