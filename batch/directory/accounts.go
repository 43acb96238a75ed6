package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
)

// Account is what the lifecycle decides on about one user: who it is
// (ID, addresses, external IDs), the fields provision manages, and what
// protects it from being touched (admin rights, org unit).
type Account struct {
	ID           string
	PrimaryEmail string
	// Aliases are the editable aliases; NonEditableAliases those Google
	// makes, such as the domain's test address.
	Aliases, NonEditableAliases []string
	ExternalIDs                 []ExternalID
	GivenName, FamilyName       string
	// Organizations, Relations and Phones are the whole lists, every
	// member of every entry: UserUpdate replaces a list whole, so a
	// change to one entry sends the others back as they are.
	Organizations []admin.UserOrganization
	Relations     []admin.UserRelation
	Phones        []admin.UserPhone
	OrgUnitPath   string
	Suspended     bool
	// SuspensionReason is Google's reason for a suspension: ADMIN when an
	// admin suspended the account, or Google's own (ABUSE, UNDER13,
	// WEB_LOGIN_REQUIRED, ...), which an admin may not be able to lift.
	SuspensionReason string
	// IsAdmin marks a super admin, IsDelegatedAdmin an admin with any
	// other admin role.
	IsAdmin, IsDelegatedAdmin bool
	Created                   time.Time
	// Customer is the ID of the Workspace account the user belongs to.
	Customer string
	// CustomSchemas holds the values of the custom schemas asked for:
	// schema → field → value as Google sends it (a string, number or
	// boolean, or a list of {"value": …} objects for a multi-valued field).
	CustomSchemas map[string]map[string]any
}

// AccountBatch is one delivery of SnapshotAccounts: names taken in the
// directory, as Snapshot delivers them, and the accounts of the users
// among them.
type AccountBatch struct {
	Names    []Name
	Accounts []Account
}

// accountFields is what a listing of accounts asks for.
type accountFields struct {
	mask            string // the fields parameter
	customFieldMask string // the schemas for projection=custom; "" for none
}

// accountMask lists exactly the fields an Account holds, so a page of 500
// users stays small.
const accountMask = "id,primaryEmail,aliases,nonEditableAliases,externalIds,name(givenName,familyName)," +
	"organizations,relations,phones,orgUnitPath,suspended,suspensionReason,isAdmin,isDelegatedAdmin,creationTime,customerId"

func newAccountFields(schemas []string) *accountFields {
	f := &accountFields{mask: "nextPageToken,users(" + accountMask + ")"}
	if len(schemas) > 0 {
		f.mask = "nextPageToken,users(" + accountMask + ",customSchemas)"
		f.customFieldMask = strings.Join(schemas, ",")
	}
	return f
}

// SnapshotAccounts is Snapshot with each user's Account besides its names:
// the same shards, pages and number of requests, 500 users a page, with a
// field mask of the Account's fields (and the custom schemas named, asked
// for with projection=custom) instead of the addresses alone. A directory
// of 200,000 users is about 400 requests either way; the pages are larger.
// Batches go to sink as Snapshot's do: one goroutine, in no particular
// order, every user once; an error from sink stops the snapshot.
//
// Like Snapshot, it lists users through Google's search (email:prefix*),
// which can lag hours behind changes: an account made or changed moments
// ago may be missing or show its old values. Use it to decide what to
// change, and send each change whole (UserUpdate), so that a stale read
// costs at most a change that was not needed.
func (c *Client) SnapshotAccounts(ctx context.Context, schemas []string, sink func(AccountBatch) error) error {
	return c.snapshot(ctx, c.listUsers(newAccountFields(schemas)), func(b snapshotBatch) error {
		return sink(AccountBatch{Names: b.names, Accounts: b.accounts})
	})
}

// AccountOf returns the Account of a user read with users.get.
func AccountOf(u *admin.User) (*Account, error) {
	ids, err := ExternalIDs(u)
	if err != nil {
		return nil, err
	}
	return newAccount(u, ids)
}

// newAccount makes the Account of a listed user whose external IDs have
// been read.
func newAccount(u *admin.User, ids []ExternalID) (*Account, error) {
	a := &Account{
		ID:                 u.Id,
		PrimaryEmail:       u.PrimaryEmail,
		Aliases:            u.Aliases,
		NonEditableAliases: u.NonEditableAliases,
		ExternalIDs:        ids,
		OrgUnitPath:        u.OrgUnitPath,
		Suspended:          u.Suspended,
		SuspensionReason:   u.SuspensionReason,
		IsAdmin:            u.IsAdmin,
		IsDelegatedAdmin:   u.IsDelegatedAdmin,
		Customer:           u.CustomerId,
	}
	if u.Name != nil {
		a.GivenName, a.FamilyName = u.Name.GivenName, u.Name.FamilyName
	}
	if u.CreationTime != "" {
		t, err := time.Parse(time.RFC3339, u.CreationTime)
		if err != nil {
			return nil, fmt.Errorf("read account %s: creation time: %w", u.PrimaryEmail, err)
		}
		a.Created = t
	}
	for _, l := range []struct {
		name string
		from any
		to   any
	}{
		{"organizations", u.Organizations, &a.Organizations},
		{"relations", u.Relations, &a.Relations},
		{"phones", u.Phones, &a.Phones},
	} {
		if err := retype(l.from, l.to); err != nil {
			return nil, fmt.Errorf("read account %s: %s: %w", u.PrimaryEmail, l.name, err)
		}
	}
	if len(u.CustomSchemas) > 0 {
		a.CustomSchemas = make(map[string]map[string]any, len(u.CustomSchemas))
		for schema, raw := range u.CustomSchemas {
			var fields map[string]any
			if err := json.Unmarshal(raw, &fields); err != nil {
				return nil, fmt.Errorf("read account %s: custom schema %s: %w", u.PrimaryEmail, schema, err)
			}
			a.CustomSchemas[schema] = fields
		}
	}
	return a, nil
}

// retype turns a list the generated client leaves untyped (decoded JSON)
// into the typed list to points to.
func retype(from, to any) error {
	if from == nil {
		return nil
	}
	data, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, to)
}
