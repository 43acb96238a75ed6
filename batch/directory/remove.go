package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
)

// NotEmptyError reports a group or an org unit that was not deleted
// because something is still in it.
type NotEmptyError struct {
	What     string // "group" or "org unit"
	Key      string // the group's address or the unit's path
	Members  bool   // the group has members
	Users    bool   // users are in the unit or below it
	Children bool   // the unit has child units
	Err      error  // Google's refusal, when Google refused
}

func (e *NotEmptyError) Error() string {
	var holds []string
	if e.Members {
		holds = append(holds, "members")
	}
	if e.Children {
		holds = append(holds, "child org units")
	}
	if e.Users {
		holds = append(holds, "users")
	}
	return fmt.Sprintf("%s %s is not empty: it holds %s", e.What, e.Key, strings.Join(holds, " and "))
}

func (e *NotEmptyError) Unwrap() error { return e.Err }

var _ error = (*NotEmptyError)(nil)

// IsNotEmpty reports whether err is a *NotEmptyError.
func IsNotEmpty(err error) bool {
	var e *NotEmptyError
	return errors.As(err, &e)
}

// RemoveMember takes memberKey (an address or ID) out of the group
// groupKey. A member that is not in the group (Google's 404 "Resource Not
// Found: memberKey") is success, so a removal whose answer was lost can be
// sent again; a group that does not exist is an error for which
// IsNotFound holds.
func (c *Client) RemoveMember(ctx context.Context, groupKey, memberKey string) error {
	_, err := call(ctx, c, operation{name: "members.delete"}, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.svc.Members.Delete(groupKey, memberKey).Context(ctx).Do()
	})
	if err == nil {
		return nil
	}
	if e, ok := apiError(err); ok && IsNotFound(err) && memberKeyNotFound(e) {
		return nil
	}
	return fmt.Errorf("remove %s from group %s: %w", memberKey, groupKey, err)
}

// DeleteEmptyGroup deletes the group at address email if it has no member,
// and returns a *NotEmptyError otherwise. Google deletes a group whatever
// it holds, so the client looks first (one members.list request); a member
// added between that look and the delete is not seen. A group that is not
// there is success, so a delete whose answer was lost can be sent again.
// It needs Config.Groups GroupCreate (scope admin.directory.group).
func (c *Client) DeleteEmptyGroup(ctx context.Context, email string) error {
	if c.groups < GroupCreate {
		return fmt.Errorf("delete group %s: deleting groups needs Config.Groups GroupCreate (scope %s)", email, admin.AdminDirectoryGroupScope)
	}
	members, err := call(ctx, c, operation{name: "members.list", userless: true}, func(ctx context.Context) (*admin.Members, error) {
		return c.svc.Members.List(email).MaxResults(1).Fields("members(email)").Context(ctx).Do()
	})
	switch {
	case IsNotFound(err):
		c.knownGroups.forget(strings.ToLower(email))
		return nil
	case err != nil:
		return fmt.Errorf("delete group %s: list its members: %w", email, err)
	case len(members.Members) > 0:
		return &NotEmptyError{What: "group", Key: email, Members: true}
	}
	_, err = call(ctx, c, operation{name: "groups.delete", userless: true}, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.svc.Groups.Delete(email).Context(ctx).Do()
	})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete group %s: %w", email, err)
	}
	c.knownGroups.forget(strings.ToLower(email))
	return nil
}

// DeleteEmptyOrgUnit deletes the org unit at unitPath. Google refuses to
// delete a unit that holds users (suspended ones too), child units,
// devices or shared drives; the words of that refusal are not documented,
// so when Google refuses, the client looks (one orgunits.list and one
// users.list request) and returns a *NotEmptyError naming what it found,
// or Google's refusal as it is. Users found by that look come from
// Google's search, which can lag behind by hours. A unit that is not
// there is success, so a delete whose answer was lost can be sent again;
// the root cannot be deleted.
func (c *Client) DeleteEmptyOrgUnit(ctx context.Context, unitPath string) error {
	p, err := cleanOrgUnitPath(unitPath)
	if err != nil {
		return err
	}
	if p == "/" {
		return errors.New("delete org unit /: the root cannot be deleted")
	}
	_, err = call(ctx, c, operation{name: "orgunits.delete", userless: true}, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.svc.Orgunits.Delete(c.customer, strings.TrimPrefix(p, "/")).Context(ctx).Do()
	})
	if err == nil || IsNotFound(err) {
		c.orgUnits.forget(p)
		return nil
	}
	if _, systemic := AsSystemic(err); systemic || !IsRefused(err) {
		return fmt.Errorf("delete org unit %s: %w", p, err)
	}
	ne := &NotEmptyError{What: "org unit", Key: p, Err: err}
	if ne.Children, err = c.hasChildUnits(ctx, p); err != nil {
		return fmt.Errorf("delete org unit %s: %w", p, err)
	}
	if ne.Users, err = c.hasUsersIn(ctx, p); err != nil {
		return fmt.Errorf("delete org unit %s: %w", p, err)
	}
	if !ne.Children && !ne.Users {
		return fmt.Errorf("delete org unit %s: %w", p, ne.Err)
	}
	return fmt.Errorf("delete org unit %s: %w", p, ne)
}

// hasChildUnits reports whether the unit at p has child units.
func (c *Client) hasChildUnits(ctx context.Context, p string) (bool, error) {
	units, err := call(ctx, c, operation{name: "orgunits.list", userless: true}, func(ctx context.Context) (*admin.OrgUnits, error) {
		return c.svc.Orgunits.List(c.customer).OrgUnitPath(p).Type("children").
			Fields("organizationUnits(orgUnitPath)").Context(ctx).Do()
	})
	if err != nil {
		return false, fmt.Errorf("list child units: %w", err)
	}
	return len(units.OrganizationUnits) > 0, nil
}

// hasUsersIn reports whether Google's search finds a user in the unit at p
// or below it.
func (c *Client) hasUsersIn(ctx context.Context, p string) (bool, error) {
	users, err := call(ctx, c, operation{name: "users.list"}, func(ctx context.Context) (*admin.Users, error) {
		return c.svc.Users.List().Customer(c.customer).Query("orgUnitPath=" + quoteQuery(p)).MaxResults(1).
			Fields(googleapi.Field("users(primaryEmail)")).Context(ctx).Do()
	})
	if err != nil {
		return false, fmt.Errorf("find users in it: %w", err)
	}
	return len(users.Users) > 0, nil
}
