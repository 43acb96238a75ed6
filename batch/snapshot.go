package batch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
)

// loadSnapshot makes sure the journal holds a recent snapshot of the
// directory's names, external IDs and accounts, taking a new one when it
// does not.
func (s *runner) loadSnapshot(ctx context.Context) error {
	domain := strings.ToLower(s.cfg.Domain)
	snap, err := s.journal.Snapshot(ctx)
	if err != nil {
		return err
	}
	maxAge := s.job.SnapshotMaxAge
	if s.cfg.Leavers.Full || s.job.format == FormatOneRoster {
		// Who is a leaver is decided on the directory as it is now.
		maxAge = 0
	}
	if snap.Domain == domain && !snap.Taken.IsZero() && s.job.now().Sub(snap.Taken) < maxAge {
		s.log.Info("using the directory snapshot in the journal", "taken", snap.Taken, "names", snap.Names)
		return nil
	}
	s.log.Info("taking a snapshot of the directory's accounts and names", "domain", domain)
	customerChecked := false
	snap, err = s.journal.LoadSnapshot(ctx, domain, func(l *journal.SnapshotLoader) error {
		return s.dir.SnapshotAccounts(ctx, slices.Sorted(maps.Keys(s.cfg.CustomSchemas)), func(b directory.AccountBatch) error {
			for i := range b.Accounts {
				a, err := journalAccount(&b.Accounts[i])
				if err != nil {
					return err
				}
				if err := l.AddAccount(ctx, a); err != nil {
					return err
				}
			}
			for _, n := range b.Names {
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
