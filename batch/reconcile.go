package batch

import (
	"context"
	"fmt"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
)

// reconcile settles every side effect an earlier invocation started and
// never recorded the end of, by a point read, before anything is retried:
// the process may have died before the call, during it, or after it
// landed.
func (s *state) reconcile(ctx context.Context) error {
	inflight, err := s.journal.InFlight(ctx)
	if err != nil {
		return err
	}
	if len(inflight) > 0 {
		s.log.Info("settling side effects left in flight by an interrupted run", "count", len(inflight))
	}
	for _, e := range inflight {
		row, found, err := s.journal.Row(ctx, e.Identity)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("journal: effect %d belongs to row %s, which the journal does not hold", e.ID, e.Identity)
		}
		applied, remoteID, err := s.settle(ctx, e, &row)
		if err != nil {
			return fmt.Errorf("settle %s %s for line %d after an interruption: %w (nothing was retried; run again when the directory answers)",
				e.Kind, e.Target, row.Line, err)
		}
		state, reason := journal.Refused, "found not applied after an interruption"
		if applied {
			state, reason = journal.Applied, ""
		}
		s.log.Info("settled", "kind", e.Kind, "target", e.Target, "line", row.Line, "applied", applied)
		if err := s.journal.Outcome(ctx, e.ID, state, remoteID, reason); err != nil {
			return err
		}
		if err := s.journal.SaveRow(ctx, row); err != nil {
			return err
		}
	}
	return nil
}

// settle finds out whether an effect was applied, and updates the row to
// match.
func (s *state) settle(ctx context.Context, e journal.Effect, row *journal.Row) (applied bool, remoteID string, err error) {
	switch e.Kind {
	case journal.CreateUser:
		u, err := s.dir.GetUser(ctx, e.Target)
		switch {
		case directory.IsNotFound(err):
			// Not created: the row keeps its name and tries again.
			row.State = journal.Named
			return false, "", nil
		case err != nil:
			return false, "", err
		}
		ids, err := directory.ExternalIDs(u)
		if err != nil {
			return false, "", err
		}
		for _, id := range ids {
			if idKey(id) == row.ExternalID {
				row.UserID, row.State, row.Status = u.Id, journal.Created, StatusCreated
				return true, u.Id, nil
			}
		}
		// Someone else has the name: the row is named afresh.
		local, _, _ := strings.Cut(e.Target, "@")
		if err := s.journal.AddTakenName(ctx, local, journal.UserName); err != nil {
			return false, "", err
		}
		row.State, row.Email = journal.Pending, ""
		return false, "", nil
	case journal.AddMember:
		ok, err := s.dir.HasMember(ctx, e.Target, row.Email)
		if directory.IsNotFound(err) {
			return false, "", nil
		}
		return ok, "", err
	case journal.AddAlias:
		u, err := s.dir.GetUser(ctx, e.Target)
		if directory.IsNotFound(err) {
			return false, "", nil
		}
		return err == nil && u.Id == row.UserID, "", err
	case journal.MoveUser:
		u, err := s.dir.GetUser(ctx, row.Email)
		if err != nil {
			return false, "", err
		}
		return u.OrgUnitPath == e.Target, "", nil
	case journal.CreateOrgUnit:
		ok, err := found(s.dir.GetOrgUnit(ctx, e.Target))
		return ok, "", err
	case journal.CreateGroup:
		ok, err := found(s.dir.GetGroup(ctx, e.Target))
		return ok, "", err
	case journal.ResetPassword:
		// Whether a password was set cannot be read back. The row's
		// password is still "generated": the next attempt sets a new one.
		return false, "", nil
	}
	return false, "", fmt.Errorf("unknown kind of effect %q", e.Kind)
}

// loadSnapshot makes sure the journal holds a recent snapshot of the
// directory's names and external IDs, taking a new one when it does not.
func (s *state) loadSnapshot(ctx context.Context) error {
	domain := strings.ToLower(s.cfg.Domain)
	snap, err := s.journal.Snapshot(ctx)
	if err != nil {
		return err
	}
	if snap.Domain == domain && !snap.Taken.IsZero() && s.job.now().Sub(snap.Taken) < s.job.SnapshotMaxAge {
		s.log.Info("using the directory snapshot in the journal", "taken", snap.Taken, "names", snap.Names)
		return nil
	}
	s.log.Info("taking a snapshot of the directory's names", "domain", domain)
	snap, err = s.journal.LoadSnapshot(ctx, domain, func(l *journal.SnapshotLoader) error {
		return s.dir.Snapshot(ctx, func(names []directory.Name) error {
			for _, n := range names {
				local, dom, _ := strings.Cut(strings.ToLower(n.Address), "@")
				for _, id := range n.ExternalIDs {
					if err := l.AddExternalID(ctx, idKey(id), strings.ToLower(n.Address)); err != nil {
						return err
					}
				}
				if dom != domain {
					continue // a name in another domain does not collide
				}
				if err := l.AddName(ctx, local, nameKind(n.Kind)); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("snapshot of the directory: %w", err)
	}
	s.log.Info("snapshot taken", "names", snap.Names, "external_ids", snap.IDs)
	return nil
}

func nameKind(k directory.NameKind) journal.NameKind {
	switch k {
	case directory.UserAlias:
		return journal.UserAliasName
	case directory.GroupPrimary:
		return journal.GroupName
	case directory.GroupAlias:
		return journal.GroupAliasName
	}
	return journal.UserName
}
