package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
	"github.com/provisionhq/provision/naming"
)

// prepare takes a record in file order: it rejects it, skips it, or
// names it and returns the task for a worker. Whatever it decides is
// journaled (or queued for the finisher) before the next record is read,
// so that a later line with the same identity is always seen as a
// duplicate. It returns an error only when the job cannot go on.
func (s *runner) prepare(ctx context.Context, rec input.Record, prefetch *prefetched) (*task, error) {
	if rec.Err != nil {
		return nil, s.reject(ctx, rec, fmt.Sprintf("line:%d", rec.Line), rec.Err.Error())
	}
	if rec.EndLine > rec.Line {
		// Valid, but a quote left open in a notes column would read the
		// people on the next lines as part of this one: say so.
		s.log.Warn("a record spans several lines (a quoted value holds line breaks); if that is not meant, a quote is missing and the lines inside it were read as one person",
			"lines", fmt.Sprintf("%d–%d", rec.Line, rec.EndLine))
	}
	id := identityOf(rec, s.cfg)
	if r := s.job.roster; r != nil {
		if why := leaving(rec); why != "" {
			return nil, s.ignore(ctx, rec, id, fmt.Sprintf("marked as leaving in the file (%s); an account it has is a leaver", why))
		}
		if why := r.unprovisioned(rec); why != "" {
			return nil, s.ignore(ctx, rec, id, why)
		}
	}
	if line, queued := s.finisher.queued(id.key); queued {
		return nil, s.reject(ctx, rec, fmt.Sprintf("line:%d", rec.Line), duplicate(rec, line))
	}
	if line, kept := s.inMemory.line(id.key); kept {
		// A row kept in memory instead of the journal.
		return nil, s.reject(ctx, rec, fmt.Sprintf("line:%d", rec.Line), duplicate(rec, line))
	}
	row, known, ok := prefetch.take(id.key)
	var account func(email string) (journal.Account, bool, error)
	if ok {
		account = func(email string) (journal.Account, bool, error) {
			a, found := prefetch.account(email)
			return a, found, nil
		}
	} else {
		var err error
		if row, known, err = s.journal.Row(ctx, id.key); err != nil {
			return nil, err
		}
		account = func(email string) (journal.Account, bool, error) { return s.journal.Account(ctx, email) }
	}
	if dealt, err := s.seenInRun(ctx, rec, id, row, known); dealt || err != nil {
		return nil, err
	}
	pl, err := s.placement.of(rec)
	if err != nil {
		return nil, s.reject(ctx, rec, id.key, fmt.Sprintf("line %d: %v", rec.Line, err))
	}
	t, err := s.take(ctx, rec, id, row, known, pl, account)
	return t, err
}

// seenInRun deals with a record whose row this run has seen before: a
// duplicate line, or a line an earlier invocation of the run finished. It
// reports whether the record is dealt with.
func (s *runner) seenInRun(ctx context.Context, rec input.Record, id identity, row journal.Row, known bool) (bool, error) {
	switch {
	case !known:
		return false, nil
	case row.RunID == s.run.ID && row.Line != rec.Line:
		return true, s.reject(ctx, rec, fmt.Sprintf("line:%d", rec.Line), duplicate(rec, row.Line))
	case row.RunID == s.run.ID:
		// Finished by an earlier invocation of this run, or in progress.
		return row.State.Terminal() && row.ReportedRun == s.run.ID, nil
	case row.State != journal.Done || !s.skippedBefore.has(rec.Line):
		return false, nil
	}
	// Skipped by an earlier invocation of this run (kept.go).
	if s.inMemory.keep(id.key, rec.Line) {
		return true, nil
	}
	// No room left to keep it for a later duplicate line (the earlier
	// invocation kept it in as much room, so only another identity with
	// its fingerprint takes it): it is skipped, and reported, again, and
	// journaled as a row.
	return false, s.journal.ForgetSkip(ctx, s.run.ID, rec.Line)
}

