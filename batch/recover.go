package batch

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
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
		applied, remoteID, err := s.settle(ctx, e, &row)
		if err != nil {
			return fmt.Errorf("settle %s %s for line %d after an interruption: %w (nothing was retried; run again when the directory answers)",
				e.Kind, e.Target, row.Line, err)
		}
		state, reason := journal.Refused, "found not applied after an interruption"
		if applied {
			state, reason = journal.Applied, ""
		}
		s.log.Info("settled", "kind", e.Kind, "target", e.Target, "line", row.Line, "applied", applied)
		if err := s.journal.Outcome(ctx, e.ID, state, remoteID, reason); err != nil {
			return err
		}
		if err := s.journal.SaveRow(ctx, row); err != nil {
			return err
		}
	}
	return nil
}

// settle finds out whether an effect was applied, and updates the row to
// match.
func (s *runner) settle(ctx context.Context, e journal.Effect, row *journal.Row) (applied bool, remoteID string, err error) {
	switch e.Kind {
	case journal.CreateUser:
		u, err := s.dir.GetUser(ctx, e.Target)
		switch {
		case directory.IsNotFound(err):
			// Not created: the row keeps its name and tries again.
			row.State, row.ReportedRun = journal.Named, 0
			return false, "", nil
		case err != nil:
			return false, "", err
		}
		ids, err := directory.ExternalIDs(u)
		if err != nil {
			return false, "", err
		}
		for _, id := range ids {
			if idKey(id) == row.ExternalID {
				// The row goes on from here, reported again even if it was
				// finished as "could not tell" in this run.
				row.UserID, row.State, row.Status, row.ReportedRun = u.Id, journal.Created, StatusCreated, 0
				return true, u.Id, nil
			}
		}
		// Someone else has the name: the row is named afresh.
		local, _, _ := strings.Cut(e.Target, "@")
		if err := s.journal.AddTakenName(ctx, local, journal.UserName); err != nil {
			return false, "", err
		}
		row.State, row.Email, row.ReportedRun = journal.Pending, "", 0
		return false, "", nil
	case journal.AddMember:
		ok, err := s.dir.HasMember(ctx, e.Target, row.Email)
		if directory.IsNotFound(err) {
			return false, "", nil
		}
		return ok, "", err
	case journal.AddAlias:
		u, err := s.dir.GetUser(ctx, e.Target)
		if directory.IsNotFound(err) {
			return false, "", nil
		}
		return err == nil && u.Id == row.UserID, "", err
	case journal.MoveUser:
		u, err := s.dir.GetUser(ctx, row.Email)
		if err != nil {
			return false, "", err
		}
		return u.OrgUnitPath == e.Target, "", nil
	case journal.CreateOrgUnit:
		ok, err := exists(s.dir.GetOrgUnit(ctx, e.Target))
		return ok, "", err
	case journal.CreateGroup:
		ok, err := exists(s.dir.GetGroup(ctx, e.Target))
		return ok, "", err
	case journal.ResetPassword:
		// Whether a password was set cannot be read back. The row's
		// password is still "generated": the next attempt sets a new one.
		return false, "", nil
	}
	return false, "", fmt.Errorf("unknown kind of effect %q", e.Kind)
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
	byLine := make(map[string]journal.Row, len(pending))
	for _, r := range pending {
		byLine[strconv.Itoa(r.Line)] = r
	}
	f, err := os.Open(s.run.ReportPath)
	if err != nil {
		return fmt.Errorf("read the report to resume: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = len(reportHeader)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A line torn by the crash: nothing after it was written.
			break
		}
		row, ok := byLine[rec[0]]
		if !ok || rec[9] == "" || !strings.EqualFold(rec[4], row.Email) {
			continue
		}
		status, reason := rec[7], strings.TrimPrefix(rec[8], "'")
		row.State = journal.Done
		if status == StatusFailed {
			row.State = journal.NeedsAttention
		}
		row.Status, row.Error, row.Password, row.ReportedRun = status, reason, journal.PasswordReported, s.run.ID
		if err := s.journal.SaveRow(ctx, row); err != nil {
			return err
		}
		s.log.Info("found the report line of a row a crash left unrecorded", "line", row.Line, "email", row.Email)
	}
	return s.journal.Commit(ctx)
}
