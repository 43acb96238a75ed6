package batch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/provisionhq/provision/naming"
)

// placement works out where a row belongs: its org unit and its groups.
type placement struct {
	domain   string
	orgUnit  template   // for rows without an org unit
	addition []template // groups every row joins
}

func newPlacement(c Config) (*placement, error) {
	ou, err := parseTemplate(c.OrgUnit.Default)
	if err != nil {
		return nil, fmt.Errorf("orgUnit.default: %w", err)
	}
	p := &placement{domain: strings.ToLower(c.Domain), orgUnit: ou}
	for _, g := range c.Groups.Add {
		t, err := parseTemplate(g)
		if err != nil {
			return nil, fmt.Errorf("groups.add %q: %w", g, err)
		}
		p.addition = append(p.addition, t)
	}
	return p, nil
}

// of returns the org unit path and the group addresses of a valid record.
func (p *placement) of(rec Record) (orgUnit string, groups []string, err error) {
	fields := rec.Fields()
	// Known single-valued columns serve templates too: "/Staff/[department]".
	for name, value := range map[string]string{"id": rec.ID, "title": rec.Title, "department": rec.Department, "manager": rec.Manager, "phone": rec.Phone} {
		fields[name] = value
	}
	orgUnit = rec.OrgUnit
	if orgUnit == "" {
		orgUnit, err = p.orgUnit.expand(fields, func(v string) string {
			// A value is one level of the path, never several.
			return strings.ReplaceAll(v, "/", "-")
		})
		if err != nil {
			return "", nil, fmt.Errorf("org unit: %w", err)
		}
	}
	if err := checkOrgUnit(orgUnit); err != nil {
		return "", nil, fmt.Errorf("org unit %w", err)
	}
	for _, g := range rec.Groups {
		groups = append(groups, p.address(g))
	}
	for _, t := range p.addition {
		g, err := t.expand(fields, naming.Normalize)
		if err != nil {
			return "", nil, fmt.Errorf("group: %w", err)
		}
		g = strings.ToLower(g)
		if err := checkGroup(g); err != nil {
			return "", nil, fmt.Errorf("group %w", err)
		}
		groups = append(groups, p.address(g))
	}
	slices.Sort(groups)
	return orgUnit, slices.Compact(groups), nil
}

// address completes a group given as a local part with the domain.
func (p *placement) address(g string) string {
	if strings.Contains(g, "@") {
		return g
	}
	return g + "@" + p.domain
}

// existence remembers which org units or groups exist, asking the directory
// once per key however many workers want to know at the same time.
type existence struct {
	flight singleflight.Group
	mu     sync.Mutex
	known  map[string]bool // key → exists
	wanted map[string]bool // keys found missing: plan lists them
}

func newExistence() *existence {
	return &existence{known: map[string]bool{}, wanted: map[string]bool{}}
}

// check reports whether key exists, asking lookup the first time.
func (e *existence) check(ctx context.Context, key string, lookup func(context.Context) (bool, error)) (bool, error) {
	e.mu.Lock()
	exists, ok := e.known[key]
	e.mu.Unlock()
	if ok {
		return exists, nil
	}
	v, err, _ := e.flight.Do(key, func() (any, error) {
		exists, err := lookup(ctx)
		if err != nil {
			return false, err
		}
		e.mu.Lock()
		e.known[key] = exists
		if !exists {
			e.wanted[key] = true
		}
		e.mu.Unlock()
		return exists, nil
	})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

// ensure makes key exist: when check finds it missing, create runs once,
// shared by every caller waiting for the same key.
func (e *existence) ensure(ctx context.Context, key string, lookup func(context.Context) (bool, error), create func(context.Context) error) error {
	exists, err := e.check(ctx, key, lookup)
	if err != nil || exists {
		return err
	}
	_, err, _ = e.flight.Do("create "+key, func() (any, error) {
		e.mu.Lock()
		done := e.known[key]
		e.mu.Unlock()
		if done {
			return nil, nil
		}
		if err := create(ctx); err != nil {
			return nil, err
		}
		e.mu.Lock()
		e.known[key] = true
		e.mu.Unlock()
		return nil, nil
	})
	return err
}

// missingList returns the keys found missing, sorted.
func (e *existence) missingList() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for k := range e.wanted {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