// take goes on with a record that can be processed, whose journal row is
// row (when known): it skips it when it was done before and nothing
// changed, or brings its account in line, or names it.
func (s *runner) take(ctx context.Context, rec input.Record, id identity, row journal.Row, known bool, pl place,
	account func(email string) (journal.Account, bool, error)) (*task, error) {
	if !known {
		row = journal.Row{Identity: id.key}
	}
	earlierRun := known && row.RunID != s.run.ID
	placementChanged := row.OrgUnit != pl.orgUnit || !slices.Equal(row.Groups, pl.groups)
	row.RunID, row.Line, row.ExternalID = s.run.ID, rec.Line, idKey(id.externalID)
	row.FirstName, row.LastName, row.OrgUnit, row.Groups = rec.FirstName, rec.LastName, pl.orgUnit, pl.groups
	// Most rows of a nightly file are done with nothing to change: the
	// task stays on the stack until the row turns out to need work.
	t := task{rec: rec, id: id, row: row, orgUnit: pl.orgUnit, groups: pl.groups, creatable: pl.create}

	if earlierRun && row.UserID != "" {
		// The account made or adopted before: compared with what the
		// snapshot (and this journal's changes since) says it is now.
		acct, found, err := account(row.Email)
		if err != nil {
			return nil, err
		}
		if found && acct.Suspended {
			// Only a suspension of this journal's is lifted: its effects say.
			if t.applied, err = s.effects(ctx, id.key); err != nil {
				return nil, err
			}
		}
		if found {
			if err := s.lineUp(&t, acct); err != nil {
				return nil, err
			}
		}
	}
	if earlierRun && row.State == journal.Done && row.UserID != "" && !placementChanged && t.update.IsZero() {
		return nil, s.finish(ctx, &t, report.StatusSkipped, skippedReason(row))
	}
	work := new(task)
	*work = t
	return s.takeOn(ctx, work, known, earlierRun, placementChanged)
}

// takeOn goes on with a record that needs work: it names it, or brings
// its account in line.
func (s *runner) takeOn(ctx context.Context, t *task, known, earlierRun, placementChanged bool) (*task, error) {
	row := t.row
	if known && t.applied == nil {
		var err error
		if t.applied, err = s.effects(ctx, t.id.key); err != nil {
			return nil, err
		}
	}
	if err := s.planAddress(ctx, t); err != nil {
		return nil, s.failRow(ctx, t, err)
	}
	if err := s.holdGroups(ctx, t); err != nil {
		return nil, s.failRow(ctx, t, err)
	}
	if created := t.applied[effectKey(journal.CreateUser, row.Email)]; row.UserID == "" && created.State == journal.Applied {
		// The create was recorded, the row's account not yet: the process
		// stopped in between.
		t.row.UserID, t.row.Status = created.RemoteID, report.StatusCreated
	}
	if t.row.UserID != "" {
		// The account exists: created by this job, or adopted. An
		// account made in an earlier run is brought in line, not created.
		t.converge = earlierRun || !t.done(journal.CreateUser, t.row.Email)
		t.checkOrgUnit = placementChanged
		if !t.converge {
			// Created by an invocation of this run moments ago, perhaps
			// just before a crash: Google may not have settled it yet.
			t.fresh = directory.JustCreated
		}
		return t, s.record(ctx, &t.row, evSeen)
	}
	return s.nameRow(ctx, t)
}

