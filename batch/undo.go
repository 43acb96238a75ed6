package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// An Undo takes back what one run did, from what the journal recorded of
// it: it suspends (or, with Delete, deletes) the accounts the run created,
// removes the memberships it added and, with Delete, deletes the groups
// and org units it created when they are empty. It never touches an
// account the run did not create: an adopted or updated account is not
// the run's. Like a run, it is journaled (as a run of its own, whose
// effects are intents before their calls), resumable, held to the
// leavers' limits, and reported.
type Undo struct {
	Config    Config // validated, with defaults applied
	Journal   *journal.Journal
	Directory Directory
	Target    journal.Directory
	// Run is the run to undo; 0 means the last run that is not an undo.
	Run int64
	// Delete deletes the run's accounts, and its empty groups and org
	// units, instead of suspending the accounts.
	Delete bool
	// Max, when positive, lets the undo touch up to that many accounts
	// whatever the leavers' limits.
	Max        int
	ReportPath string
	// Protected are files the report must never be (see Job.Protected).
	Protected []report.Protected
	// Confirm is shown the plan before any change; an error stops the
	// undo there, changing nothing.
	Confirm   func(*UndoPlan) error
	Logger    *slog.Logger
	Failpoint func(name string)
}

// UndoPlan is what an undo will do.
type UndoPlan struct {
	Run      journal.Run // the run undone
	Delete   bool
	Accounts []string // the run's accounts, to suspend or delete
	// Memberships counts the memberships the run added, to remove (a
	// deleted account's go with it).
	Memberships int
	Groups      []string // groups the run created, deleted when empty (Delete)
	OrgUnits    []string // org units the run created, deleted when empty (Delete), deepest first
	// Suspended counts the leavers the run suspended: undo does not lift
	// those (the file that lists them does).
	Suspended int
}

// undoInputPrefix names an undo in the runs table, where a run's input
// path is.
const undoInputPrefix = "undo of run "

// UndoLimitError stops an undo that would touch more accounts than the
// leavers' limits allow, before it changes anything.
type UndoLimitError struct {
	Accounts, MaxCount int
}

func (e *UndoLimitError) Error() string {
	return fmt.Sprintf("the undo would touch %d accounts, more than leavers.maxCount %d allows; nothing was changed", e.Accounts, e.MaxCount)
}

// undoTarget is one account of the undone run.
type undoTarget struct {
	row         journal.Row
	memberships []string // groups the run added it to
}

// Do plans the undo, asks Confirm, and carries it out. It returns the
// plan and the statuses of the accounts it finished.
func (u *Undo) Do(ctx context.Context) (*UndoPlan, map[string]int, error) {
	if u.Logger == nil {
		u.Logger = slog.New(slog.DiscardHandler)
	}
	if err := u.Journal.BindDirectory(ctx, u.Target); err != nil {
		return nil, nil, err
	}
	undone, err := u.runToUndo(ctx)
	if err != nil {
		return nil, nil, err
	}
	name := undoName(undone.ID, u.Delete)
	if err := u.notDoneYet(ctx, name); err != nil {
		return nil, nil, err
	}
	plan, targets, err := u.plan(ctx, undone)
	if err != nil {
		return nil, nil, err
	}
	if len(plan.Accounts) == 0 && len(plan.Groups) == 0 && len(plan.OrgUnits) == 0 {
		return plan, nil, &UndoRefusedError{fmt.Sprintf("run %d (%s) created nothing that is still there: there is nothing to undo", undone.ID, undone.InputPath)}
	}
	if count, _ := u.Config.Leavers.limits(); len(plan.Accounts) > count && len(plan.Accounts) > u.Max {
		return plan, nil, &UndoLimitError{Accounts: len(plan.Accounts), MaxCount: count}
	}
	if u.Confirm != nil {
		if err := u.Confirm(plan); err != nil {
			return plan, nil, err
		}
	}
	counts, err := u.apply(ctx, name, plan, targets)
	return plan, counts, err
}

// undoName is the input path an undo's run is recorded with.
func undoName(run int64, del bool) string {
	name := fmt.Sprintf("%s%d", undoInputPrefix, run)
	if del {
		name += " (delete)"
	}
	return name
}

// notDoneYet refuses an undo that a finished run of the journal did
// already.
func (u *Undo) notDoneYet(ctx context.Context, name string) error {
	runs, err := u.Journal.Runs(ctx)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if r.InputPath == name && r.Finished() {
			return &UndoneError{What: name, By: r}
		}
	}
	return nil
}

// UndoRefusedError refuses an undo that has nothing to take back, before
// it changes anything.
type UndoRefusedError struct{ Why string }

func (e *UndoRefusedError) Error() string { return e.Why + "; nothing was changed" }

// UndoneError refuses an undo done already.
type UndoneError struct {
	What string
	By   journal.Run
}

