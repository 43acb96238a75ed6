package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// A full file lists everyone in scope: the accounts with an external ID
// of the job's type (identity.type), within leavers.scope.orgUnits if set,
// admins never. An account in scope that the file does not list is a
// leaver. Before the first row, the job works out every leaver and what
// becomes of it, and checks the safety limits: a run whose leavers exceed
// them changes nothing at all. After the last row, each leaver is
// suspended (or moved), taken out of the groups the journal knows it in,
// or deleted once leavers.deleteAfter has passed since this journal
// suspended it; each change a journaled effect, each leaver a report line.

// leaverAction is what becomes of a leaver.
type leaverAction int

const (
	suspendLeaver leaverAction = iota + 1 // suspend (and move to leavers.moveTo, if set)
	moveLeaver                            // move to leavers.moveTo
	deleteLeaver                          // delete: suspended by this journal long enough ago
)

func (a leaverAction) String() string {
	return [...]string{"", "suspend", "move", "delete"}[a]
}

// leaver is an account of the scope that the file does not list.
type leaver struct {
	account journal.Scoped
	action  leaverAction
}

// applyLeavers acts on each leaver, one after the other, until ctx ends:
// a leaver not reached is found again by the next run.
func (s *runner) applyLeavers(ctx, work context.Context, leavers []leaver) error {
	if s.createMoveTo && len(leavers) > 0 && s.job.Mode == Run {
		if err := s.dir.EnsureOrgUnit(work, s.cfg.Leavers.MoveTo, directory.CreateParents); err != nil {
			return fmt.Errorf("create leavers.moveTo %s: %w", s.cfg.Leavers.MoveTo, err)
		}
	}
	for _, l := range leavers {
		if ctx.Err() != nil || s.halted() != nil {
			return nil
		}
		if err := s.applyLeaver(work, l); err != nil {
			return err
		}
	}
	return nil
}

// applyLeaver suspends, moves or deletes one leaver, as journaled effects,
// and reports it.
func (s *runner) applyLeaver(ctx context.Context, l leaver) error {
	t, err := s.leaverTask(ctx, l.account)
	if err != nil {
		return err
	}
	if err := s.record(ctx, &t.row, evSeen); err != nil {
		return err
	}
	// What the listing showed may be hours old: the account as it is now
	// decides. An admin, an account moved into orgUnit.keep, or one
	// suspended by someone else since is left alone.
	why, err := s.leaveAlone(ctx, t, l.action)
	var halt *haltError
	switch {
	case errors.As(err, &halt):
		s.halt(halt.sys)
		return s.record(ctx, &t.row, evStopped)
	case err != nil && ctx.Err() != nil:
		return s.record(ctx, &t.row, evStopped)
	case isRowFailure(err):
		return s.finish(ctx, t, report.StatusFailed, fmt.Sprintf("a leaver (in scope, not in the file): %v", err))
	case err != nil:
		return err
	case why != "":
		return s.finish(ctx, t, report.StatusIgnored, fmt.Sprintf("a leaver (in scope, not in the file), left alone: %s", why))
	}
	if s.job.Mode == Plan {
		note := fmt.Sprintf("would %s %s: in scope, but not in the file", l.action, t.row.Email)
		if info := s.leaverInfo; info != nil && info.HeldBack != "" {
			note = fmt.Sprintf("a leaver (%s), but %s", t.row.Email, info.HeldBack)
		}
		return s.finish(ctx, t, report.StatusPlanned, note)
	}
	status, note, err := s.actOnLeaver(ctx, t, l.action)
	switch {
	case errors.As(err, &halt):
		s.halt(halt.sys)
		return s.record(ctx, &t.row, evStopped)
	case isRowFailure(err):
		return s.finish(ctx, t, report.StatusFailed, fmt.Sprintf("a leaver (in scope, not in the file): %v", err))
	case err != nil && ctx.Err() != nil:
		return s.record(ctx, &t.row, evStopped)
	case err != nil:
		return err
	}
	return s.finish(ctx, t, status, note)
}

// leaveAlone reads a leaver's account as it is now and says why it must be
// left alone, or "": it is an admin now, in orgUnit.keep, gone, or (for a
// suspension) suspended by someone else; for a deletion, no longer
// suspended. The task's account becomes the one read.
func (s *runner) leaveAlone(ctx context.Context, t *task, action leaverAction) (string, error) {
	u, err := s.dir.GetUser(ctx, t.row.UserID)
	if directory.IsNotFound(err) {
		return "the account is gone", nil
	}
	if err != nil {
		return "", s.remote(ctx, err, "read the account %s", t.row.Email)
	}
	a, err := directory.AccountOf(u)
	if err != nil {
		return "", rowFailf("read the account %s: %v", t.row.Email, err)
	}
	acct, err := journalAccount(a)
	if err != nil {
		return "", err
	}
	t.account, t.orgUnit, t.row.OrgUnit = &acct, a.OrgUnitPath, a.OrgUnitPath
	suspendedThisRun := t.applied[effectKey(journal.SuspendUser, t.row.Email)].Run == s.run.ID
	switch {
	case a.IsAdmin || a.IsDelegatedAdmin:
		return "it is an admin: admins are never touched", nil
	case s.kept(a.OrgUnitPath):
		return fmt.Sprintf("it is in %s, which orgUnit.keep keeps", a.OrgUnitPath), nil
	case action == suspendLeaver && a.Suspended && !suspendedThisRun && !s.suspendedByUs(t):
		return "it was suspended already, by someone else: it stays so, and is not lifted when the person is back", nil
	case action == suspendLeaver && a.Suspended && !suspendedThisRun:
		return "suspended already, by an earlier run", nil
	case action == deleteLeaver && !a.Suspended:
		return "it is no longer suspended: someone lifted the suspension, so it is not deleted", nil
	}
	return "", nil
}

