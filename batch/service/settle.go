package service

import (
	"context"
	"net/http"
	"strings"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/directory"
)

// settle finds out how a create whose outcome is not journaled ended, by a
// point read of its address, and journals it: an account carrying its
// marker was created; another account means the name is taken; no account
// means the insert did not land. It returns an error when the directory
// cannot tell now; the create then stays unsettled.
func (s *Service) settle(ctx context.Context, rec createRecord) error {
	email := rec.Name + "@" + s.cfg.Domain
	rctx, cancel := context.WithTimeout(ctx, settleBudget)
	defer cancel()
	u, err := s.dir.GetUser(rctx, email)
	switch {
	case err == nil && carries(u, rec.Marker):
		s.log.Info("settled an unfinished create: the account was created", "email", email)
		return s.store.FinishCreate(ctx, rec, outcomeCreated, u.Id, "")
	case err == nil:
		s.log.Info("settled an unfinished create: the name belongs to another account", "email", email)
		s.reserver.MarkTaken(rec.Name)
		return s.store.FinishCreate(ctx, rec, outcomeTaken, "", "the address belongs to another account")
	case directory.IsNotFound(err):
		s.log.Info("settled an unfinished create: the account was not created", "email", email)
		return s.store.FinishCreate(ctx, rec, outcomeRefused, "", "the insert did not land")
	}
	return err
}

// settleName settles every unfinished create of name.
func (s *Service) settleName(ctx context.Context, name string) error {
	pending, err := s.store.PendingCreates(ctx, name)
	if err != nil {
		return err
	}
	for _, rec := range pending {
		if err := s.settle(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// ensureOrgUnit makes sure an account's org unit exists before the account
// is created: it creates it (and its parents) when the config allows, and
// refuses the create otherwise, before anything is changed.
func (s *Service) ensureOrgUnit(ctx context.Context, path string) error {
	s.mu.Lock()
	known := s.orgUnits[path]
	s.mu.Unlock()
	if known {
		return nil
	}
	_, err := s.dir.GetOrgUnit(ctx, path)
	switch {
	case err == nil:
	case !directory.IsNotFound(err):
		return failf(http.StatusServiceUnavailable, "could not look up the org unit %s: %s", path, plainError(err))
	case !s.cfg.OrgUnit.CreateMissing:
		return failf(http.StatusBadRequest, "the org unit %s does not exist (an admin can set orgUnit.createMissing to create it)", path)
	default:
		e, err := s.store.Intent(ctx, 0, effectOrgUnit, path)
		if err != nil {
			return err
		}
		cerr := s.dir.EnsureOrgUnit(ctx, path, directory.CreateParents)
		reason := ""
		if cerr != nil {
			reason = plainError(cerr)
		}
		if err := s.store.Outcome(context.WithoutCancel(ctx), e, reason, cerr == nil); err != nil {
			return err
		}
		if cerr != nil {
			return failf(http.StatusServiceUnavailable, "could not create the org unit %s: %s", path, reason)
		}
		s.log.Info("created an org unit", "org_unit", path)
	}
	s.mu.Lock()
	s.orgUnits[path] = true
	s.mu.Unlock()
	return nil
}

// addToGroups adds a just-created account to the groups of its place,
// each journaled as an intent and an outcome, creating a missing group
// when groups.createMissing allows. It returns the groups it could not add
// the account to, with the reason; the account exists all the same.
func (s *Service) addToGroups(ctx context.Context, rec createRecord, email string, place batch.Place) (failed []string) {
	for _, g := range place.Groups {
		e, err := s.store.Intent(ctx, rec.ID, effectMember, g)
		if err != nil {
			failed = append(failed, "the group "+g+" (the journal failed: "+err.Error()+")")
			continue
		}
		err = s.dir.InsertMember(ctx, g, email, directory.JustCreated)
		if err != nil && directory.IsNotFound(err) && place.MayCreate(g) {
			local, _, _ := strings.Cut(g, "@")
			if err = s.dir.EnsureGroup(ctx, g, local); err == nil {
				err = s.dir.InsertMember(ctx, g, email, directory.JustCreated)
			}
		}
		reason := ""
		if err != nil {
			reason = plainError(err)
			if directory.IsNotFound(err) && !place.MayCreate(g) {
				reason = "it does not exist (an admin can set groups.createMissing to create it)"
			}
			failed = append(failed, "the group "+g+" ("+reason+")")
			s.log.Warn("could not add an account to a group", "email", email, "group", g, "err", reason)
		}
		if oerr := s.store.Outcome(context.WithoutCancel(ctx), e, reason, err == nil); oerr != nil {
			s.log.Error("could not journal a membership's outcome", "email", email, "group", g, "err", oerr)
		}
	}
	return failed
}
