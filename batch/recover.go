package batch

import (
	"context"
	"fmt"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// reconcile settles every side effect an earlier invocation started and
// never recorded the end of, by a point read, before anything is retried:
// the process may have died before the call, during it, or after it
// landed.
func (s *runner) reconcile(ctx context.Context) error {
	inflight, err := s.journal.InFlight(ctx)
	if err != nil {
		return err
	}
	if len(inflight) > 0 {
		s.log.Info("settling side effects left in flight by an interrupted run", "count", len(inflight))
	}
	for _, e := range inflight {
		row, found, err := s.journal.Row(ctx, e.Identity)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("journal: effect %d belongs to row %s, which the journal does not hold", e.ID, e.Identity)
		}
		applied, remoteID, ev, err := s.settle(ctx, e, &row)
		if err != nil {
			return fmt.Errorf("settle %s %s for line %d after an interruption: %w (nothing was retried; run again when the directory answers)",
				e.Kind, e.Target, row.Line, err)
		}
		outcome, reason := journal.Refused, "found not applied after an interruption"
		if applied {
			outcome, reason = journal.Applied, ""
		}
		s.log.Info("settled", "kind", e.Kind, "target", e.Target, "line", row.Line, "applied", applied)
		if err := s.journal.Outcome(ctx, e.ID, outcome, remoteID, reason); err != nil {
			return err
		}
		if ev != 0 {
			if err := s.record(ctx, &row, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// settleCreate settles an account's create: not created (the row keeps
// its name), created for the row, or the name taken by someone else (the
// row is named afresh).
func (s *runner) settleCreate(ctx context.Context, e journal.Effect, row *journal.Row) (applied bool, remoteID string, ev event, err error) {
	u, err := s.dir.GetUser(ctx, e.Target)
	switch {
	case directory.IsNotFound(err):
		// Not created: the row keeps its name and tries again.
		row.ReportedRun = 0
		return false, "", evNotCreated, nil
	case err != nil:
		return false, "", 0, err
	}
	ids, err := directory.ExternalIDs(u)
	if err != nil {
		return false, "", 0, err
	}
	for _, id := range ids {
		if idKey(id) == row.ExternalID {
			// The row goes on from here, reported again even if it was
			// finished as "could not tell" in this run.
			row.UserID, row.Status, row.ReportedRun = u.Id, report.StatusCreated, 0
			return true, u.Id, evCreated, nil
		}
	}
	// Someone else has the name: the row is named afresh.
	local, _, _ := strings.Cut(e.Target, "@")
	if err := s.journal.AddTakenName(ctx, local, journal.UserName); err != nil {
		return false, "", 0, err
	}
	row.Email, row.ReportedRun = "", 0
	return false, "", evNameLost, nil
}

// settle finds out whether an effect was applied, and returns the event it
// means for the row, if any: a create settles the row's account.
func (s *runner) settle(ctx context.Context, e journal.Effect, row *journal.Row) (applied bool, remoteID string, ev event, err error) {
	switch e.Kind {
	case journal.CreateUser:
		return s.settleCreate(ctx, e, row)
	case journal.AddMember:
		ok, err := s.dir.HasMember(ctx, e.Target, row.Email)
		if directory.IsNotFound(err) {
			return false, "", 0, nil
		}
		return ok, "", 0, err
	case journal.AddAlias:
		u, err := s.dir.GetUser(ctx, e.Target)
		if directory.IsNotFound(err) {
			return false, "", 0, nil
		}
		return err == nil && u.Id == row.UserID, "", 0, err
	case journal.MoveUser:
		u, err := s.dir.GetUser(ctx, row.Email)
		if err != nil {
			return false, "", 0, err
		}
		return u.OrgUnitPath == e.Target, "", 0, nil
	case journal.CreateOrgUnit:
		ok, err := exists(s.dir.GetOrgUnit(ctx, e.Target))
		return ok, "", 0, err
	case journal.CreateGroup:
		ok, err := exists(s.dir.GetGroup(ctx, e.Target))
		return ok, "", 0, err
	case journal.ResetPassword:
		// Whether a password was set cannot be read back. The row's
		// password is still "generated": the next attempt sets a new one.
		return false, "", 0, nil
	case journal.RenameUser:
		u, err := s.dir.GetUser(ctx, row.UserID)
		if err != nil {
			return false, "", 0, err
		}
		if !strings.EqualFold(u.PrimaryEmail, e.Target) {
			return false, "", 0, nil
		}
		if err := s.journal.MoveAccount(ctx, row.Email, e.Target); err != nil {
			return false, "", 0, err
		}
		row.Email = strings.ToLower(e.Target)
		return true, "", evAdopted, nil
	case journal.UpdateUser:
		// An update sends whole values: sending it again is harmless, and
		// the row works out what is still to change.
		return false, "", 0, nil
	case journal.SuspendUser, journal.RestoreUser:
		u, err := s.dir.GetUser(ctx, row.UserID)
		if directory.IsNotFound(err) {
			return false, "", 0, nil
		}
		if err != nil {
			return false, "", 0, err
		}
		return u.Suspended == (e.Kind == journal.SuspendUser), "", 0, nil
	case journal.DeleteUser:
		_, err := s.dir.GetUser(ctx, row.UserID)
		if directory.IsNotFound(err) {
			return true, "", 0, nil
		}
		return false, "", 0, err
	case journal.RemoveMember:
		ok, err := s.dir.HasMember(ctx, e.Target, row.Email)
		if directory.IsNotFound(err) {
			return true, "", 0, nil
		}
		return err == nil && !ok, "", 0, err
	}
	return false, "", 0, fmt.Errorf("unknown kind of effect %q", e.Kind)
}

// recoverReported finds report lines that reached the disk just before a
// crash kept the journal from recording them: rows with a generated
// password the journal does not know reported, whose line is in the run's
// report. Those rows are finished as the line says, so that resuming does
// not reset a password the admin already has. Only those few rows are kept
// in memory while the report is read.
func (s *runner) recoverReported(ctx context.Context) error {
	pending, err := s.journal.UnreportedPasswords(ctx, s.run.ID)
	if err != nil || len(pending) == 0 {
		return err
	}
	byLine := make(map[int]journal.Row, len(pending))
	for _, r := range pending {
		byLine[r.Line] = r
	}
	err = report.Read(s.run.ReportPath, func(l report.Line) error {
		row, ok := byLine[l.Line]
		if !ok || l.Password == "" || !strings.EqualFold(l.Email, row.Email) {
			return nil
		}
		row.Status, row.Error, row.Password, row.ReportedRun = l.Status, l.Error, journal.PasswordReported, s.run.ID
		if err := s.record(ctx, &row, evFinished); err != nil {
			return err
		}
		s.log.Info("found the report line of a row a crash left unrecorded", "line", row.Line, "email", row.Email)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the report to resume: %w", err)
	}
	return s.journal.Commit(ctx)
}
