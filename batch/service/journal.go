package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A createRecord is one create as the store knows it.
type createRecord struct {
	ID      int64
	Name    string
	Marker  string // the externalIds value written with the account
	Started time.Time
}

// Outcomes of a create, as FinishCreate records them.
type createOutcome int

const (
	// outcomeCreated: the account exists; the name is created.
	outcomeCreated createOutcome = iota
	// outcomeRefused: Google refused the insert; the name keeps the hold
	// it had, so the client may fix its request and create it again.
	outcomeRefused
	// outcomeTaken: the name belongs to another account, alias or group;
	// the service forgets it, and the directory check skips it from now on.
	outcomeTaken
)

// BeginCreate records the intent to create name, durably, before
// users.insert is sent: a live hold on name becomes a create in flight.
// It returns ErrNotHeld, ErrCreating or ErrCreated (wrapped) when the name
// is not held.
func (s *Store) BeginCreate(ctx context.Context, name, marker string) (createRecord, error) {
	now := s.now()
	rec := createRecord{Name: name, Marker: marker, Started: now}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		var expires int64
		err := tx.QueryRowContext(ctx, "SELECT state, expires FROM names WHERE name = ?", name).Scan(&state, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotHeld
		case err != nil:
			return fmt.Errorf("read the state of %q: %w", name, err)
		case state == stateCreated:
			return ErrCreated
		case state == stateCreating:
			return ErrCreating
		case expires <= ms(now):
			return ErrNotHeld
		}
		if _, err := tx.ExecContext(ctx, "UPDATE names SET state = 'creating', changed = ? WHERE name = ?", ms(now), name); err != nil {
			return fmt.Errorf("mark %q as being created: %w", name, err)
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO creates (name, marker, state, started) VALUES (?, ?, 'pending', ?)", name, marker, ms(now))
		if err != nil {
			return fmt.Errorf("record the intent to create %q: %w", name, err)
		}
		rec.ID, err = res.LastInsertId()
		return err
	})
	return rec, err
}

// FinishCreate records the outcome of a create and moves its name on:
// created, held again (refused), or forgotten (taken). userID is the
// account's ID when it was created; reason says why it was not.
func (s *Store) FinishCreate(ctx context.Context, rec createRecord, outcome createOutcome, userID, reason string) error {
	now := ms(s.now())
	return s.tx(ctx, func(tx *sql.Tx) error {
		state := "refused"
		if outcome == outcomeCreated {
			state = "created"
		}
		if _, err := tx.ExecContext(ctx, "UPDATE creates SET state = ?, user_id = ?, reason = ?, finished = ? WHERE id = ?",
			state, userID, reason, now, rec.ID); err != nil {
			return fmt.Errorf("record the outcome of creating %q: %w", rec.Name, err)
		}
		var err error
		switch outcome {
		case outcomeCreated:
			_, err = tx.ExecContext(ctx, "UPDATE names SET state = 'created', expires = 0, changed = ? WHERE name = ?", now, rec.Name)
		case outcomeRefused:
			// Back to the hold it had: expires was left unchanged.
			_, err = tx.ExecContext(ctx, "UPDATE names SET state = 'held', changed = ? WHERE name = ? AND state = 'creating'", now, rec.Name)
		case outcomeTaken:
			_, err = tx.ExecContext(ctx, "DELETE FROM names WHERE name = ? AND state = 'creating'", rec.Name)
		}
		if err != nil {
			return fmt.Errorf("update the state of %q: %w", rec.Name, err)
		}
		return nil
	})
}

// PendingCreates returns the creates whose outcome is not recorded: the
// process stopped, or the directory could not tell, while they were in
// flight. name "" means every name.
func (s *Store) PendingCreates(ctx context.Context, name string) ([]createRecord, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, name, marker, started FROM creates WHERE state = 'pending' AND (? = '' OR name = ?) ORDER BY id", name, name)
	if err != nil {
		return nil, fmt.Errorf("read unsettled creates: %w", err)
	}
	defer rows.Close()
	var out []createRecord
	for rows.Next() {
		var r createRecord
		var started int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Marker, &started); err != nil {
			return nil, fmt.Errorf("read unsettled creates: %w", err)
		}
		r.Started = time.UnixMilli(started)
		out = append(out, r)
	}
	return out, rows.Err()
}

// CreatedAt returns when this service created name, or false.
func (s *Store) CreatedAt(ctx context.Context, name string) (time.Time, bool, error) {
	var finished int64
	err := s.db.QueryRowContext(ctx, "SELECT finished FROM creates WHERE name = ? AND state = 'created' ORDER BY id DESC LIMIT 1", name).Scan(&finished)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return time.UnixMilli(finished), true, nil
}

// An effect is a side effect that follows a create (an org unit, a group
// membership), journaled like it.
type effect struct {
	ID       int64
	CreateID int64 // 0 when it belongs to no create (an org unit)
	Kind     string
	Target   string
}

// Kinds of effects.
const (
	effectOrgUnit = "create org unit"
	effectMember  = "add member"
)

// Intent records, durably, that an effect is about to be sent.
func (s *Store) Intent(ctx context.Context, createID int64, kind, target string) (effect, error) {
	e := effect{CreateID: createID, Kind: kind, Target: target}
	var create any
	if createID != 0 {
		create = createID
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO effects (create_id, kind, target, state, started) VALUES (?, ?, ?, 'pending', ?)",
			create, kind, target, ms(s.now()))
		if err != nil {
			return fmt.Errorf("record the intent to %s %s: %w", kind, target, err)
		}
		e.ID, err = res.LastInsertId()
		return err
	})
	return e, err
}

// Outcome records how an effect ended: applied when err is nil, refused
// with its reason otherwise.
func (s *Store) Outcome(ctx context.Context, e effect, reason string, applied bool) error {
	state := "refused"
	if applied {
		state = "applied"
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE effects SET state = ?, reason = ?, finished = ? WHERE id = ?", state, reason, ms(s.now()), e.ID)
		if err != nil {
			return fmt.Errorf("record the outcome of %s %s: %w", e.Kind, e.Target, err)
		}
		return nil
	})
}

// PendingMembers returns the group memberships of created accounts whose
// outcome is not recorded, with the account's name.
func (s *Store) PendingMembers(ctx context.Context) ([]effect, []string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.id, e.create_id, e.kind, e.target, c.name FROM effects e JOIN creates c ON c.id = e.create_id
		WHERE e.state = 'pending' AND e.kind = ? AND c.state = 'created' ORDER BY e.id`, effectMember)
	if err != nil {
		return nil, nil, fmt.Errorf("read unfinished memberships: %w", err)
	}
	defer rows.Close()
	var effects []effect
	var names []string
	for rows.Next() {
		var e effect
		var name string
		if err := rows.Scan(&e.ID, &e.CreateID, &e.Kind, &e.Target, &name); err != nil {
			return nil, nil, fmt.Errorf("read unfinished memberships: %w", err)
		}
		effects = append(effects, e)
		names = append(names, name)
	}
	return effects, names, rows.Err()
}
