package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
)

// UserUpdate is a change to the fields of an account that provision
// manages. A nil field is left as it is; a set one is sent. The lists
// (Organizations, Relations, Phones) replace the account's whole list, as
// Google replaces lists whole: to change one entry, send them all, read
// from the account (see Account); a pointer to an empty list removes every
// entry. Google refuses what it refuses on insert: a name that is empty,
// longer than 60 characters or holding < > =, an org unit that does not
// exist, an unknown type of phone or relation.
type UserUpdate struct {
	GivenName  *string
	FamilyName *string
	// OrgUnitPath moves the account, such as "/Alumni".
	OrgUnitPath *string
	// Suspended suspends (true) or restores (false) the account. Google
	// records an admin's suspension with the reason ADMIN; the reason
	// cannot be set.
	Suspended     *bool
	Organizations *[]admin.UserOrganization
	Relations     *[]admin.UserRelation
	Phones        *[]admin.UserPhone
	// CustomSchemas sets custom fields: schema name → field name → value.
	// A field whose value is nil is sent as null, which clears it; fields
	// not named are left as they are. A schema whose map is nil is sent as
	// null: the emulator then clears the schema, Google's handling of that
	// is not documented, so clear fields one by one to be sure.
	CustomSchemas map[string]map[string]any
}

// IsZero reports whether u changes nothing.
func (u UserUpdate) IsZero() bool {
	return u.GivenName == nil && u.FamilyName == nil && u.OrgUnitPath == nil && u.Suspended == nil &&
		u.Organizations == nil && u.Relations == nil && u.Phones == nil && u.CustomSchemas == nil
}

// body returns the User resource that sends u: the fields set, forced out
// when they hold a zero value (false, ""), and an emptied list as null,
// the only form Google's users.update clears a list with.
func (u UserUpdate) body() (*admin.User, error) {
	b := &admin.User{}
	if u.GivenName != nil || u.FamilyName != nil {
		b.Name = &admin.UserName{}
		if u.GivenName != nil {
			b.Name.GivenName = *u.GivenName
			b.Name.ForceSendFields = append(b.Name.ForceSendFields, "GivenName")
		}
		if u.FamilyName != nil {
			b.Name.FamilyName = *u.FamilyName
			b.Name.ForceSendFields = append(b.Name.ForceSendFields, "FamilyName")
		}
	}
	if u.OrgUnitPath != nil {
		b.OrgUnitPath = *u.OrgUnitPath
		b.ForceSendFields = append(b.ForceSendFields, "OrgUnitPath")
	}
	if u.Suspended != nil {
		b.Suspended = *u.Suspended
		b.ForceSendFields = append(b.ForceSendFields, "Suspended")
	}
	setList(b, "Organizations", u.Organizations, func(v any) { b.Organizations = v })
	setList(b, "Relations", u.Relations, func(v any) { b.Relations = v })
	setList(b, "Phones", u.Phones, func(v any) { b.Phones = v })
	if u.CustomSchemas != nil {
		b.CustomSchemas = make(map[string]googleapi.RawMessage, len(u.CustomSchemas))
		for schema, fields := range u.CustomSchemas {
			raw, err := json.Marshal(fields) // a nil map is null
			if err != nil {
				return nil, fmt.Errorf("custom schema %s: %w", schema, err)
			}
			b.CustomSchemas[schema] = raw
		}
	}
	return b, nil
}

// setList puts a list of u into b under field: nothing for nil, null for
// an empty list.
func setList[T any](b *admin.User, field string, list *[]T, set func(any)) {
	switch {
	case list == nil:
	case len(*list) == 0:
		b.NullFields = append(b.NullFields, field)
	default:
		set(*list)
	}
}

// UpdateUser changes the fields of the account userKey that u sets, in
// one users.update request; it sends nothing when u changes nothing.
// Google's users.update has patch semantics (fields not sent are kept) and,
// unlike users.patch, can clear a list: Google documents that patch "is
// unable to clear fields that contain repeated objects" and ignores them.
//
// userKey should be the account's ID, which a rename does not change. The
// call is idempotent: it is retried after any transient failure, and a
// caller that does not know whether it landed sends it again.
func (c *Client) UpdateUser(ctx context.Context, userKey string, u UserUpdate, fresh Freshness) error {
	if u.IsZero() {
		return nil
	}
	body, err := u.body()
	if err != nil {
		return fmt.Errorf("update user %s: %w", userKey, err)
	}
	op := operation{name: "users.update", fresh: fresh, lag: anyNotFound}
	_, err = call(ctx, c, op, func(ctx context.Context) (*admin.User, error) {
		return c.svc.Users.Update(userKey, body).Fields("id").Context(ctx).Do()
	})
	if err != nil {
		return fmt.Errorf("update user %s: %w", userKey, err)
	}
	return nil
}

// RenameUser gives the account userKey (its ID) the primary address to,
// keeping from, its primary address until now, as an alias: Google keeps
// the old address of a renamed user as an alias, and RenameUser adds it
// itself if Google's answer does not show it. It is safe to repeat: if to
// is already the account's own primary address (an earlier attempt
// landed), only the alias is made sure of. Google renames to no address
// in use, the account's own aliases included: an address taken is an
// error for which IsDuplicate holds.
func (c *Client) RenameUser(ctx context.Context, userKey, from, to string, fresh Freshness) error {
	op := operation{name: "users.update", fresh: fresh, lag: anyNotFound}
	body := &admin.User{PrimaryEmail: to}
	u, err := call(ctx, c, op, func(ctx context.Context) (*admin.User, error) {
		return c.svc.Users.Update(userKey, body).Fields("id,primaryEmail,aliases").Context(ctx).Do()
	})
	if err != nil && IsDuplicate(err) {
		owner, gerr := c.GetUser(ctx, to)
		switch {
		case gerr != nil || !owns(owner, userKey):
		case strings.EqualFold(owner.PrimaryEmail, to):
			u, err = owner, nil // an earlier attempt landed
		default:
			return fmt.Errorf("rename user %s to %s: %s is already an alias of this account, and Google renames "+
				"to no existing address; remove the alias first: %w", from, to, to, err)
		}
	}
	if err != nil {
		return fmt.Errorf("rename user %s to %s: %w", from, to, err)
	}
	if strings.EqualFold(from, to) || slices.ContainsFunc(u.Aliases, func(a string) bool { return strings.EqualFold(a, from) }) {
		return nil
	}
	if err := c.InsertAlias(ctx, userKey, from, fresh); err != nil {
		return fmt.Errorf("rename user %s to %s: keep the old address: %w", from, to, err)
	}
	return nil
}

// DeleteUser deletes the account userKey (its ID). An account that is not
// there is success, so that a delete whose answer was lost can be sent
// again: pass the ID, never an address another account could take over.
// Google lets an admin restore a deleted account for 20 days.
func (c *Client) DeleteUser(ctx context.Context, userKey string) error {
	_, err := call(ctx, c, operation{name: "users.delete"}, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.svc.Users.Delete(userKey).Context(ctx).Do()
	})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete user %s: %w", userKey, err)
	}
	return nil
}
