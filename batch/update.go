package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/naming"
)

// wantedOf returns what a record says its account's managed fields are:
// its names always, and title, department, manager and phone when the
// file has their columns (an empty cell then clears the field).
func (s *runner) wantedOf(rec input.Record) wanted {
	w := wanted{givenName: rec.FirstName, familyName: rec.LastName}
	pick := func(field, value string) *string {
		if !s.columns[field] {
			return nil
		}
		return &value
	}
	w.title = pick("title", rec.Title)
	w.department = pick("department", rec.Department)
	w.manager = pick("manager", rec.Manager)
	w.phone = pick("phone", rec.Phone)
	w.custom = s.customOf(rec)
	return w
}

// customOf returns the custom schema fields the config maps, with the
// record's values.
func (s *runner) customOf(rec input.Record) map[string]map[string]string {
	if len(s.cfg.CustomSchemas) == 0 {
		return nil
	}
	fields := rec.Fields()
	out := make(map[string]map[string]string, len(s.cfg.CustomSchemas))
	for schema, mapping := range s.cfg.CustomSchemas {
		for field, from := range mapping {
			if !s.provides(from) {
				continue // no column: not managed, never cleared
			}
			if out[schema] == nil {
				out[schema] = map[string]string{}
			}
			out[schema][field] = fields.Get(from)
		}
	}
	return out
}

// managesLists reports whether the file gives any field kept in an
// account's lists or custom schemas: only then is an account's JSON read.
func (s *runner) managesLists() bool {
	return s.columns["title"] || s.columns["department"] || s.columns["manager"] || s.columns["phone"] || len(s.cfg.CustomSchemas) > 0
}

// kept reports whether the org unit p is one whose members are never moved
// (orgUnit.keep): p or one below it.
func (s *runner) kept(p string) bool {
	for _, k := range s.cfg.OrgUnit.Keep {
		k = strings.TrimSuffix(k, "/")
		if strings.EqualFold(p, k) || len(p) > len(k) && strings.EqualFold(p[:len(k)+1], k+"/") {
			return true
		}
	}
	return false
}

// lineUp works out the one update that brings the account acct in line
// with the row: its managed fields, its org unit (unless it is kept where
// it is) and, for a leaver this journal suspended who is back, the lifting
// of the suspension. It sets t.account, t.update, t.changes and t.restore.
func (s *runner) lineUp(t *task, acct journal.Account) error {
	m := managed{GivenName: acct.GivenName, FamilyName: acct.FamilyName}
	if s.managesLists() {
		var err error
		if m, err = managedOf(acct); err != nil {
			return err
		}
	}
	t.account = &acct
	t.update, t.changes = updateOf(m, s.wantedOf(t.rec))
	if !strings.EqualFold(acct.OrgUnit, t.orgUnit) && !s.kept(acct.OrgUnit) {
		to := t.orgUnit
		t.update.OrgUnitPath = &to
		t.changes = append(t.changes, fieldChange{"orgUnit", acct.OrgUnit, to})
	}
	if acct.Suspended && s.suspendedByUs(t) {
		no := false
		t.update.Suspended, t.restore = &no, true
		t.changes = append(t.changes, fieldChange{"suspended", "yes (a leaver)", "no"})
	}
	return nil
}

// suspendedByUs reports whether this journal suspended the row's account
// as a leaver and has not lifted the suspension since: only such a
// suspension is lifted when the person is back. A suspension by anyone
// else (an admin, Google for abuse) is left alone.
func (s *runner) suspendedByUs(t *task) bool {
	suspended := t.applied[effectKey(journal.SuspendUser, t.row.Email)]
	if suspended.State != journal.Applied {
		return false
	}
	restored := t.applied[effectKey(journal.RestoreUser, t.row.Email)]
	return restored.State != journal.Applied || restored.Updated.Before(suspended.Updated)
}

// updateTarget names an update in the effects table: a digest of what it
// sends, so that the same change is one effect however often it is tried,
// and a later, different change is another.
func updateTarget(u directory.UserUpdate) (string, error) {
	data, err := json.Marshal(u)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "fields:" + hex.EncodeToString(sum[:8]), nil
}

