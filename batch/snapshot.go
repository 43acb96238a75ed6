package batch

import (
	"context"
	"fmt"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
)

// loadSnapshot makes sure the journal holds a recent snapshot of the
// directory's names and external IDs, taking a new one when it does not.
func (s *runner) loadSnapshot(ctx context.Context) error {
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
	customerChecked := false
	snap, err = s.journal.LoadSnapshot(ctx, domain, func(l *journal.SnapshotLoader) error {
		return s.dir.Snapshot(ctx, func(names []directory.Name) error {
			for _, n := range names {
				if n.Customer != "" && !customerChecked {
					// The first account listed says which Workspace account
					// this is: the journal must belong to it.
					target := s.job.Target
					target.Customer = n.Customer
					if err := s.journal.BindDirectory(ctx, target); err != nil {
						return err
					}
					customerChecked = true
				}
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
