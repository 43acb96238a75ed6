package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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

// Leavers is what a full file means for the accounts it does not list.
type Leavers struct {
	// InScope counts the accounts the file speaks for.
	InScope int
	// Planned lists each leaver as "address: action".
	Planned []string
	// MaxCount and MaxPercent are the limits the run was held to.
	MaxCount   int
	MaxPercent float64
	// HeldBack says why no leaver is touched this run, if none is.
	HeldBack string
}

// LeaverLimitError stops a run whose leavers exceed the safety limits,
// before it changes anything.
type LeaverLimitError struct {
	Leavers    []string // "address: action"
	InScope    int
	MaxCount   int
	MaxPercent float64
	MaxLeavers int // --max-leavers, when given
}

func (e *LeaverLimitError) Error() string {
	n := len(e.Leavers)
	var over []string
	if n > e.MaxCount {
		over = append(over, fmt.Sprintf("leavers.maxCount %d", e.MaxCount))
	}
	if share := e.MaxPercent / 100 * float64(e.InScope); float64(n) > share {
		over = append(over, fmt.Sprintf("leavers.maxPercent %g%% of the %d accounts in scope (%.1f)", e.MaxPercent, e.InScope, share))
	}
	people := "people who have"
	if n == 1 {
		people = "person who has"
	}
	allows := strings.Join(over, " and ") + " allows"
	if e.MaxLeavers > 0 {
		allows = fmt.Sprintf("%s allows, and --max-leavers %d", allows, e.MaxLeavers)
	}
	return fmt.Sprintf("the file leaves out (or marks as leaving) %d %s accounts in scope, more than %s; nothing was changed:\n  %s",
		n, people, allows, strings.Join(e.Leavers, "\n  "))
}

// scope returns the accounts a full file speaks for.
func (c Config) scope() journal.Scope {
	return journal.Scope{
		IDType:   idKey(directory.ExternalID{Type: c.Identity.Type, CustomType: c.Identity.CustomType}),
		OrgUnits: c.Leavers.Scope.OrgUnits,
	}
}

