package batch

import (
	"context"
	"errors"

	"github.com/provisionhq/provision/batch/journal"
)

func effectKey(kind, target string) string { return kind + " " + target }

// effects loads the side effects an earlier invocation recorded for a row.
func (s *runner) effects(ctx context.Context, identity string) (map[string]journal.Effect, error) {
	list, err := s.journal.Effects(ctx, identity)
	if err != nil {
		return nil, err
	}
	m := make(map[string]journal.Effect, len(list))
	for _, e := range list {
		m[effectKey(e.Kind, e.Target)] = e
	}
	return m, nil
}

// done reports whether the row's side effect kind on target was applied.
func (t *task) done(kind, target string) bool {
	return t.applied[effectKey(kind, target)].State == journal.Applied
}

// effect journals the intent of a side effect, runs it, and journals its
// outcome: Applied when do succeeds, Refused with the reason when it fails
// for this row. When do fails because the call was cut short, the intent
// stays in flight, for the next invocation to reconcile.
func (s *runner) effect(ctx context.Context, t *task, kind, target string, do func() (remoteID string, err error)) error {
	if t.done(kind, target) {
		return nil
	}
	// The row as it stands (its name, its generated password pending) is
	// durable with the intent.
	if err := s.record(ctx, &t.row, evIntent); err != nil {
		return err
	}
	e, err := s.journal.Intent(ctx, t.id.key, kind, target)
	if err != nil {
		return &journalFault{err}
	}
	s.job.failpoint("intent")
	remoteID, err := do()
	s.job.noteChange(err)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	var unknown *unsettledError
	if errors.As(err, &unknown) {
		// Whether the change was applied cannot be told now: the intent
		// stays in flight, for the next invocation to settle first.
		return err
	}
	outcome, reason := journal.Applied, ""
	if err != nil {
		outcome, reason = journal.Refused, plainError(err)
	} else {
		s.job.failpoint("applied")
	}
	if oerr := s.journal.Outcome(ctx, e.ID, outcome, remoteID, reason); oerr != nil {
		return &journalFault{oerr}
	}
	s.job.failpoint("outcome")
	return err
}
