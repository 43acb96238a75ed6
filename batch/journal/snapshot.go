package journal

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// NameKind says what a taken name in the snapshot is.
type NameKind string

const (
	UserName       NameKind = "user"
	UserAliasName  NameKind = "user-alias"
	GroupName      NameKind = "group"
	GroupAliasName NameKind = "group-alias"
)

// Snapshot describes the directory snapshot the journal holds.
type Snapshot struct {
	Domain string
	Taken  time.Time // zero when the journal holds no complete snapshot
	Names  int
	IDs    int
}

// SnapshotLoader adds the directory's names to a new snapshot.
type SnapshotLoader struct {
	j *Journal
}

// LoadSnapshot replaces the journal's snapshot of the directory with what
// load adds through the loader. The old snapshot is cleared first and the
// new one is marked complete only when load returns nil, so a snapshot
// interrupted half-way is never taken for a whole one.
func (j *Journal) LoadSnapshot(ctx context.Context, domain string, load func(*SnapshotLoader) error) (Snapshot, error) {
	err := j.write(ctx, durable, func() error {
		for _, q := range []string{"DELETE FROM names", "DELETE FROM directory_ids", "DELETE FROM accounts", "DELETE FROM meta WHERE key IN ('snapshot_domain', 'snapshot_taken_at')"} {
			if _, err := j.exec(ctx, q); err != nil {
				return fmt.Errorf("clear snapshot: %w", err)
			}
		}
		j.forget(snapshotNames)
		j.mem.Lock()
		j.taken = newRecent[bool]()
		j.mem.Unlock()
		j.forget(accountIDs)
		return nil
	})
	if err != nil {
		return Snapshot{}, err
	}
	if err := load(&SnapshotLoader{j: j}); err != nil {
		return Snapshot{}, err
	}
	taken := j.opts.Now()
	err = j.write(ctx, durable, func() error {
		_, err := j.exec(ctx, "INSERT INTO meta (key, value) VALUES ('snapshot_domain', ?), ('snapshot_taken_at', ?)", domain, timestamp(taken))
		return err
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("mark snapshot complete: %w", err)
	}
	return j.Snapshot(ctx)
}

// AddName records a taken local part. It is safe for concurrent use.
func (l *SnapshotLoader) AddName(ctx context.Context, name string, kind NameKind) error {
	return l.j.write(ctx, batched, func() error {
		l.j.mem.Lock()
		l.j.noteMemLocked(snapshotNames, name)
		l.j.taken.put(name, true)
		l.j.mem.Unlock()
		_, err := l.j.exec(ctx, "INSERT INTO names (name, kind) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, string(kind))
		if err != nil {
			return fmt.Errorf("add %q to snapshot: %w", name, err)
		}
		return nil
	})
}

// AddExternalID records that the account email carries externalID. It is
// safe for concurrent use.
func (l *SnapshotLoader) AddExternalID(ctx context.Context, externalID, email string) error {
	return l.j.write(ctx, batched, func() error {
		l.j.note(accountIDs, externalID)
		_, err := l.j.exec(ctx, "INSERT INTO directory_ids (external_id, email) VALUES (?, ?) ON CONFLICT DO NOTHING", externalID, strings.ToLower(email))
		if err != nil {
			return fmt.Errorf("add external ID of %s to snapshot: %w", email, err)
		}
		return nil
	})
}

// Snapshot describes the snapshot the journal holds.
func (j *Journal) Snapshot(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	err := j.read(func() error {
		var taken string
		err := j.conn.QueryRowContext(ctx, `SELECT
			coalesce((SELECT value FROM meta WHERE key = 'snapshot_domain'), ''),
			coalesce((SELECT value FROM meta WHERE key = 'snapshot_taken_at'), ''),
			(SELECT count(*) FROM names), (SELECT count(*) FROM directory_ids)`).Scan(&s.Domain, &taken, &s.Names, &s.IDs)
		s.Taken = parseTime(taken)
		if err != nil {
			return fmt.Errorf("read snapshot: %w", err)
		}
		return nil
	})
	return s, err
}

// NameTaken reports whether the snapshot holds name. With the journal's
// reservations it answers naming's "is this taken?" without a remote call.
func (j *Journal) NameTaken(ctx context.Context, name string) (bool, error) {
	if err := j.lockMem(ctx, snapshotNames); err != nil {
		return false, err
	}
	if !j.mayHoldMemLocked(snapshotNames, name) {
		j.mem.Unlock()
		return false, nil
	}
	taken, known := j.taken.get(name)
	j.mem.Unlock()
	if known {
		return taken, nil
	}
	err := j.lookup(func() error {
		q, err := j.queryRow(ctx, "SELECT EXISTS (SELECT 1 FROM names WHERE name = ?)", name)
		if err != nil {
			return err
		}
		if err := q.Scan(&taken); err != nil {
			return fmt.Errorf("look up %q in the snapshot: %w", name, err)
		}
		// With j.mu held: AddTakenName cannot come in between.
		j.mem.Lock()
		j.taken.put(name, taken)
		j.mem.Unlock()
		return nil
	})
	return taken, err
}

// AddTakenName records a name learned to be taken after the snapshot, such
// as one the directory refused with 409.
func (j *Journal) AddTakenName(ctx context.Context, name string, kind NameKind) error {
	return (&SnapshotLoader{j: j}).AddName(ctx, name, kind)
}

// AccountsWithID returns the primary addresses of the directory's accounts
// that carry externalID, per the snapshot and the accounts point reads
// showed since (see KnowAccount).
func (j *Journal) AccountsWithID(ctx context.Context, externalID string) ([]string, error) {
	var emails []string
	if may, err := j.mayHold(ctx, accountIDs, externalID); err != nil || !may {
		return nil, err
	}
	err := j.each(ctx, "external IDs", `SELECT email FROM directory_ids WHERE external_id = ?1
		UNION SELECT email FROM known_ids WHERE external_id = ?1 ORDER BY email`,
		scanInto("external IDs", &emails, scanString), externalID)
	return emails, err
}

// KnowAccount records that a point read showed the account email carrying
// externalID: a row with that identity is then known to have an account,
// however long the directory's listing takes to show it.
func (j *Journal) KnowAccount(ctx context.Context, externalID, email string) error {
	return j.write(ctx, durable, func() error {
		j.note(accountIDs, externalID)
		_, err := j.exec(ctx, "INSERT OR IGNORE INTO known_ids (external_id, email) VALUES (?, ?)", externalID, email)
		if err != nil {
			return fmt.Errorf("record the account %s: %w", email, err)
		}
		return nil
	})
}