// sendUpdate sends the task's update as one journaled effect and records
// what it left the account as. A suspension and the lifting of one are
// effects of their own, named by the address: whether this journal
// suspended an account is read from them. Any other change is named by a
// digest of what it sends.
func (s *runner) sendUpdate(ctx context.Context, t *task) error {
	if t.update.IsZero() {
		return nil
	}
	kind, target := journal.UpdateUser, ""
	if suspend := t.update.Suspended; suspend != nil {
		kind, target = journal.RestoreUser, t.row.Email
		if *suspend {
			kind = journal.SuspendUser
		}
		// Suspended, back, and gone again: done again.
		s.forgetEarlierRuns(t, kind, target)
	} else {
		var err error
		if target, err = updateTarget(t.update); err != nil {
			return err
		}
	}
	err := s.effect(ctx, t, kind, target, func() (string, error) {
		return "", s.dir.UpdateUser(ctx, t.row.UserID, t.update, t.fresh)
	})
	if err != nil {
		return s.remote(ctx, err, "update %s (%s)", t.row.Email, describeChanges(t.changes))
	}
	if t.account == nil {
		return nil
	}
	updated, err := applyUpdate(*t.account, t.update)
	if err != nil {
		return err
	}
	if err := s.journal.SetAccount(ctx, updated); err != nil {
		return &journalFault{err}
	}
	return nil
}

// applyUpdate returns the account as an update leaves it.
func applyUpdate(a journal.Account, u directory.UserUpdate) (journal.Account, error) {
	m, err := managedOf(a)
	if err != nil {
		return a, err
	}
	if u.GivenName != nil {
		m.GivenName = *u.GivenName
	}
	if u.FamilyName != nil {
		m.FamilyName = *u.FamilyName
	}
	if u.Organizations != nil {
		m.Organizations = *u.Organizations
	}
	if u.Relations != nil {
		m.Relations = *u.Relations
	}
	if u.Phones != nil {
		m.Phones = *u.Phones
	}
	for schema, values := range u.CustomSchemas {
		for field, v := range values {
			if m.Custom == nil {
				m.Custom = map[string]map[string]string{}
			}
			if m.Custom[schema] == nil {
				m.Custom[schema] = map[string]string{}
			}
			if v == nil {
				delete(m.Custom[schema], field)
				continue
			}
			m.Custom[schema][field] = fmt.Sprint(v)
		}
	}
	if u.OrgUnitPath != nil {
		a.OrgUnit = *u.OrgUnitPath
	}
	if u.Suspended != nil {
		a.Suspended = *u.Suspended
		if !a.Suspended {
			a.SuspensionReason = ""
		}
	}
	fields, err := json.Marshal(m)
	if err != nil {
		return a, fmt.Errorf("record the account %s: %w", a.Email, err)
	}
	a.GivenName, a.FamilyName, a.Fields = m.GivenName, m.FamilyName, string(fields)
	return a, nil
}

// planAddress works out, in file order, the address a renamed person's
// account moves to when rename is alias: the target of a move an earlier
// invocation began, or the name the patterns give the new name, held for
// the row. Nothing moves for a row with an explicit address, or when the
// names changed only in ways the patterns do not see (case, accents).
func (s *runner) planAddress(ctx context.Context, t *task) error {
	if s.cfg.Rename != RenameAlias || t.rec.Email != "" || t.account == nil || t.row.Email == "" {
		return nil
	}
	m, err := managedOf(*t.account)
	if err != nil {
		return err
	}
	if naming.Normalize(m.GivenName) == naming.Normalize(t.rec.FirstName) && naming.Normalize(m.FamilyName) == naming.Normalize(t.rec.LastName) {
		return nil
	}
	to := ""
	for _, e := range t.applied {
		if e.Kind == journal.RenameUser && e.State != journal.Applied && !strings.EqualFold(e.Target, t.row.Email) {
			to = e.Target // begun, not known to be done: the same move again
		}
	}
	if to == "" {
		local, err := s.reserver.Reserve(ctx, t.id.key, t.rec.Fields())
		if err != nil {
			return rowFailf("no new address for the new name: %v", err)
		}
		to = local + "@" + strings.ToLower(s.cfg.Domain)
	}
	if strings.EqualFold(to, t.row.Email) {
		return nil
	}
	t.moveTo = to
	t.changes = append(t.changes, fieldChange{"address", t.row.Email, to + " (the old one kept as an alias)"})
	return nil
}

// moveAddress gives the account its new address, keeping the old one as
// an alias, as one journaled effect.
func (s *runner) moveAddress(ctx context.Context, t *task) error {
	if t.moveTo == "" {
		return nil
	}
	from := t.row.Email
	err := s.effect(ctx, t, journal.RenameUser, t.moveTo, func() (string, error) {
		return "", s.dir.RenameUser(ctx, t.row.UserID, from, t.moveTo, t.fresh)
	})
	if err != nil {
		return s.remote(ctx, err, "give %s the address %s", from, t.moveTo)
	}
	t.row.Email = t.moveTo
	if err := s.record(ctx, &t.row, evAdopted); err != nil {
		return err
	}
	if err := s.journal.MoveAccount(ctx, from, t.moveTo); err != nil {
		return &journalFault{err}
	}
	return nil
}