// nameRow names a row without an account: after the account the directory
// has with its identity, after the name it holds already, or from the
// patterns. Seen and named go to the journal in one write.
func (s *runner) nameRow(ctx context.Context, t *task) (*task, error) {
	var err error
	if t.row.State, err = transition(&t.row, evSeen); err != nil {
		return nil, err
	}
	accounts, err := s.journal.AccountsWithID(ctx, idKey(t.id.externalID))
	if err != nil {
		return nil, err
	}
	switch len(accounts) {
	case 0:
	case 1:
		// The directory has an account with this identity: the row is
		// named after it and adopts it.
		t.converge, t.checkOrgUnit, t.adopting = true, true, true
		t.row.Email = accounts[0]
		return t, s.record(ctx, &t.row, evNamed)
	default:
		return nil, s.finish(ctx, t, report.StatusFailed,
			fmt.Sprintf("%d accounts carry the ID %q (%s); fix the directory so that one does", len(accounts), t.rec.ID, strings.Join(accounts, ", ")))
	}
	if t.row.Email == "" {
		// A name held for the row whose record was lost (the process
		// stopped between the two writes) is the row's name.
		if t.row.Email, err = s.heldName(ctx, t); err != nil {
			return nil, err
		}
	}
	explicitChanged := t.rec.Email != "" && !strings.EqualFold(t.rec.Email, t.row.Email)
	if t.row.Email != "" && !explicitChanged {
		// Named before, in this run or an earlier one: keep the name. Its
		// aliases are held again: one may have failed, or be new.
		err = s.holdAliases(ctx, t)
	} else {
		err = s.name(ctx, t)
	}
	if err != nil {
		return nil, s.failRow(ctx, t, err)
	}
	return t, s.record(ctx, &t.row, evNamed)
}

// duplicate says why a record is refused for having the identity of an
// earlier line.
func duplicate(rec input.Record, line int) string {
	what := "the same content"
	if rec.ID != "" {
		what = fmt.Sprintf("the same ID %q", rec.ID)
	}
	return fmt.Sprintf("line %d: %s as line %d; each person may appear only once", rec.Line, what, line)
}

// heldName returns the username the ledger holds for a row without a
// name on record: the process stopped after holding it and before saving
// the row. Names the directory refused since, and the row's aliases, are
// not its username. It returns "" when there is none.
func (s *runner) heldName(ctx context.Context, t *task) (string, error) {
	held, err := s.journal.Reservations(ctx, t.id.key)
	if err != nil {
		return "", err
	}
	aliases := map[string]bool{}
	for _, a := range t.rec.Aliases {
		local, _, _ := strings.Cut(s.placement.address(a), "@")
		aliases[local] = true
	}
	for i := len(held) - 1; i >= 0; i-- {
		name := held[i]
		if aliases[name] {
			continue
		}
		taken, err := s.journal.NameTaken(ctx, name)
		if err != nil {
			return "", err
		}
		if !taken {
			return name + "@" + strings.ToLower(s.cfg.Domain), nil
		}
	}
	return "", nil
}

// failRow finishes a row that err, a *rowFailure, stopped in prepare;
// any other error stops the job and is returned as it is.
func (s *runner) failRow(ctx context.Context, t *task, err error) error {
	var f *rowFailure
	if !errors.As(err, &f) {
		return err
	}
	return s.finish(ctx, t, report.StatusFailed, fmt.Sprintf("line %d: %s", t.rec.Line, f.reason))
}

// name gives a row its username, in file order: the explicit address of
// the row, or the first available name from the patterns. The caller
// records it (evNamed).
func (s *runner) name(ctx context.Context, t *task) error {
	domain := strings.ToLower(s.cfg.Domain)
	if t.rec.Email != "" {
		local, _, _ := strings.Cut(t.rec.Email, "@")
		if err := s.reserver.Claim(ctx, t.id.key, local); err != nil {
			switch {
			case errors.Is(err, naming.ErrTaken):
				return rowFailf("the address %s is already taken", t.rec.Email)
			case errors.Is(err, naming.ErrReserved):
				return rowFailf("the address %s is on the reserved list", t.rec.Email)
			case errors.Is(err, naming.ErrInvalid):
				return rowFailf("the address %s cannot be a username: %v", t.rec.Email, err)
			}
			return err
		}
		t.row.Email = strings.ToLower(t.rec.Email)
	} else {
		local, err := s.reserver.Reserve(ctx, t.id.key, t.rec.Fields())
		var fe *naming.FieldError
		switch {
		case errors.As(err, &fe), errors.Is(err, naming.ErrNoName):
			return rowFailf("%v", err)
		case err != nil:
			return err
		}
		t.row.Email = local + "@" + domain
	}
	return s.holdAliases(ctx, t)
}