// findLeavers works out the leavers of a full file and checks the limits.
// It returns the leavers to act on (none when they are held back), what to
// say of them, and a *LeaverLimitError when a run must not go on.
func (s *runner) findLeavers(ctx context.Context) ([]leaver, *Leavers, error) {
	count, percent := s.cfg.Leavers.limits()
	out := &Leavers{MaxCount: count, MaxPercent: percent}
	file, err := s.job.listedIdentities()
	if err != nil {
		return nil, nil, err
	}
	full := s.cfg.Leavers.Full
	if full && file.noID {
		return nil, nil, &FullNeedsIDError{Input: s.job.InputPath}
	}
	if full && file.heldBack == "" && len(file.listed) == 0 {
		file.heldBack = "the file lists nobody: an empty export says nothing about who left"
	}
	if full && file.heldBack != "" {
		out.HeldBack = file.heldBack
		s.log.Warn("no leaver is touched this run", "why", file.heldBack)
		return nil, out, nil
	}
	sc := s.cfg.scope()
	if out.InScope, err = s.journal.CountInScope(ctx, sc); err != nil {
		return nil, nil, err
	}
	var candidates []leaver
	seen := map[string]bool{}
	if full {
		err = s.journal.EachInScope(ctx, sc, func(a journal.Scoped) error {
			if file.listed[a.Identity] || s.kept(a.OrgUnit) {
				return nil
			}
			seen[a.Email] = true
			candidates = append(candidates, leaver{account: a})
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	// People the file marks as leaving, full file or not.
	for _, id := range file.leaving {
		a, found, err := s.accountOf(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if found && !seen[a.Email] && !a.Admin && !s.kept(a.OrgUnit) {
			seen[a.Email] = true
			candidates = append(candidates, leaver{account: a})
		}
	}
	var leavers []leaver
	for _, l := range candidates {
		if l.action, err = s.leaverAction(ctx, l.account); err != nil {
			return nil, nil, err
		}
		if l.action == 0 {
			// A leaver this run began with and did not finish (the
			// process stopped): its account may look done already, its
			// groups not yet.
			if l.action, err = s.unfinishedLeaver(ctx, l.account); err != nil {
				return nil, nil, err
			}
		}
		if l.action != 0 {
			leavers = append(leavers, l)
			out.Planned = append(out.Planned, fmt.Sprintf("%s: %s", l.account.Email, l.action))
		}
	}
	n := len(leavers)
	if err := s.checkMoveTo(ctx, n, out); err != nil {
		return nil, nil, err
	}
	over := n > count || float64(n) > percent/100*float64(out.InScope)
	if over && s.job.MaxLeavers > 0 && n <= s.job.MaxLeavers {
		s.log.Warn("more leavers than the limits allow; --max-leavers allows them for this run", "leavers", n, "max_leavers", s.job.MaxLeavers)
		over = false
	}
	if over && s.job.Mode == Run {
		return nil, nil, &LeaverLimitError{Leavers: out.Planned, InScope: out.InScope, MaxCount: count, MaxPercent: percent, MaxLeavers: s.job.MaxLeavers}
	}
	if over {
		out.HeldBack = fmt.Sprintf("%d leavers exceed the limits: run would stop and change nothing", n)
	}
	return leavers, out, nil
}

// MoveToMissingError stops a run whose leavers would be moved to an org
// unit that does not exist, before it changes anything.
type MoveToMissingError struct{ OrgUnit string }

func (e *MoveToMissingError) Error() string {
	return fmt.Sprintf("leavers.moveTo %s does not exist, so no leaver could be moved there; nothing was changed", e.OrgUnit)
}

// checkMoveTo makes sure, when n leavers would be moved, that
// leavers.moveTo exists or may be created (orgUnit.createMissing).
func (s *runner) checkMoveTo(ctx context.Context, n int, out *Leavers) error {
	to := s.cfg.Leavers.MoveTo
	if to == "" || n == 0 {
		return nil
	}
	ok, err := exists(s.dir.GetOrgUnit(ctx, to))
	switch {
	case err != nil:
		return fmt.Errorf("look up leavers.moveTo %s: %w", to, err)
	case ok:
		return nil
	case !s.cfg.OrgUnit.CreateMissing && s.job.Mode == Run:
		return &MoveToMissingError{OrgUnit: to}
	case !s.cfg.OrgUnit.CreateMissing:
		out.HeldBack = fmt.Sprintf("leavers.moveTo %s does not exist: run would stop and change nothing", to)
	default:
		s.createMoveTo = true
	}
	return nil
}

// leaverAction decides what becomes of an account the file does not list:
// nothing when it is already as a leaver should be, and deletion only of
// an account this journal suspended at least leavers.deleteAfter ago.
func (s *runner) leaverAction(ctx context.Context, a journal.Scoped) (leaverAction, error) {
	l := s.cfg.Leavers
	if l.Action == LeaverMove {
		if strings.EqualFold(a.OrgUnit, l.MoveTo) {
			return 0, nil
		}
		return moveLeaver, nil
	}
	if !a.Suspended {
		return suspendLeaver, nil
	}
	if l.DeleteAfter <= 0 {
		return 0, nil
	}
	since, err := s.suspendedSince(ctx, a)
	if err != nil || since.IsZero() || s.job.now().Sub(since) < time.Duration(l.DeleteAfter) {
		return 0, err
	}
	return deleteLeaver, nil
}

// unfinishedLeaver returns the action of a leaver an earlier invocation of
// this run began and did not report, or 0.
func (s *runner) unfinishedLeaver(ctx context.Context, a journal.Scoped) (leaverAction, error) {
	row, known, err := s.journal.Row(ctx, a.Identity)
	if err != nil || !known || row.RunID != s.run.ID || row.Line != 0 || row.State.Terminal() {
		return 0, err
	}
	if s.cfg.Leavers.Action == LeaverMove {
		return moveLeaver, nil
	}
	return suspendLeaver, nil
}

// suspendedSince returns when this journal suspended the account, or zero
// when it did not (or lifted the suspension since).
func (s *runner) suspendedSince(ctx context.Context, a journal.Scoped) (time.Time, error) {
	applied, err := s.effects(ctx, a.Identity)
	if err != nil {
		return time.Time{}, err
	}
	t := &task{row: journal.Row{Email: a.Email}, applied: applied}
	if !s.suspendedByUs(t) {
		return time.Time{}, nil
	}
	return applied[effectKey(journal.SuspendUser, a.Email)].Updated, nil
}

// accountOf returns the account, in scope's terms, that carries the ID of
// a person the file marks as leaving.
func (s *runner) accountOf(ctx context.Context, id directory.ExternalID) (journal.Scoped, bool, error) {
	emails, err := s.journal.AccountsWithID(ctx, idKey(id))
	if err != nil || len(emails) != 1 {
		return journal.Scoped{}, false, err
	}
	a, found, err := s.journal.Account(ctx, emails[0])
	if err != nil || !found {
		return journal.Scoped{}, false, err
	}
	return journal.Scoped{Account: a, Identity: "id:" + id.Value, ExternalID: idKey(id)}, true, nil
}

// fileIdentities is who a file lists, and who it marks as leaving.
type fileIdentities struct {
	listed  map[string]bool        // identity keys of the people listed and staying
	leaving []directory.ExternalID // the IDs of those marked as leaving (OneRoster)
	// heldBack says why the file cannot say who it leaves out, if it
	// cannot: a record without a readable ID may be anyone.
	heldBack string
	noID     bool // the file has no ID column
}

// FullNeedsIDError stops a full run of a file without an ID column before
// it changes anything: without IDs, the file cannot say who it leaves out,
// and its people are known by their content, not as the accounts' owners.
type FullNeedsIDError struct{ Input string }

func (e *FullNeedsIDError) Error() string {
	return fmt.Sprintf("%s has no ID column: a full file (--full) needs one, to tell who it lists and who left; nothing was changed", e.Input)
}

// listedIdentities reads the input once more for who it lists.
func (j *Job) listedIdentities() (fileIdentities, error) {
	var out fileIdentities
	in, err := os.Open(j.InputPath)
	if err != nil {
		return out, fmt.Errorf("open input: %w", err)
	}
	defer in.Close()
	r, err := input.NewReader(in, j.readerOptions())
	if err != nil {
		return out, err
	}
	if !r.HasID() {
		out.heldBack, out.noID = "the file has no ID column, so it cannot say who it leaves out", true
		return out, nil
	}
	out.listed = map[string]bool{}
	var unreadable []int
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("read input %s: %w", j.InputPath, err)
		}
		switch {
		case rec.ID == "":
			unreadable = append(unreadable, rec.Line)
		case j.roster != nil && rec.Err == nil && leaving(rec) != "":
			out.leaving = append(out.leaving, directory.ExternalID{Type: j.Config.Identity.Type, CustomType: j.Config.Identity.CustomType, Value: rec.ID})
		default:
			// A row that fails for another reason still lists its person.
			out.listed["id:"+rec.ID] = true
		}
	}
	if len(unreadable) > 0 {
		out.heldBack = fmt.Sprintf("%d records have no readable ID (line %d first), and may be people who have not left", len(unreadable), unreadable[0])
	}
	return out, nil
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
		err := s.effect(ctx, t, journal.DeleteUser, t.row.Email, func() (string, error) {
			return "", s.dir.DeleteUser(ctx, t.row.UserID)
		})
		if err != nil {
			return "", "", s.remote(ctx, err, "delete %s", t.row.Email)
		}
		if err := s.journal.ForgetAccount(ctx, t.row.Email); err != nil {
			return "", "", &journalFault{err}
		}
		return report.StatusDeleted, fmt.Sprintf("a leaver suspended more than %s ago; Google keeps it restorable for 20 days", time.Duration(l.DeleteAfter)), nil
	}
	var changes []fieldChange
	if l.MoveTo != "" && !strings.EqualFold(t.account.OrgUnit, l.MoveTo) {
		to := l.MoveTo
		t.update.OrgUnitPath = &to
		changes = append(changes, fieldChange{"orgUnit", t.account.OrgUnit, to})
	}
	kind, target := journal.UpdateUser, ""
	status = report.StatusUpdated
	if action == suspendLeaver {
		yes := true
		t.update.Suspended = &yes
		kind, target, status = journal.SuspendUser, t.row.Email, report.StatusSuspended
		changes = append(changes, fieldChange{"suspended", "no", "yes"})
		s.forgetEarlierRuns(t, kind, target)
	} else if target, err = updateTarget(t.update); err != nil {
		return "", "", err
	}
	err = s.effect(ctx, t, kind, target, func() (string, error) {
		return "", s.dir.UpdateUser(ctx, t.row.UserID, t.update, directory.Settled)
	})
	if err != nil {
		return "", "", s.remote(ctx, err, "%s %s", action, t.row.Email)
	}
	updated, err := applyUpdate(*t.account, t.update)
	if err != nil {
		return "", "", err
	}
	if err := s.journal.SetAccount(ctx, updated); err != nil {
		return "", "", &journalFault{err}
	}
	note = "a leaver (in scope, not in the file): " + describeChanges(changes)
	left, err := s.leaveGroups(ctx, t)
	if err != nil {
		return "", "", err
	}
	if left != "" {
		note += "; " + left
	}
	return status, note, nil
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
