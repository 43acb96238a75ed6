package batch

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"

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
// directory) is saved as it stands (stopped) and resumes from there.
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

// recordAll applies event ev to many rows and, when write is set, journals
// them in one statement: record for a group, such as the rows the
// finisher finishes together.
func (s *runner) recordAll(ctx context.Context, rows []*journal.Row, ev event, write bool) error {
	for _, r := range rows {
		to, err := transition(r, ev)
		if err != nil {
			return err
		}
		r.State = to
	}
	if !write {
		return nil
	}
	save := s.journal.SaveRows
	if ev == evFinished {
		save = s.journal.FinishRows
	}
	if err := save(context.WithoutCancel(ctx), rows); err != nil {
		return &journalFault{err}
	}
	s.job.failpoint(ev.String())
	return nil
}

// record applies event ev to row r and journals it: the one place where a
// row changes state. The write is batched (durable with the next intent or
// commit), except where the caller commits. Crash tests may stop the
// process right after it, at the failpoint named after the event. A plan
// keeps its rows in memory instead, as far as planRows lets it.
func (s *runner) record(ctx context.Context, r *journal.Row, ev event) error {
	to, err := transition(r, ev)
	if err != nil {
		return err
	}
	r.State = to
	if !s.planned.keep(r.Identity, r.Line) {
		if err := s.journal.SaveRows(context.WithoutCancel(ctx), []*journal.Row{r}); err != nil {
			return &journalFault{err}
		}
	}
	s.job.failpoint(ev.String())
	return nil
}

// planMemory bounds how many rows a plan keeps in memory (see planRows):
// 16 bytes each, a few MB.
const planMemory = 1 << 18

// planRows are the rows a plan has read or finished, by identity, with
// their lines. A plan's journal is a scratch copy that nobody reads once
// the plan ends; within the plan, what matters of a row it recorded is
// that a later line with the same identity is refused as a duplicate.
// Kept here, the first planMemory rows cost the plan no write at all; the
// rows after them go to the scratch journal as a run's do, so that memory
// stays bounded however long the file. A nil *planRows (a run) keeps
// nothing.
//
// What a plan no longer reads back: a record ignored (OneRoster: leaving,
// or not provisioned) or a OneRoster leaver whose identity an earlier line
// of the same plan recorded is reported with the scratch journal's older
// row (its address and names), not with that line's.
//
// An identity is kept as a 96-bit fingerprint (two hashes with seeds of
// this process), not as a string: a third of the memory. A new identity
// is taken for a kept one with a probability under 1e-17 over a million
// rows.
type planRows struct {
	mu       sync.Mutex
	lines    map[uint64]plannedRow
	capacity int // planMemory
}

type plannedRow struct {
	line  int32
	check uint32 // the second hash: with the key, 96 bits
}

var planSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func newPlanRows() *planRows { return &planRows{lines: map[uint64]plannedRow{}, capacity: planMemory} }

func planKey(identity string) (uint64, uint32) {
	return maphash.String(planSeeds[0], identity), uint32(maphash.String(planSeeds[1], identity))
}

// keep records the row with identity at line, and reports whether it did:
// false for a run, or for a new identity once planMemory rows are kept.
func (p *planRows) keep(identity string, line int) bool {
	if p == nil || line > math.MaxInt32 {
		return false
	}
	key, check := planKey(identity)
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.lines[key]; ok && r.check != check || !ok && len(p.lines) >= p.capacity {
		// Another identity's key, or no room: the journal keeps this one.
		return false
	}
	p.lines[key] = plannedRow{line: int32(line), check: check}
	return true
}

// line returns the line of the row kept with identity, if one is.
func (p *planRows) line(identity string) (int, bool) {
	if p == nil {
		return 0, false
	}
	key, check := planKey(identity)
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.lines[key]
	if !ok || r.check != check {
		return 0, false
	}
	return int(r.line), true
}
