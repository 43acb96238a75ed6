package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// An Account is a user of the directory as the snapshot saw it, and as the
// job's own changes left it since: what a row's account is compared with,
// and what decides whether a user missing from a full file may be
// touched.
type Account struct {
	Email            string // the primary address, lowercased
	ID               string // the directory's ID of the user
	OrgUnit          string
	Suspended        bool
	SuspensionReason string
	// Admin marks a super admin or a delegated admin: never touched by
	// the lifecycle.
	Admin bool
	// GivenName and FamilyName are the account's names: most nights,
	// all an unchanged row is compared with.
	GivenName, FamilyName string
	// Fields holds the rest of what the job manages (organizations,
	// relations, phones, custom fields) as JSON, which the job reads.
	Fields string
}

const accountColumns = "email, id, org_unit, suspended, suspension_reason, admin, given_name, family_name, fields"

func scanAccount(s interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := s.Scan(a.dest()...)
	return a, err
}

// dest returns where the accountColumns of a are scanned to.
func (a *Account) dest() []any {
	return []any{&a.Email, &a.ID, &a.OrgUnit, &a.Suspended, &a.SuspensionReason, &a.Admin, &a.GivenName, &a.FamilyName, &a.Fields}
}

const accountUpsert = `INSERT INTO accounts (` + accountColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (email) DO UPDATE SET id = excluded.id, org_unit = excluded.org_unit, suspended = excluded.suspended,
		suspension_reason = excluded.suspension_reason, admin = excluded.admin, given_name = excluded.given_name,
		family_name = excluded.family_name, fields = excluded.fields`

func (a Account) args() []any {
	return []any{strings.ToLower(a.Email), a.ID, a.OrgUnit, a.Suspended, a.SuspensionReason, a.Admin, a.GivenName, a.FamilyName, a.Fields}
}

// AddAccount records a user of the directory in a new snapshot. It is safe
// for concurrent use.
func (l *SnapshotLoader) AddAccount(ctx context.Context, a Account) error {
	return l.j.write(ctx, batched, func() error {
		if _, err := l.j.exec(ctx, accountUpsert, a.args()...); err != nil {
			return fmt.Errorf("add the account %s to snapshot: %w", a.Email, err)
		}
		return nil
	})
}

// SetAccount records what a change the job made left an account as, so
// that the snapshot stays the journal's view of the directory until the
// next one. The write is batched, as an outcome's.
func (j *Journal) SetAccount(ctx context.Context, a Account) error {
	return j.write(ctx, batched, func() error {
		if _, err := j.exec(ctx, accountUpsert, a.args()...); err != nil {
			return fmt.Errorf("record the account %s: %w", a.Email, err)
		}
		return nil
	})
}

// RecordAccount records an account the job made or read since the
// snapshot, with the external IDs it carries (keyed as AddExternalID's):
// until the next snapshot, the journal's view of the directory holds it,
// as a listing that lags would not. The write is batched.
func (j *Journal) RecordAccount(ctx context.Context, a Account, externalIDs []string) error {
	return j.write(ctx, batched, func() error {
		if _, err := j.exec(ctx, accountUpsert, a.args()...); err != nil {
			return fmt.Errorf("record the account %s: %w", a.Email, err)
		}
		for _, id := range externalIDs {
			j.note(accountIDs, id)
			if _, err := j.exec(ctx, "INSERT OR IGNORE INTO known_ids (external_id, email) VALUES (?, ?)", id, strings.ToLower(a.Email)); err != nil {
				return fmt.Errorf("record the account %s: %w", a.Email, err)
			}
		}
		return nil
	})
}

// ForgetAccount forgets an account the job deleted: its record, the
// external IDs it carried and its create (Undone), so that the person,
// back in a later file, is neither taken for having it nor for having
// been created. The write is batched.
func (j *Journal) ForgetAccount(ctx context.Context, email string) error {
	email = strings.ToLower(email)
	return j.write(ctx, batched, func() error {
		for _, q := range []string{"DELETE FROM accounts WHERE email = ?", "DELETE FROM directory_ids WHERE email = ?", "DELETE FROM known_ids WHERE email = ?"} {
			if _, err := j.exec(ctx, q, email); err != nil {
				return fmt.Errorf("forget the account %s: %w", email, err)
			}
		}
		return j.markUndoneLocked(ctx, CreateUser, email)
	})
}

// MarkUndone records that the job took back what the applied effects of
// kind on target did, such as the creation of a group it deleted: they
// are no longer done, and a later row that needs the group creates it
// again. The write is batched.
func (j *Journal) MarkUndone(ctx context.Context, kind, target string) error {
	return j.write(ctx, batched, func() error { return j.markUndoneLocked(ctx, kind, target) })
}

func (j *Journal) markUndoneLocked(ctx context.Context, kind, target string) error {
	_, err := j.exec(ctx, "UPDATE effects SET state = 'undone', updated_at = ? WHERE kind = ? AND lower(target) = lower(?) AND state = 'applied'",
		timestamp(j.opts.Now()), kind, target)
	if err != nil {
		return fmt.Errorf("record %s %s as undone: %w", kind, target, err)
	}
	return nil
}

// MoveAccount records that the account at from now has the address to.
// The write is batched.
func (j *Journal) MoveAccount(ctx context.Context, from, to string) error {
	from, to = strings.ToLower(from), strings.ToLower(to)
	return j.write(ctx, batched, func() error {
		for _, q := range []string{"UPDATE OR REPLACE accounts SET email = ?2 WHERE email = ?1", "UPDATE OR REPLACE directory_ids SET email = ?2 WHERE email = ?1",
			"UPDATE OR REPLACE known_ids SET email = ?2 WHERE email = ?1"} {
			if _, err := j.exec(ctx, q, from, to); err != nil {
				return fmt.Errorf("record the new address %s of %s: %w", to, from, err)
			}
		}
		return nil
	})
}

// Account returns the snapshot's account with the primary address email.
func (j *Journal) Account(ctx context.Context, email string) (Account, bool, error) {
	var a Account
	var found bool
	err := j.read(func() error {
		q, err := j.queryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE email = ?", strings.ToLower(email))
		if err != nil {
			return err
		}
		switch a, err = scanAccount(q); {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return fmt.Errorf("read the account %s: %w", email, err)
		}
		found = true
		return nil
	})
	return a, found, err
}

// accountsOfLocked adds the accounts with the given primary addresses to
// out. j.mu must be held.
func (j *Journal) accountsOfLocked(ctx context.Context, emails []string, out map[string]Account) error {
	keys := make([]any, len(emails))
	for i, e := range emails {
		keys[i] = strings.ToLower(e)
	}
	return j.eachInLocked(ctx, "accounts", "SELECT "+accountColumns+" FROM accounts WHERE email IN ", keys, func(q *sql.Rows) error {
		a, err := scanAccount(q)
		if err != nil {
			return fmt.Errorf("read accounts: %w", err)
		}
		out[a.Email] = a
		return nil
	})
}

// A Scoped account is one of a full file's scope: an account with an
// external ID of the job's type.
type Scoped struct {
	Account
	// Identity is the key a row with this account's ID has: "id:<value>".
	Identity string
	// ExternalID is the ID as the journal keys it ("organization:1001").
	ExternalID string
}

// A Scope is the accounts a full file speaks for: those that carry an
// external ID of one type and are not admins, within some org units.
type Scope struct {
	// IDType is the external ID's key prefix: "organization:", or
	// "custom:<type>:".
	IDType string
	// OrgUnits narrow the scope to these org units and those below them;
	// none means every org unit.
	OrgUnits []string
}

// where returns the condition on accounts a and directory IDs d that
// selects the scope, and its arguments, numbered from ?2.
func (sc Scope) where() (string, []any) {
	cond := "substr(d.external_id, 1, length(?2)) = ?2 AND a.admin = 0"
	args := []any{sc.IDType}
	if len(sc.OrgUnits) > 0 {
		var units []string
		for _, u := range sc.OrgUnits {
			n := len(args) + 2
			// Google's org unit paths are case-insensitive.
			units = append(units, fmt.Sprintf("lower(a.org_unit) = ?%d OR substr(lower(a.org_unit), 1, length(?%d) + 1) = ?%d || '/'", n, n, n))
			args = append(args, strings.ToLower(strings.TrimSuffix(u, "/")))
		}
		cond += " AND (" + strings.Join(units, " OR ") + ")"
	}
	return cond, args
}

// EachInScope calls fn, in address order, for each of the snapshot's
// accounts in scope, once each (with its first ID of the scope's type),
// until fn returns an error. The journal is locked while it runs: fn must
// not call it.
func (j *Journal) EachInScope(ctx context.Context, sc Scope, fn func(Scoped) error) error {
	last := ""
	cond, args := sc.where()
	return j.each(ctx, "accounts in scope", `SELECT a.email, a.id, a.org_unit, a.suspended, a.suspension_reason, a.admin, a.given_name, a.family_name, a.fields, d.external_id
		FROM (SELECT external_id, email FROM directory_ids UNION SELECT external_id, email FROM known_ids) d
		JOIN accounts a ON a.email = d.email
		WHERE ?1 = ?1 AND `+cond+`
		ORDER BY a.email, d.external_id`, func(q *sql.Rows) error {
		var a Scoped
		if err := q.Scan(&a.Email, &a.ID, &a.OrgUnit, &a.Suspended, &a.SuspensionReason, &a.Admin, &a.GivenName, &a.FamilyName, &a.Fields, &a.ExternalID); err != nil {
			return fmt.Errorf("read accounts in scope: %w", err)
		}
		if a.Email == last {
			return nil
		}
		last = a.Email
		a.Identity = "id:" + strings.TrimPrefix(a.ExternalID, sc.IDType)
		return fn(a)
	}, append([]any{0}, args...)...)
}

// CountInScope returns how many of the snapshot's accounts are in scope:
// what a share of leavers is measured against.
func (j *Journal) CountInScope(ctx context.Context, sc Scope) (int, error) {
	var n int
	cond, args := sc.where()
	err := j.read(func() error {
		return j.conn.QueryRowContext(ctx, `SELECT count(DISTINCT d.email) FROM (SELECT external_id, email FROM directory_ids UNION SELECT external_id, email FROM known_ids) d
		JOIN accounts a ON a.email = d.email
			WHERE ?1 = ?1 AND `+cond, append([]any{0}, args...)...).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count the accounts with an ID: %w", err)
	}
	return n, nil
}
