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
)

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
	if out.InScope, err = s.journal.CountInScope(ctx, s.cfg.scope()); err != nil {
		return nil, nil, err
	}
	leavers, err := s.leaversOf(ctx, file, full)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range leavers {
		out.Planned = append(out.Planned, fmt.Sprintf("%s: %s", l.account.Email, l.action))
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

// leaversOf returns the leavers of a file, each with what becomes of it:
// for a full file, the accounts in scope it does not list; for any file,
// the accounts of the people it marks as leaving.
func (s *runner) leaversOf(ctx context.Context, file fileIdentities, full bool) ([]leaver, error) {
	var candidates []leaver
	seen := map[string]bool{}
	if full {
		err := s.journal.EachInScope(ctx, s.cfg.scope(), func(a journal.Scoped) error {
			if file.listed[a.Identity] || s.kept(a.OrgUnit) {
				return nil
			}
			seen[a.Email] = true
			candidates = append(candidates, leaver{account: a})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, id := range file.leaving {
		a, found, err := s.accountOf(ctx, id)
		if err != nil {
			return nil, err
		}
		if found && !seen[a.Email] && !a.Admin && !s.kept(a.OrgUnit) {
			seen[a.Email] = true
			candidates = append(candidates, leaver{account: a})
		}
	}
	var leavers []leaver
	for _, l := range candidates {
		var err error
		if l.action, err = s.leaverAction(ctx, l.account); err != nil {
			return nil, err
		}
		if l.action == 0 {
			// A leaver this run began with and did not finish (the
			// process stopped): its account may look done already, its
			// groups not yet.
			if l.action, err = s.unfinishedLeaver(ctx, l.account); err != nil {
				return nil, err
			}
		}
		if l.action != 0 {
			leavers = append(leavers, l)
		}
	}
	return leavers, nil
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
