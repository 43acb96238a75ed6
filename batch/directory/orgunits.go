package directory

import (
	"context"
	"fmt"
	"path"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"
)

// Parents says what EnsureOrgUnit does when a parent of the unit is missing.
type Parents int

const (
	// ParentsMustExist creates only the unit itself; a missing parent is
	// an error.
	ParentsMustExist Parents = iota
	// CreateParents creates missing parents first, from the top down.
	CreateParents
)

// GetOrgUnit reads the org unit at path, such as "/Students/2025".
func (c *Client) GetOrgUnit(ctx context.Context, unitPath string) (*admin.OrgUnit, error) {
	p, err := cleanOrgUnitPath(unitPath)
	if err != nil {
		return nil, err
	}
	ou, err := call(ctx, c, operation{name: "orgunits.get"}, func(ctx context.Context) (*admin.OrgUnit, error) {
		return c.svc.Orgunits.Get(c.customer, strings.TrimPrefix(p, "/")).Context(ctx).Do()
	})
	if err != nil {
		return nil, fmt.Errorf("get org unit %s: %w", p, err)
	}
	return ou, nil
}

// EnsureOrgUnit makes sure the org unit at path exists, creating it (and,
// with CreateParents, its missing parents) if needed. However many goroutines
// ask for a path, the client reads and creates it once; a path that exists is
// remembered and costs no further request. A unit that appears meanwhile
// (409, or a race with another process) is success.
func (c *Client) EnsureOrgUnit(ctx context.Context, unitPath string, parents Parents) error {
	p, err := cleanOrgUnitPath(unitPath)
	if err != nil {
		return err
	}
	if p == "/" {
		return nil
	}
	return c.orgUnits.ensure(ctx, p, func(ctx context.Context) error {
		return c.createOrgUnit(ctx, p, parents)
	})
}

func (c *Client) createOrgUnit(ctx context.Context, p string, parents Parents) error {
	_, err := c.GetOrgUnit(ctx, p)
	if err == nil || !IsNotFound(err) {
		return err
	}
	parent, name := path.Split(p)
	parent = path.Clean(parent)
	if parent != "/" && parents == CreateParents {
		if err := c.EnsureOrgUnit(ctx, parent, parents); err != nil {
			return fmt.Errorf("create org unit %s: %w", p, err)
		}
	}
	unit := &admin.OrgUnit{Name: name, ParentOrgUnitPath: parent}
	_, err = call(ctx, c, operation{name: "orgunits.insert"}, func(ctx context.Context) (*admin.OrgUnit, error) {
		return c.svc.Orgunits.Insert(c.customer, unit).Context(ctx).Do()
	})
	if err == nil || IsDuplicate(err) {
		return nil
	}
	// Google does not always answer an existing unit with 409; a point
	// read tells a lost race from a real failure.
	if _, gerr := c.GetOrgUnit(ctx, p); gerr == nil {
		return nil
	}
	return fmt.Errorf("create org unit %s: %w", p, err)
}

// cleanOrgUnitPath checks an org unit path and returns it without a trailing
// slash.
func cleanOrgUnitPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("org unit path %q does not start with /", p)
	}
	if p == "/" {
		return p, nil
	}
	trimmed := strings.TrimSuffix(p, "/")
	for _, seg := range strings.Split(trimmed[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("org unit path %q has an empty or relative segment", p)
		}
	}
	return trimmed, nil
}
