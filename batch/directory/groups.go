package directory

import (
	"context"
	"fmt"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"
)

// GetGroup reads a group by address, alias or ID. It needs GroupRead or
// GroupCreate access.
func (c *Client) GetGroup(ctx context.Context, key string) (*admin.Group, error) {
	if c.groups < GroupRead {
		return nil, fmt.Errorf("get group %s: reading groups needs Config.Groups GroupRead or GroupCreate (scope %s)", key, admin.AdminDirectoryGroupReadonlyScope)
	}
	g, err := call(ctx, c, operation{name: "groups.get"}, func(ctx context.Context) (*admin.Group, error) {
		return c.svc.Groups.Get(key).Context(ctx).Do()
	})
	if err != nil {
		return nil, fmt.Errorf("get group %s: %w", key, err)
	}
	return g, nil
}

// InsertGroup creates a group. It needs GroupCreate access. A 409
// (IsDuplicate) means the address is taken, possibly by this very group if an
// earlier attempt landed; EnsureGroup tells the two apart.
func (c *Client) InsertGroup(ctx context.Context, email, name string) (*admin.Group, error) {
	if c.groups < GroupCreate {
		return nil, fmt.Errorf("insert group %s: creating groups needs Config.Groups GroupCreate (scope %s)", email, admin.AdminDirectoryGroupScope)
	}
	group := &admin.Group{Email: email, Name: name}
	g, err := call(ctx, c, operation{name: "groups.insert"}, func(ctx context.Context) (*admin.Group, error) {
		return c.svc.Groups.Insert(group).Context(ctx).Do()
	})
	if err != nil {
		return nil, fmt.Errorf("insert group %s: %w", email, err)
	}
	return g, nil
}

// EnsureGroup makes sure a group with address email exists, creating it with
// name if needed, once per address across goroutines. An address taken by a
// user or a user alias is an error for which IsDuplicate holds.
func (c *Client) EnsureGroup(ctx context.Context, email, name string) error {
	return c.knownGroups.ensure(ctx, strings.ToLower(email), func(ctx context.Context) error {
		_, err := c.GetGroup(ctx, email)
		if err == nil || !IsNotFound(err) {
			return err
		}
		_, err = c.InsertGroup(ctx, email, name)
		if err == nil || !IsDuplicate(err) {
			return err
		}
		if _, gerr := c.GetGroup(ctx, email); gerr == nil {
			return nil
		}
		return err
	})
}

// InsertMember adds the user memberEmail to a group as a MEMBER. A member
// already there ("Member already exists.") is success, which also makes a
// retry after an unknown outcome safe. With JustCreated, Google's 404
// "Resource Not Found: memberKey" for a user it has not finished creating is
// retried within the consistency window; a missing group never is.
func (c *Client) InsertMember(ctx context.Context, groupKey, memberEmail string, fresh Freshness) error {
	op := operation{name: "members.insert", fresh: fresh, lag: memberKeyNotFound}
	member := &admin.Member{Email: memberEmail, Role: "MEMBER"}
	_, err := call(ctx, c, op, func(ctx context.Context) (*admin.Member, error) {
		return c.svc.Members.Insert(groupKey, member).Context(ctx).Do()
	})
	if err == nil || IsDuplicate(err) {
		return nil
	}
	return fmt.Errorf("add %s to group %s: %w", memberEmail, groupKey, err)
}

// HasMember reports whether memberKey is a member of the group, directly or
// through a nested group.
func (c *Client) HasMember(ctx context.Context, groupKey, memberKey string) (bool, error) {
	r, err := call(ctx, c, operation{name: "members.hasMember"}, func(ctx context.Context) (*admin.MembersHasMember, error) {
		return c.svc.Members.HasMember(groupKey, memberKey).Context(ctx).Do()
	})
	if err != nil {
		return false, fmt.Errorf("check member %s of group %s: %w", memberKey, groupKey, err)
	}
	return r.IsMember, nil
}
