package batch

import (
	"context"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
)

// ensureOrgUnit makes sure the row's org unit exists, creating it (and its
// parents) when the config allows.
func (s *runner) ensureOrgUnit(ctx context.Context, t *task) error {
	if t.orgUnit == "/" {
		return nil
	}
	lookup := func(ctx context.Context) (bool, error) { return exists(s.dir.GetOrgUnit(ctx, t.orgUnit)) }
	if !s.cfg.OrgUnit.CreateMissing {
		exists, err := s.orgUnits.check(ctx, t.orgUnit, lookup)
		if err != nil {
			return s.remote(ctx, err, "look up org unit %s", t.orgUnit)
		}
		if !exists {
			return rowFailf("the org unit %s does not exist (set orgUnit.createMissing to create it)", t.orgUnit)
		}
		return nil
	}
	err := s.orgUnits.ensure(ctx, t.orgUnit, lookup, func(ctx context.Context) error {
		return s.effect(ctx, t, journal.CreateOrgUnit, t.orgUnit, func() (string, error) {
			return "", s.dir.EnsureOrgUnit(ctx, t.orgUnit, directory.CreateParents)
		})
	})
	if err != nil {
		return s.remote(ctx, err, "create org unit %s", t.orgUnit)
	}
	return nil
}

// exists turns a point read into "exists": found, missing, or an error.
func exists(_ any, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case directory.IsNotFound(err):
		return false, nil
	}
	return false, err
}

// addAlias adds an alias to the row's account.
func (s *runner) addAlias(ctx context.Context, t *task, alias string) error {
	err := s.effect(ctx, t, journal.AddAlias, alias, func() (string, error) {
		return "", s.dir.InsertAlias(ctx, t.row.Email, alias, t.fresh)
	})
	if err != nil {
		if directory.IsDuplicate(err) {
			return rowFailf("the alias %s belongs to another account or group", alias)
		}
		return s.remote(ctx, err, "add the alias %s", alias)
	}
	return nil
}

// addMember adds the row's account to a group, creating the group first
// when it is missing and the config allows.
func (s *runner) addMember(ctx context.Context, t *task, group string) error {
	added := effectKey(journal.AddMember, group)
	if removed := t.applied[effectKey(journal.RemoveMember, group)]; removed.State == journal.Applied && !removed.Updated.Before(t.applied[added].Updated) {
		// Taken out since (a leaver, an undo) and back: joined again.
		delete(t.applied, added)
	}
	err := s.effect(ctx, t, journal.AddMember, group, func() (string, error) {
		err := s.dir.InsertMember(ctx, group, t.row.Email, t.fresh)
		if err == nil || !directory.IsNotFound(err) {
			return "", err
		}
		exists, gerr := s.groups.check(ctx, group, func(ctx context.Context) (bool, error) { return exists(s.dir.GetGroup(ctx, group)) })
		switch {
		case gerr != nil:
			return "", err
		case !exists && !t.creatable[group]:
			return "", rowFailf("%s", missingGroup(group))
		case !exists:
			if err := s.createGroup(ctx, t, group); err != nil {
				return "", err
			}
		}
		// The group exists now: created here, or by another worker since
		// the insert was refused. If the member is what is missing, this
		// second try says so.
		return "", s.dir.InsertMember(ctx, group, t.row.Email, t.fresh)
	})
	if err != nil {
		return s.remote(ctx, err, "add %s to the group %s", t.row.Email, group)
	}
	return nil
}

// createGroup creates a missing group, once however many rows want it,
// as a side effect of the first row that needs it.
func (s *runner) createGroup(ctx context.Context, t *task, group string) error {
	lookup := func(ctx context.Context) (bool, error) { return exists(s.dir.GetGroup(ctx, group)) }
	return s.groups.ensure(ctx, group, lookup, func(ctx context.Context) error {
		return s.effect(ctx, t, journal.CreateGroup, group, func() (string, error) {
			local, _, _ := strings.Cut(group, "@")
			return "", s.dir.EnsureGroup(ctx, group, local)
		})
	})
}
