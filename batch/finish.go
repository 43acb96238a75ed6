package batch

import (
	"context"

	"github.com/provisionhq/provision/batch/journal"
)

// finish ends a row with a report status, in the matching state.
func (s *runner) finish(ctx context.Context, t *task, status, reason string) error {
	state := journal.Done
	switch status {
	case StatusFailed:
		state = journal.Failed
	case StatusSkipped:
		state = journal.Skipped
	}
	if status == StatusSkipped && t.row.State == journal.Done {
		state = journal.Done // still done: skipping it changes nothing
	}
	return s.finishRow(ctx, t, state, status, reason)
}

// finishRow writes the row's report line, synced, and then records it in
// the journal as finished and reported. A crash between the two reports the
// row again on resume; it never leaves a finished row unreported.
func (s *runner) finishRow(ctx context.Context, t *task, state journal.State, status, reason string) error {
	ctx = context.WithoutCancel(ctx)
	line := ReportLine{
		Line: t.rec.Line, ID: t.rec.ID, FirstName: t.rec.FirstName, LastName: t.rec.LastName,
		Email: t.row.Email, OrgUnit: t.orgUnit, Groups: t.groups, Status: status, Error: reason,
	}
	if t.passwordSet {
		line.Password = t.password
	}
	if err := s.report.Write(line); err != nil {
		return err
	}
	s.job.failpoint("reported")
	t.row.State, t.row.Status, t.row.Error, t.row.ReportedRun = state, status, reason, s.run.ID
	if t.passwordSet {
		t.row.Password = journal.PasswordReported
	}
	if err := s.journal.SaveRow(ctx, t.row); err != nil {
		return err
	}
	if t.passwordSet {
		if err := s.journal.Commit(ctx); err != nil {
			return err
		}
	}
	s.count(status)
	return nil
}
