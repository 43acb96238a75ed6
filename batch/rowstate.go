package batch

import (
	"context"
	"fmt"

	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// A row's life is one state machine. Its states are journal.State values,
// kept in the journal's rows table; the events below are the only ways to
// move a row, and record is the one function that applies them and
// journals the result:
//
//	               seen                  named
//	(not in a run) ───────▶ pending ──────────────────▶ named ◀─┐ named (the next name after a 409),
//	      │                    ▲                        │  │  └─┘ notCreated (resume: no insert landed),
//	      │                    └──── nameLost ──────────┘  │      effect (an intent follows)
//	      │                          (resume: name taken)   │
//	      │ seen (named before)                              │ created, adopted
//	      ├─────────────────────────────────────▶ named     ▼
//	      │ seen (has an account)                        created ◀─┐ effect, adopted (moved)
//	      └───────────────────────────────────────────▶    │    └──┘
//	                                                         │ finished (its report line is on disk)
//	                                                         ▼
//	  done: created, converged, skipped, planned · failed: no account · needs-attention: an account, a step failed
//
// Any row in progress may also be finished as failed (it cannot go on) or
// stopped (the job stops; it resumes from where it is).
//
// A finished row stays as it is until a later run sees it again: seen
// derives its working state from what is known of it (an account, a name,
// nothing), so every run starts from the facts, not from how the last run
// ended. A row the job stops with (interrupted, or halted by the
// directory) is saved as it stands (stopped) and resumes from there. A
// row a run finishes as skipped (done, nothing to change) is not written
// again: record keeps it in memory and journals the skip apart from the
// row (destination, kept.go).
//
// Side effects have their own small machine in the effects table (see
// effect.go): intent → applied or refused, settled by a point read when a
// crash leaves an intent without its outcome.
type event int

const (
	evSeen       event = iota + 1 // the reader took the row in this run
	evNamed                       // the row holds its username: given, kept, or the next after a 409
	evIntent                      // a side effect is about to be attempted: the row goes to disk with its intent ("effect")
	evCreated                     // this journal created the row's account
	evAdopted                     // an account with the row's identity existed and is the row's now
	evNotCreated                  // resume found that its insert did not land: it keeps its name
	evNameLost                    // resume found its name taken by another account: it is named afresh
	evStopped                     // the job stopped with the row unfinished; it resumes from here
	evFinished                    // its report line is on disk
)

func (ev event) String() string {
	return [...]string{"", "seen", "named", "effect", "created", "adopted", "not-created", "name-lost", "stopped", "finished"}[ev]
}

// Failpoints names the moments Job.Failpoint is called: right after each
// row event is journaled (record), and in a side effect right after its
// intent is durable ("intent"), after the directory applied it
// ("applied") and after its outcome is durable ("outcome"), and in the
// finishing stage after a row's report line is on disk ("reported").
func Failpoints() []string {
	names := []string{"intent", "applied", "outcome", "reported"}
	for ev := evSeen; ev <= evFinished; ev++ {
		names = append(names, ev.String())
	}
	return names
}

// transition returns the state event ev moves row r to, or an error when
// ev cannot happen to r: a bug in the job, which stops it rather than
// journal a row in a state nothing expects.
func transition(r *journal.Row, ev event) (journal.State, error) {
	from := r.State
	bad := func(why string) (journal.State, error) {
		return "", fmt.Errorf("row %s (line %d): %s cannot happen in state %q: %s", r.Identity, r.Line, ev, from, why)
	}
	switch ev {
	case evSeen:
		switch {
		case r.UserID != "":
			return journal.Created, nil
		case r.Email != "":
			return journal.Named, nil
		}
		return journal.Pending, nil
	case evNamed:
		if from != journal.Pending && from != journal.Named {
			return bad("only a row without an account is named")
		}
		if r.Email == "" {
			return bad("the row has no name")
		}
		return journal.Named, nil
	case evIntent, evStopped:
		if from.Terminal() {
			return bad("the row is finished")
		}
		return from, nil
	case evCreated, evAdopted:
		if r.UserID == "" {
			return bad("the row has no account")
		}
		// Failed: a row finished as "could not tell whether it was
		// created" is reopened when resume settles its insert.
		if from != journal.Named && from != journal.Pending && from != journal.Created && from != journal.Failed {
			return bad("only a row in progress gets an account")
		}
		return journal.Created, nil
	case evNotCreated:
		if from != journal.Named && from != journal.Failed {
			return bad("only a named row waits for its account")
		}
		return journal.Named, nil
	case evNameLost:
		if from != journal.Named && from != journal.Failed || r.Email != "" {
			return bad("only a named row loses its name, and then has none")
		}
		return journal.Pending, nil
	case evFinished:
		switch r.Status {
		case report.StatusFailed:
			if r.UserID != "" {
				return journal.NeedsAttention, nil
			}
			return journal.Failed, nil
		case report.StatusDeleted:
			// The account is gone: the row forgets it (and its name), so
			// that the person, back in a later file, gets a new one.
			if from != journal.Created || r.UserID != "" || r.Email != "" {
				return bad("a deleted row has had an account, and forgets it")
			}
			return journal.Done, nil
		case report.StatusCreated, report.StatusConverged, report.StatusUpdated, report.StatusUnsuspended,
			report.StatusSuspended:
			if from != journal.Created || r.UserID == "" {
				return bad("a row finished with its account has one")
			}
			return journal.Done, nil
		case report.StatusSkipped:
			if from != journal.Done {
				return bad("only a row done before is skipped")
			}
			return journal.Done, nil
		case report.StatusPlanned, report.StatusIgnored:
			return journal.Done, nil
		}
		return bad(fmt.Sprintf("unknown status %q", r.Status))
	}
	return bad("unknown event")
}

// recordAll applies event ev to many rows and journals them (as far as
// destination does not keep them in memory), many to a statement: record
// for a group, such as the rows the finisher finishes together.
func (s *runner) recordAll(ctx context.Context, rows []*journal.Row, ev event) error {
	var write, skips []*journal.Row
	for _, r := range rows {
		to, err := transition(r, ev)
		if err != nil {
			return err
		}
		r.State = to
		switch s.destination(r, ev) {
		case toJournal:
			write = append(write, r)
		case toSkips:
			skips = append(skips, r)
		}
	}
	if len(write) == 0 && len(skips) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	save := s.journal.SaveRows
	if ev == evFinished {
		save = s.journal.FinishRows
	}
	if len(write) > 0 {
		if err := save(ctx, write); err != nil {
			return &journalFault{err}
		}
	}
	if len(skips) > 0 {
		if err := s.journal.RecordSkips(ctx, s.run.ID, skips); err != nil {
			return &journalFault{err}
		}
	}
	s.job.failpoint(ev.String())
	return nil
}

// record applies event ev to row r and journals it: the one place where a
// row changes state. The write is batched (durable with the next intent or
// commit), except where the caller commits. Crash tests may stop the
// process right after it, at the failpoint named after the event. Some
// rows are kept in memory instead (destination, kept.go).
func (s *runner) record(ctx context.Context, r *journal.Row, ev event) error {
	return s.recordAll(ctx, []*journal.Row{r}, ev)
}