// actOnLeaver makes the changes of one leaver and returns its report
// status and note.
func (s *runner) actOnLeaver(ctx context.Context, t *task, action leaverAction) (status, note string, err error) {
	l := s.cfg.Leavers
	if action == deleteLeaver {
		if err := s.deleteAccount(ctx, t); err != nil {
			return "", "", err
		}
		return report.StatusDeleted, fmt.Sprintf("a leaver suspended more than %s ago; Google keeps it restorable for 20 days", time.Duration(l.DeleteAfter)), nil
	}
	if l.MoveTo != "" && !strings.EqualFold(t.account.OrgUnit, l.MoveTo) {
		to := l.MoveTo
		t.update.OrgUnitPath = &to
		t.changes = append(t.changes, fieldChange{"orgUnit", t.account.OrgUnit, to})
	}
	status = report.StatusUpdated
	if action == suspendLeaver {
		yes := true
		t.update.Suspended = &yes
		t.changes = append(t.changes, fieldChange{"suspended", "no", "yes"})
		status = report.StatusSuspended
	}
	if err := s.sendUpdate(ctx, t); err != nil {
		return "", "", err
	}
	note = "a leaver (in scope, not in the file): " + describeChanges(t.changes)
	left, err := s.leaveGroups(ctx, t)
	if err != nil {
		return "", "", err
	}
	if left != "" {
		note += "; " + left
	}
	return status, note, nil
}

// deleteAccount deletes the task's account, as one journaled effect, and
// makes the journal forget it.
func (s *runner) deleteAccount(ctx context.Context, t *task) error {
	err := s.effect(ctx, t, journal.DeleteUser, t.row.Email, func() (string, error) {
		return "", s.dir.DeleteUser(ctx, t.row.UserID)
	})
	if err != nil {
		return s.remote(ctx, err, "delete %s", t.row.Email)
	}
	if err := s.journal.ForgetAccount(ctx, t.row.Email); err != nil {
		return &journalFault{err}
	}
	return nil
}

// forgetEarlierRuns makes an effect an earlier run applied count as not
// done: a leaver suspended before, back, and gone again is suspended again.
// One this run applied stays done, for a run resumed half-way.
func (s *runner) forgetEarlierRuns(t *task, kind, target string) {
	key := effectKey(kind, target)
	if e, ok := t.applied[key]; ok && e.Run != s.run.ID {
		delete(t.applied, key)
	}
}

// leaveGroups takes a leaver out of the groups the journal knows it joined
// for its row, and says what it did.
func (s *runner) leaveGroups(ctx context.Context, t *task) (string, error) {
	var left, failed []string
	for _, g := range t.row.Groups {
		s.forgetEarlierRuns(t, journal.RemoveMember, g)
		err := s.effect(ctx, t, journal.RemoveMember, g, func() (string, error) {
			return "", s.dir.RemoveMember(ctx, g, t.row.UserID)
		})
		if err != nil {
			if err := s.remote(ctx, err, "remove %s from %s", t.row.Email, g); !isRowFailure(err) {
				// Interrupted, or the job cannot go on: the row stays
				// unfinished, and the removal is tried again.
				return "", err
			}
			failed = append(failed, fmt.Sprintf("%s (%s)", g, plainError(err)))
			continue
		}
		left = append(left, g)
	}
	var parts []string
	if len(left) > 0 {
		parts = append(parts, "removed from "+strings.Join(left, ", "))
	}
	if len(failed) > 0 {
		parts = append(parts, "could not remove from "+strings.Join(failed, ", "))
	}
	return strings.Join(parts, "; "), nil
}

// leaverTask is the task of a leaver: its journal row, or a new one for an
// account this journal did not make, and its effects.
func (s *runner) leaverTask(ctx context.Context, a journal.Scoped) (*task, error) {
	row, known, err := s.journal.Row(ctx, a.Identity)
	if err != nil {
		return nil, err
	}
	m, err := managedOf(a.Account)
	if err != nil {
		return nil, err
	}
	if !known {
		row = journal.Row{Identity: a.Identity, ExternalID: a.ExternalID, FirstName: m.GivenName, LastName: m.FamilyName}
	}
	row.RunID, row.Line, row.Email, row.UserID, row.OrgUnit = s.run.ID, 0, a.Email, a.ID, a.OrgUnit
	row.State, row.Status, row.Error = journal.Done, "", ""
	applied, err := s.effects(ctx, a.Identity)
	if err != nil {
		return nil, err
	}
	acct := a.Account
	rec := input.Record{ID: externalValue(a.ExternalID), FirstName: row.FirstName, LastName: row.LastName}
	return &task{rec: rec, id: identity{key: a.Identity}, row: row, orgUnit: a.OrgUnit, groups: row.Groups,
		applied: applied, account: &acct}, nil
}
