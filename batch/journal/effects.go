package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// EffectState is where a remote side effect stands.
type EffectState string

const (
	// Intended: recorded before the remote call; the call may or may not
	// have happened. A resumed job reconciles it by a point read.
	Intended EffectState = "intent"
	// Applied: the directory confirmed the change.
	Applied EffectState = "applied"
	// Refused: the directory refused it, or it was found not applied.
	Refused EffectState = "refused"
	// Undone: applied, then taken back by the job: the create of an
	// account the job deleted since.
	Undone EffectState = "undone"
)

// Kinds of side effect.
const (
	CreateUser    = "create-user"
	MoveUser      = "move-user"
	ResetPassword = "reset-password"
	AddAlias      = "add-alias"
	AddMember     = "add-member"
	CreateOrgUnit = "create-orgunit"
	CreateGroup   = "create-group"
	UpdateUser    = "update-user"    // target: a digest of the change
	RenameUser    = "rename-user"    // target: the new address
	SuspendUser   = "suspend-user"   // target: the address
	RestoreUser   = "restore-user"   // target: the address; lifts a suspension
	DeleteUser    = "delete-user"    // target: the address
	RemoveMember  = "remove-member"  // target: the group
	DeleteGroup   = "delete-group"   // target: the group, deleted when empty
	DeleteOrgUnit = "delete-orgunit" // target: the path, deleted when empty
)

// An Effect is one remote change for one row.
type Effect struct {
	ID       int64
	Identity string // the row it belongs to
	Kind     string // CreateUser, AddMember, …
	Target   string // the address, group or path it changes
	State    EffectState
	Attempts int
	RemoteID string
	Error    string
	Updated  time.Time
	Run      int64 // the run that last attempted it; 0 before layout 4
}

const effectColumns = "id, identity, kind, target, state, attempts, remote_id, error, updated_at, run_id"

func scanEffect(s interface{ Scan(...any) error }) (Effect, error) {
	var e Effect
	var updated string
	err := s.Scan(&e.ID, &e.Identity, &e.Kind, &e.Target, &e.State, &e.Attempts, &e.RemoteID, &e.Error, &updated, &e.Run)
	e.Updated = parseTime(updated)
	return e, err
}

// Intent records, durably, that the side effect kind on target is about to
// be attempted for the row with identity, and returns it. Call it before
// every remote write: when it returns, a crash can no longer hide the
// attempt. Every batched write before it is made durable with it.
func (j *Journal) Intent(ctx context.Context, identity, kind, target string) (Effect, error) {
	var e Effect
	err := j.write(ctx, grouped, func() error {
		q, err := j.queryRow(ctx, `INSERT INTO effects (identity, kind, target, state, attempts, updated_at, run_id) VALUES (?, ?, ?, 'intent', 1, ?, ?)
			ON CONFLICT (identity, kind, target) DO UPDATE SET state = 'intent', attempts = attempts + 1, error = '',
				updated_at = excluded.updated_at, run_id = excluded.run_id
			RETURNING `+effectColumns, identity, kind, target, timestamp(j.opts.Now()), j.run)
		if err != nil {
			return err
		}
		if e, err = scanEffect(q); err != nil {
			return fmt.Errorf("record intent %s %s for %s: %w", kind, target, identity, err)
		}
		return nil
	})
	return e, err
}

// Outcome records how a side effect ended: Applied with the remote ID when
// there is one, or Refused with the reason. The write is batched: it is
// durable with the next intent or commit. An outcome lost in a crash
// leaves its intent in flight, and the next invocation settles it by a
// point read, as it does a call cut short: no outcome needs an fsync of
// its own.
func (j *Journal) Outcome(ctx context.Context, id int64, state EffectState, remoteID, reason string) error {
	return j.write(ctx, batched, func() error {
		_, err := j.exec(ctx, "UPDATE effects SET state = ?, remote_id = ?, error = ?, updated_at = ? WHERE id = ?",
			string(state), remoteID, reason, timestamp(j.opts.Now()), id)
		if err != nil {
			return fmt.Errorf("record outcome of effect %d: %w", id, err)
		}
		return nil
	})
}

// Effects returns the side effects of a row, oldest first.
func (j *Journal) Effects(ctx context.Context, identity string) ([]Effect, error) {
	return j.effects(ctx, "SELECT "+effectColumns+" FROM effects WHERE identity = ? ORDER BY id", identity)
}

// InFlight returns every side effect whose intent has no outcome: calls
// that may or may not have reached the directory before a crash.
func (j *Journal) InFlight(ctx context.Context) ([]Effect, error) {
	return j.effects(ctx, "SELECT "+effectColumns+" FROM effects WHERE state = 'intent' ORDER BY id")
}

// EffectsOfRun returns the side effects of kind that run attempted last,
// in the order they were first recorded.
func (j *Journal) EffectsOfRun(ctx context.Context, run int64, kind string) ([]Effect, error) {
	return j.effects(ctx, "SELECT "+effectColumns+" FROM effects WHERE run_id = ? AND kind = ? ORDER BY id", run, kind)
}

func (j *Journal) effects(ctx context.Context, query string, args ...any) ([]Effect, error) {
	var out []Effect
	err := j.each(ctx, "effects", query, scanInto("effects", &out, func(q *sql.Rows) (Effect, error) { return scanEffect(q) }), args...)
	return out, err
}