func (e *UndoneError) Error() string {
	return fmt.Sprintf("%s was done already, by run %d on %s; nothing was changed", e.What, e.By.ID, e.By.Ended.Format("2006-01-02 15:04"))
}

// runToUndo returns the run to undo: the one asked for, or the last run
// that is not an undo itself.
func (u *Undo) runToUndo(ctx context.Context) (journal.Run, error) {
	runs, err := u.Journal.Runs(ctx)
	if err != nil {
		return journal.Run{}, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		switch {
		case u.Run != 0 && r.ID == u.Run && strings.HasPrefix(r.InputPath, undoInputPrefix):
			return journal.Run{}, &UndoRefusedError{fmt.Sprintf("run %d is an undo itself (%s); it cannot be undone", r.ID, r.InputPath)}
		case u.Run != 0 && r.ID == u.Run, u.Run == 0 && !strings.HasPrefix(r.InputPath, undoInputPrefix):
			return r, nil
		}
	}
	if u.Run != 0 {
		return journal.Run{}, &UndoRefusedError{fmt.Sprintf("the journal has no run %d", u.Run)}
	}
	return journal.Run{}, &UndoRefusedError{"the journal has no run to undo"}
}

// plan reads from the journal what the run did that can be taken back.
func (u *Undo) plan(ctx context.Context, run journal.Run) (*UndoPlan, []undoTarget, error) {
	plan := &UndoPlan{Run: run, Delete: u.Delete}
	created, err := u.Journal.EffectsOfRun(ctx, run.ID, journal.CreateUser)
	if err != nil {
		return nil, nil, err
	}
	members, err := u.Journal.EffectsOfRun(ctx, run.ID, journal.AddMember)
	if err != nil {
		return nil, nil, err
	}
	joined := map[string][]string{}
	for _, e := range members {
		if e.State == journal.Applied {
			joined[e.Identity] = append(joined[e.Identity], e.Target)
		}
	}
	var targets []undoTarget
	for _, e := range created {
		if e.State != journal.Applied {
			continue
		}
		row, known, err := u.Journal.Row(ctx, e.Identity)
		if err != nil {
			return nil, nil, err
		}
		if !known || row.UserID == "" || !strings.EqualFold(row.Email, e.Target) {
			continue // deleted since, or renamed: not the run's account as it was
		}
		targets = append(targets, undoTarget{row: row, memberships: joined[e.Identity]})
		plan.Accounts = append(plan.Accounts, row.Email)
		if !u.Delete {
			plan.Memberships += len(joined[e.Identity])
		}
	}
	suspended, err := u.Journal.EffectsOfRun(ctx, run.ID, journal.SuspendUser)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range suspended {
		if e.State == journal.Applied {
			plan.Suspended++
		}
	}
	if u.Delete {
		for kind, list := range map[string]*[]string{journal.CreateGroup: &plan.Groups, journal.CreateOrgUnit: &plan.OrgUnits} {
			effects, err := u.Journal.EffectsOfRun(ctx, run.ID, kind)
			if err != nil {
				return nil, nil, err
			}
			for _, e := range effects {
				if e.State == journal.Applied {
					*list = append(*list, e.Target)
				}
			}
		}
		// Children before their parents.
		slices.SortFunc(plan.OrgUnits, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	}
	return plan, targets, nil
}

// apply carries out the plan as a run of its own, resumed when an earlier
// undo of the same run stopped half-way.
func (u *Undo) apply(ctx context.Context, name string, plan *UndoPlan, targets []undoTarget) (map[string]int, error) {
	job := &Job{Config: u.Config, Journal: u.Journal, Directory: u.Directory, Target: u.Target, Mode: Run,
		Logger: u.Logger, Failpoint: u.Failpoint, ReportPath: u.ReportPath}
	job.setDefaults()
	s := &runner{job: job, cfg: u.Config, dir: u.Directory, journal: u.Journal, log: u.Logger, counts: map[string]int{}}
	run, resumed, err := u.beginUndo(ctx, name)
	if err != nil {
		return nil, err
	}
	s.run = run
	// Calls in flight when ctx ends get the grace period to finish and
	// have their outcome journaled, as a run's do.
	work, stopWork := job.workContext(ctx)
	defer stopWork()
	if err := s.reconcile(work); err != nil {
		return nil, err
	}
	out, _, err := report.Open(run.ReportPath, resumed, u.Protected)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	s.finisher = newFinisher(s, out)
	for _, target := range targets {
		if ctx.Err() != nil {
			break
		}
		if err = s.undoAccount(work, target, plan); err != nil {
			break
		}
	}
	if ferr := s.finisher.close(); err == nil {
		err = ferr
	}
	if err == nil && ctx.Err() == nil && u.Delete {
		err = s.deleteEmpty(work, plan)
	}
	if err != nil {
		return s.counts, err
	}
	if ctx.Err() != nil {
		return s.counts, ErrInterrupted
	}
	return s.counts, u.Journal.EndRun(ctx, run.ID, fmt.Sprintf("%d accounts", len(targets)))
}

// beginUndo starts the undo's run, or resumes an unfinished one of the
// same undo.
func (u *Undo) beginUndo(ctx context.Context, name string) (journal.Run, bool, error) {
	last, found, err := u.Journal.LastRun(ctx)
	if err != nil {
		return journal.Run{}, false, err
	}
	fingerprint, summary := u.Config.Fingerprint()
	if found && !last.Finished() && last.InputPath == name {
		if err := u.Journal.ResumeRun(ctx, last.ID, fingerprint, summary); err != nil {
			return journal.Run{}, false, err
		}
		return last, true, nil
	}
	run, err := u.Journal.StartRun(ctx, journal.Run{InputPath: name, InputHash: name, Fingerprint: fingerprint, Config: summary,
		ReportPath: absPath(u.ReportPath), Records: -1})
	return run, false, err
}

// undoAccount suspends or deletes one account of the undone run, and
// removes it from the groups the run added it to.
func (s *runner) undoAccount(ctx context.Context, target undoTarget, plan *UndoPlan) error {
	row := target.row
	if row.RunID == s.run.ID && row.State.Terminal() {
		return nil // done by an earlier invocation of this undo
	}
	applied, err := s.effects(ctx, row.Identity)
	if err != nil {
		return err
	}
	row.RunID, row.Line = s.run.ID, 0
	rec := input.Record{ID: externalValue(row.ExternalID), FirstName: row.FirstName, LastName: row.LastName}
	t := &task{rec: rec, id: identity{key: row.Identity}, row: row, orgUnit: row.OrgUnit, groups: row.Groups, applied: applied}
	if acct, found, err := s.journal.Account(ctx, row.Email); err != nil {
		return err
	} else if found {
		t.account = &acct // kept current by the suspension
	}
	if err := s.record(ctx, &t.row, evSeen); err != nil {
		return err
	}
	status, note, err := s.takeBack(ctx, t, target.memberships, plan)
	var halt *haltError
	switch {
	case errors.As(err, &halt):
		s.halt(halt.sys)
		return &DirectoryStoppedError{Err: halt.sys}
	case isRowFailure(err):
		return s.finish(ctx, t, report.StatusFailed, fmt.Sprintf("undo: %v", err))
	case err != nil && ctx.Err() != nil:
		// Cut short: the account stays unfinished, for the same undo
		// again to settle and finish.
		if rerr := s.record(context.WithoutCancel(ctx), &t.row, evStopped); rerr != nil {
			return rerr
		}
		return ErrInterrupted
	case err != nil:
		return err
	}
	return s.finish(ctx, t, status, note)
}

// takeBack makes the changes that undo one account.
func (s *runner) takeBack(ctx context.Context, t *task, memberships []string, plan *UndoPlan) (status, note string, err error) {
	if plan.Delete {
		if err := s.deleteAccount(ctx, t); err != nil {
			return "", "", err
		}
		return report.StatusDeleted, fmt.Sprintf("undo of run %d: deleted; Google keeps it restorable for 20 days", plan.Run.ID), nil
	}
	yes := true
	t.update = directory.UserUpdate{Suspended: &yes}
	t.changes = []fieldChange{{"suspended", "no", "yes"}}
	if err := s.sendUpdate(ctx, t); err != nil {
		return "", "", err
	}
	t.row.Groups = memberships
	note = fmt.Sprintf("undo of run %d: suspended", plan.Run.ID)
	left, err := s.leaveGroups(ctx, t)
	if err != nil {
		return "", "", err
	}
	if left != "" {
		note += "; " + left
	}
	return report.StatusSuspended, note, nil
}

// deleteEmpty deletes the groups and org units the undone run created,
// each when it is empty; one that is not empty is left, and said. These
// deletions are not journaled intents: each is safe to send again (what is
// gone is success), and a resumed undo works them out again from the
// undone run's record.
func (s *runner) deleteEmpty(ctx context.Context, plan *UndoPlan) error {
	for _, g := range plan.Groups {
		if err := s.dir.DeleteEmptyGroup(ctx, g); err != nil {
			s.log.Warn("a group the run created is left", "group", g, "why", plainError(err))
			continue
		}
		if err := s.journal.MarkUndone(ctx, journal.CreateGroup, g); err != nil {
			return err
		}
		s.log.Info("deleted a group the run created", "group", g)
	}
	for _, ou := range plan.OrgUnits {
		if err := s.dir.DeleteEmptyOrgUnit(ctx, ou); err != nil {
			s.log.Warn("an org unit the run created is left", "org_unit", ou, "why", plainError(err))
			continue
		}
		if err := s.journal.MarkUndone(ctx, journal.CreateOrgUnit, ou); err != nil {
			return err
		}
		s.log.Info("deleted an org unit the run created", "org_unit", ou)
	}
	return nil
}
