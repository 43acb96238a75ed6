package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// takeLease records this process as the journal's holder. The OS lock is
// already held, so a lease left by a process on this host is stale: that
// process is gone. A live lease from another host means the file is shared
// across machines (a network filesystem or a volume mounted twice), where
// OS locks may not hold; it is refused until it expires.
func (j *Journal) takeLease(ctx context.Context) error {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	now := j.opts.Now()
	me := Owner{ID: randomID(), Host: host, PID: os.Getpid(), Acquired: now, Heartbeat: now, Expires: now.Add(j.opts.LeaseTTL)}
	return j.write(ctx, durable, func() error {
		prev, found, err := j.leaseLocked(ctx)
		if err != nil {
			return err
		}
		if found {
			if prev.Host != me.Host && prev.Expires.After(now) {
				return &HeldError{Path: j.path, Holder: prev}
			}
			j.logger.Warn("taking over the journal from a process that did not release it", "holder", prev.String(), "last_heartbeat", prev.Heartbeat)
		}
		_, err = j.exec(ctx, `INSERT OR REPLACE INTO lease (id, owner, host, pid, acquired_at, heartbeat_at, expires_at)
			VALUES (1, ?, ?, ?, ?, ?, ?)`, me.ID, me.Host, me.PID, timestamp(me.Acquired), timestamp(me.Heartbeat), timestamp(me.Expires))
		if err != nil {
			return fmt.Errorf("take journal lease: %w", err)
		}
		j.owner = me
		return nil
	})
}

// leaseQuery reads the lease row.
const leaseQuery = "SELECT owner, host, pid, acquired_at, heartbeat_at, expires_at FROM lease WHERE id = 1"

// scanOwner scans a row of leaseQuery.
func scanOwner(row interface{ Scan(...any) error }) (Owner, error) {
	var o Owner
	var acquired, heartbeat, expires string
	err := row.Scan(&o.ID, &o.Host, &o.PID, &acquired, &heartbeat, &expires)
	o.Acquired, o.Heartbeat, o.Expires = parseTime(acquired), parseTime(heartbeat), parseTime(expires)
	return o, err
}

// leaseLocked reads the lease row. j.mu must be held.
func (j *Journal) leaseLocked(ctx context.Context) (Owner, bool, error) {
	row, err := j.queryRow(ctx, leaseQuery)
	if err != nil {
		return Owner{}, false, err
	}
	switch o, err := scanOwner(row); {
	case errors.Is(err, sql.ErrNoRows):
		return Owner{}, false, nil
	case err != nil:
		return Owner{}, false, fmt.Errorf("read journal lease: %w", err)
	default:
		return o, true, nil
	}
}

// Lease returns the holder recorded in the journal, if any.
func (j *Journal) Lease(ctx context.Context) (Owner, bool, error) {
	var o Owner
	var found bool
	err := j.read(func() (err error) {
		o, found, err = j.leaseLocked(ctx)
		return err
	})
	return o, found, err
}

// readLeaseHolder reads the lease of a journal another process holds, to
// name it in an error. It reports false when it cannot.
func readLeaseHolder(path string) (Owner, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	db, err := sql.Open("sqlite3", dsn(path, true, "FULL"))
	if err != nil {
		return Owner{}, false
	}
	defer db.Close()
	o, err := scanOwner(db.QueryRowContext(ctx, leaseQuery))
	return o, err == nil
}

// beat renews the lease every third of its lifetime and commits batches
// that have waited too long, until Close.
func (j *Journal) beat() {
	defer j.heartbeats.Done()
	flush := time.NewTicker(maxDelay)
	defer flush.Stop()
	renew := time.NewTicker(j.opts.LeaseTTL / 3)
	defer renew.Stop()
	ctx := context.Background()
	for {
		select {
		case <-j.heartbeat:
			return
		case <-flush.C:
			if err := j.flushIfDue(ctx); err != nil && !errors.Is(err, ErrClosed) {
				j.logger.Error("journal commit failed", "err", err)
			}
		case <-renew.C:
			if err := j.renew(ctx); err != nil && !errors.Is(err, ErrClosed) {
				j.logger.Error("journal lease renewal failed", "err", err)
			}
		}
	}
}

// renew extends the lease. When the lease row no longer names this
// process, the lease is lost and every later write fails.
func (j *Journal) renew(ctx context.Context) error {
	now := j.opts.Now()
	return j.write(ctx, durable, func() error {
		res, err := j.exec(ctx, "UPDATE lease SET heartbeat_at = ?, expires_at = ? WHERE id = 1 AND owner = ?",
			timestamp(now), timestamp(now.Add(j.opts.LeaseTTL)), j.owner.ID)
		if err != nil {
			return fmt.Errorf("renew journal lease: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			j.lost = true
			j.mem.Lock()
			if j.broken == nil {
				j.broken = ErrLeaseLost // nothing may be queued any more
			}
			j.room.Broadcast()
			j.mem.Unlock()
			return ErrLeaseLost
		}
		return nil
	})
}
