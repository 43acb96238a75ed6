package batch

import (
	"maps"
	"slices"
	"strings"

	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

// Placement works out the org unit and groups of one person from the
// config's templates (orgUnit.default, groups.add), exactly as run does
// for a row: the service places the accounts it creates with it.
type Placement struct {
	p      *placement
	fields []string
}

// NewPlacement returns the Placement of a validated config.
func NewPlacement(c Config) (*Placement, error) {
	c = c.WithDefaults()
	p, err := newPlacement(c)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range append([]template{p.orgUnit}, p.addition...) {
		for _, piece := range t.pieces {
			seen[piece.field] = true
		}
	}
	delete(seen, "")
	return &Placement{p: p, fields: slices.Sorted(maps.Keys(seen))}, nil
}

// Place is where one person's account goes.
type Place struct {
	// OrgUnit is the org unit path.
	OrgUnit string
	// Groups are the addresses of the groups it joins, sorted.
	Groups []string
	create map[string]bool
}

// MayCreate reports whether the group at address may be created when it
// is missing, as groups.createMissing says.
func (p Place) MayCreate(address string) bool { return p.create[address] }

// Of returns the place of a person whose fields are f: firstname, lastname
// and any custom field. Fields named like run's known columns (id, title,
// department, manager, phone) fill those. A template that needs a field f
// lacks, or that gives a group nobody may join, is an error naming it.
func (pl *Placement) Of(f naming.Fields) (Place, error) {
	rec := input.Record{
		FirstName:  strings.TrimSpace(f.Get(naming.FirstName)),
		LastName:   strings.TrimSpace(f.Get(naming.LastName)),
		ID:         strings.TrimSpace(f.Get("id")),
		Title:      strings.TrimSpace(f.Get("title")),
		Department: strings.TrimSpace(f.Get("department")),
		Manager:    strings.TrimSpace(f.Get("manager")),
		Phone:      strings.TrimSpace(f.Get("phone")),
		Custom:     map[string]string{},
	}
	for k, v := range f {
		k = strings.ToLower(strings.TrimSpace(k))
		switch k {
		case naming.FirstName, naming.LastName, "id", "title", "department", "manager", "phone":
			continue
		}
		rec.Custom[k] = strings.TrimSpace(v)
	}
	p, err := pl.p.of(rec)
	if err != nil {
		return Place{}, err
	}
	return Place{OrgUnit: p.orgUnit, Groups: p.groups, create: p.create}, nil
}

// Fields returns the names of the fields the templates use, lowercased and
// sorted: what a person must be given for Of to succeed.
func (pl *Placement) Fields() []string { return slices.Clone(pl.fields) }
