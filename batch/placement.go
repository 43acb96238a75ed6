package batch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

// placement works out where a row belongs: its org unit and its groups,
// and which of the groups run may create when they are missing.
type placement struct {
	domain   string
	orgUnit  template   // for rows without an org unit
	addition []template // groups every row joins
	domains  map[string]bool
	reserved naming.NameSet
	create   GroupCreation
	// roles place the people of each OneRoster role instead of orgUnit
	// and addition, where the config says.
	roles map[string]rolePlace
}

// rolePlace is where the people of a OneRoster role go.
type rolePlace struct {
	orgUnit  *template // nil: orgUnit.default
	addition []template
}

func newPlacement(c Config) (*placement, error) {
	ou, err := parseTemplate(c.OrgUnit.Default)
	if err != nil {
		return nil, fmt.Errorf("orgUnit.default: %w", err)
	}
	p := &placement{
		domain:   strings.ToLower(c.Domain),
		orgUnit:  ou,
		domains:  map[string]bool{strings.ToLower(c.Domain): true},
		reserved: naming.NewNameSet(c.reserved()...),
		create:   c.Groups.CreateMissing,
	}
	for _, d := range c.Groups.Domains {
		p.domains[strings.ToLower(d)] = true
	}
	for _, g := range c.Groups.Add {
		t, err := parseTemplate(g)
		if err != nil {
			return nil, fmt.Errorf("groups.add %q: %w", g, err)
		}
		p.addition = append(p.addition, t)
	}
	for role, rp := range c.OneRoster.Roles {
		if p.roles == nil {
			p.roles = map[string]rolePlace{}
		}
		var place rolePlace
		if rp.OrgUnit != "" {
			t, err := parseTemplate(rp.OrgUnit)
			if err != nil {
				return nil, fmt.Errorf("oneroster.roles.%s.orgUnit: %w", role, err)
			}
			place.orgUnit = &t
		}
		for _, g := range rp.Groups {
			t, err := parseTemplate(g)
			if err != nil {
				return nil, fmt.Errorf("oneroster.roles.%s.groups %q: %w", role, g, err)
			}
			place.addition = append(place.addition, t)
		}
		p.roles[role] = place
	}
	return p, nil
}

// A place is where a row belongs.
type place struct {
	orgUnit string
	groups  []string        // addresses, sorted
	create  map[string]bool // the groups run may create when missing
}

// mayCreate notes that run may create the group at addr when it is
// missing.
func (pl *place) mayCreate(addr string) {
	if pl.create == nil {
		pl.create = map[string]bool{}
	}
	pl.create[addr] = true
}

// of returns the place of a valid record. A group in another domain than
// the job's (and groups.domains), or on the reserved list, is an error
// naming it: a cell must not make anyone a member of postmaster@ or of a
// group elsewhere.
func (p *placement) of(rec input.Record) (place, error) {
	fields := rec.Fields()
	pl := place{orgUnit: rec.OrgUnit}
	ouTemplate, addition := p.orgUnit, p.addition
	if rp, ok := p.roles[strings.ToLower(rec.Custom["role"])]; ok {
		if rp.orgUnit != nil {
			ouTemplate = *rp.orgUnit
		}
		addition = append(slices.Clone(addition), rp.addition...)
	}
	if pl.orgUnit == "" {
		ou, err := ouTemplate.expand(fields, func(v string) string {
			// A value is one level of the path, never several.
			return strings.ReplaceAll(v, "/", "-")
		})
		if err != nil {
			return place{}, fmt.Errorf("org unit: %w", err)
		}
		pl.orgUnit = ou
	}
	if err := input.CheckOrgUnit(pl.orgUnit); err != nil {
		return place{}, fmt.Errorf("org unit %w", err)
	}
	for _, g := range rec.Groups {
		addr := p.address(g)
		if err := p.mayJoin(addr); err != nil {
			return place{}, err
		}
		pl.groups = append(pl.groups, addr)
		if p.create.matches(addr, p.domain) {
			pl.mayCreate(addr)
		}
	}
	for _, t := range addition {
		g, err := t.expand(fields, naming.Normalize)
		if err != nil {
			return place{}, fmt.Errorf("group: %w", err)
		}
		g = strings.ToLower(g)
		if err := input.CheckGroup(g); err != nil {
			return place{}, fmt.Errorf("group %w", err)
		}
		addr := p.address(g)
		if err := p.mayJoin(addr); err != nil {
			return place{}, fmt.Errorf("%w (from groups.add %q)", err, t.text)
		}
		pl.groups = append(pl.groups, addr)
		if p.create.Templates {
			pl.mayCreate(addr)
		}
	}
	slices.Sort(pl.groups)
	pl.groups = slices.Compact(pl.groups)
	return pl, nil
}

// mayJoin checks that a row may be a member of the group at addr.
func (p *placement) mayJoin(addr string) error {
	local, domain, _ := strings.Cut(addr, "@")
	if taken, _ := p.reserved.Taken(context.Background(), local); taken {
		return fmt.Errorf("the group %s has a reserved name (like postmaster, abuse or admin): no row may join or create it", addr)
	}
	if !p.domains[domain] {
		return fmt.Errorf("the group %s is not in %s; add its domain to groups.domains to let rows join its groups", addr, p.domain)
	}
	return nil
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

// has reports whether the existence of key is known: check would not ask.
func (e *existence) has(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.known[key]
	return ok
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

// stringSet is a set of strings safe for concurrent use.
type stringSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *stringSet) add(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]bool{}
	}
	s.m[v] = true
}

// list returns the set's strings, sorted.
func (s *stringSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.m))
}