// holdAliases holds the row's aliases for it, in file order, as its name
// is: otherwise a later row could be named after one of them, and which of
// the two got the address would depend on which worker called first. An
// alias already held or taken fails the row before its account is made; a
// reserved one is left alone, since no pattern hands it out. Aliases the
// row holds already pass, so it may be called again for a row.
func (s *runner) holdAliases(ctx context.Context, t *task) error {
	for _, alias := range t.rec.Aliases {
		local, _, _ := strings.Cut(s.placement.address(alias), "@")
		holder, err := s.journal.Holder(ctx, local)
		if err != nil {
			return err
		}
		if holder == t.id.key {
			continue // held before this rename or resume
		}
		err = s.reserver.Claim(ctx, t.id.key, local)
		switch {
		case err == nil, errors.Is(err, naming.ErrReserved):
		case errors.Is(err, naming.ErrTaken):
			return rowFailf("the alias %s is already taken by another account, alias, group or row", s.placement.address(alias))
		case errors.Is(err, naming.ErrInvalid):
			return rowFailf("the alias %s cannot be an address: %v", s.placement.address(alias), err)
		default:
			return err
		}
	}
	return nil
}

// groupOwner holds, in the ledger, the addresses of groups the job will
// create.
const groupOwner = "group"

// holdGroups holds, in file order, the addresses of the groups the job may
// create for a row, as names are held: otherwise a later row could be named
// after a group that does not exist yet, and which of the two got the
// address would depend on which worker called first. A group address a row
// already holds as its name or alias fails this row.
func (s *runner) holdGroups(ctx context.Context, t *task) error {
	for _, g := range t.groups {
		if !t.creatable[g] {
			continue // missing, it fails the row; it is never created
		}
		local, domain, _ := strings.Cut(g, "@")
		if !strings.EqualFold(domain, s.cfg.Domain) {
			continue
		}
		holder, err := s.journal.Holder(ctx, local)
		switch {
		case err != nil:
			return err
		case holder == groupOwner:
			continue
		case holder != "":
			return rowFailf("the group %s has the address of the account or alias of another row", g)
		}
		taken, err := s.journal.NameTaken(ctx, local)
		if err != nil {
			return err
		}
		if !taken {
			if err := s.journal.Hold(ctx, local, groupOwner); err != nil {
				return err
			}
		}
	}
	return nil
}

// reject finishes a record that cannot be processed at all, keeping what
// the journal knows of the person: an account made in an earlier run stays
// on record, to be brought in line once the row is fixed.
func (s *runner) reject(ctx context.Context, rec input.Record, key, reason string) error {
	return s.finishRecord(ctx, rec, journal.Row{Identity: key}, report.StatusFailed, reason)
}

// finishRecord finishes a record that is not worked on, as row when the
// journal does not know its person, and as the journal's row otherwise,
// so that an account on record stays on record.
func (s *runner) finishRecord(ctx context.Context, rec input.Record, row journal.Row, status, reason string) error {
	existing, known, err := s.journal.Row(ctx, row.Identity)
	if err != nil {
		return err
	}
	if known && existing.RunID == s.run.ID && existing.Line == rec.Line && existing.ReportedRun == s.run.ID {
		return nil // reported by an earlier invocation of this run
	}
	if known {
		row = existing
	}
	row.RunID, row.Line, row.FirstName, row.LastName = s.run.ID, rec.Line, rec.FirstName, rec.LastName
	return s.finish(ctx, &task{rec: rec, row: row}, status, reason)
}

// ignore finishes a record the file or the config says not to provision,
// keeping what the journal knows of the person.
func (s *runner) ignore(ctx context.Context, rec input.Record, id identity, reason string) error {
	return s.finishRecord(ctx, rec, journal.Row{Identity: id.key, ExternalID: idKey(id.externalID)},
		report.StatusIgnored, fmt.Sprintf("line %d: not provisioned: %s", rec.Line, reason))
}

// missingGroup says that a group is missing and will not be created.
func missingGroup(g string) string {
	return fmt.Sprintf("the group %s does not exist, and groups.createMissing does not let run create it", g)
}
