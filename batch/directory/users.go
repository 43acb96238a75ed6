package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"
)

// ExternalID is one entry of a user's externalIds: the identity key the
// provisioning job writes with every account it creates.
type ExternalID struct {
	Type       string `json:"type,omitempty"` // "organization", "account", …, or "custom"
	CustomType string `json:"customType,omitempty"`
	Value      string `json:"value,omitempty"`
}

// ExternalIDs returns the external IDs of u. The generated client leaves
// admin.User.ExternalIds untyped: decoded JSON after a read, whatever the
// caller put there before a write.
func ExternalIDs(u *admin.User) ([]ExternalID, error) {
	switch v := u.ExternalIds.(type) {
	case nil:
		return nil, nil
	case []any:
		ids := make([]ExternalID, 0, len(v))
		for _, item := range v {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("read external IDs of %s: entry is %T, want an object", u.PrimaryEmail, item)
			}
			id := ExternalID{}
			id.Type, _ = m["type"].(string)
			id.CustomType, _ = m["customType"].(string)
			id.Value, _ = m["value"].(string)
			ids = append(ids, id)
		}
		return ids, nil
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("read external IDs of %s: %w", u.PrimaryEmail, err)
		}
		var ids []ExternalID
		if err := json.Unmarshal(data, &ids); err != nil {
			return nil, fmt.Errorf("read external IDs of %s: %w", u.PrimaryEmail, err)
		}
		return ids, nil
	}
}

// GetUser reads a user by primary address, alias or ID: a point read, which
// sees a user as soon as its creation returned, unlike a search.
func (c *Client) GetUser(ctx context.Context, key string) (*admin.User, error) {
	u, err := call(ctx, c, operation{name: "users.get"}, func(ctx context.Context) (*admin.User, error) {
		return c.svc.Users.Get(key).Context(ctx).Do()
	})
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", key, err)
	}
	return u, nil
}

// InsertUser creates u. Rate-limit answers are retried, since Google did not
// apply the request; any other failure that may have reached Google is
// returned as an *OutcomeUnknownError without a retry, for the caller to
// settle with GetUser. A 409 (IsDuplicate) means the address is taken, by an
// earlier attempt of this job or by someone else.
func (c *Client) InsertUser(ctx context.Context, u *admin.User) (*admin.User, error) {
	created, err := call(ctx, c, operation{name: "users.insert", write: unsafe}, func(ctx context.Context) (*admin.User, error) {
		return c.svc.Users.Insert(u).Context(ctx).Do()
	})
	if err != nil {
		return nil, fmt.Errorf("insert user %s: %w", u.PrimaryEmail, err)
	}
	return created, nil
}

// FindByExternalID searches the domain for users with an external ID of the
// given value. Search lags behind writes, by hours at Google: it finds
// accounts from earlier runs, never one created moments ago.
func (c *Client) FindByExternalID(ctx context.Context, value string) ([]*admin.User, error) {
	var found []*admin.User
	token := ""
	for {
		page, err := call(ctx, c, operation{name: "users.list"}, func(ctx context.Context) (*admin.Users, error) {
			return c.svc.Users.List().Domain(c.domain).Query("externalId:" + quoteQuery(value)).
				MaxResults(500).PageToken(token).Context(ctx).Do()
		})
		if err != nil {
			return nil, fmt.Errorf("find users with external ID %q: %w", value, err)
		}
		for _, u := range page.Users {
			ids, err := ExternalIDs(u)
			if err != nil {
				return nil, fmt.Errorf("find users with external ID %q: %w", value, err)
			}
			for _, id := range ids {
				if id.Value == value {
					found = append(found, u)
					break
				}
			}
		}
		if page.NextPageToken == "" {
			return found, nil
		}
		token = page.NextPageToken
	}
}

// quoteQuery quotes a value for a users.list query when it holds characters
// that would end the term.
func quoteQuery(v string) string {
	if !strings.ContainsAny(v, " '\"\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// PatchUser changes the fields set in patch, such as OrgUnitPath. Repeating a
// patch is harmless, so every transient failure is retried.
func (c *Client) PatchUser(ctx context.Context, key string, patch *admin.User, fresh Freshness) (*admin.User, error) {
	op := operation{name: "users.patch", fresh: fresh, lag: anyNotFound}
	u, err := call(ctx, c, op, func(ctx context.Context) (*admin.User, error) {
		return c.svc.Users.Patch(key, patch).Context(ctx).Do()
	})
	if err != nil {
		return nil, fmt.Errorf("patch user %s: %w", key, err)
	}
	return u, nil
}

// ResetPassword sets a user's password. hashFunction is "" for a clear-text
// password, or Google's name of the hash the password is given in ("SHA-1",
// "MD5", "crypt").
func (c *Client) ResetPassword(ctx context.Context, key, password, hashFunction string, fresh Freshness) error {
	op := operation{name: "users.patch", fresh: fresh, lag: anyNotFound}
	patch := &admin.User{Password: password, HashFunction: hashFunction}
	_, err := call(ctx, c, op, func(ctx context.Context) (*admin.User, error) {
		return c.svc.Users.Patch(key, patch).Fields("id").Context(ctx).Do()
	})
	if err != nil {
		return fmt.Errorf("reset password of %s: %w", key, err)
	}
	return nil
}

// InsertAlias adds alias to the user userKey. An alias that already belongs
// to that user (an earlier attempt landed) is success; one that belongs to
// someone else is an error for which IsDuplicate holds.
func (c *Client) InsertAlias(ctx context.Context, userKey, alias string, fresh Freshness) error {
	op := operation{name: "users.aliases.insert", fresh: fresh, lag: anyNotFound}
	_, err := call(ctx, c, op, func(ctx context.Context) (*admin.Alias, error) {
		return c.svc.Users.Aliases.Insert(userKey, &admin.Alias{Alias: alias}).Context(ctx).Do()
	})
	if err == nil {
		return nil
	}
	if IsDuplicate(err) {
		owner, gerr := c.GetUser(ctx, alias)
		if gerr == nil && owns(owner, userKey) {
			return nil
		}
	}
	return fmt.Errorf("add alias %s to %s: %w", alias, userKey, err)
}

// owns reports whether key (an ID, primary address or alias) names u.
func owns(u *admin.User, key string) bool {
	if u.Id == key || strings.EqualFold(u.PrimaryEmail, key) {
		return true
	}
	for _, a := range u.Aliases {
		if strings.EqualFold(a, key) {
			return true
		}
	}
	return false
}
