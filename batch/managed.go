package batch

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
)

// managed is what the job keeps in line on an existing account besides its
// place: its names, and the lists that hold a row's title, department,
// manager and phone. The lists are kept whole, since Google replaces a
// list whole: an update of one entry sends the others back as they were.
type managed struct {
	GivenName     string                   `json:"-"` // kept in columns of their own
	FamilyName    string                   `json:"-"`
	Organizations []admin.UserOrganization `json:"organizations,omitempty"`
	Relations     []admin.UserRelation     `json:"relations,omitempty"`
	Phones        []admin.UserPhone        `json:"phones,omitempty"`
	// Custom holds the custom schema fields the config maps, as text:
	// schema → field → value.
	Custom map[string]map[string]string `json:"custom,omitempty"`
}

// journalAccount is how the journal keeps an account of the directory.
func journalAccount(a *directory.Account) (journal.Account, error) {
	m := managed{
		GivenName: a.GivenName, FamilyName: a.FamilyName,
		Organizations: a.Organizations, Relations: a.Relations, Phones: a.Phones,
	}
	for schema, values := range a.CustomSchemas {
		for field, v := range values {
			switch v.(type) {
			case string, float64, bool:
				if m.Custom == nil {
					m.Custom = map[string]map[string]string{}
				}
				if m.Custom[schema] == nil {
					m.Custom[schema] = map[string]string{}
				}
				m.Custom[schema][field] = fmt.Sprint(v)
			}
		}
	}
	fields, err := json.Marshal(m)
	if err != nil {
		return journal.Account{}, fmt.Errorf("record the account %s: %w", a.PrimaryEmail, err)
	}
	return journal.Account{
		Email: strings.ToLower(a.PrimaryEmail), ID: a.ID, OrgUnit: a.OrgUnitPath,
		Suspended: a.Suspended, SuspensionReason: a.SuspensionReason,
		Admin: a.IsAdmin || a.IsDelegatedAdmin, GivenName: a.GivenName, FamilyName: a.FamilyName, Fields: string(fields),
	}, nil
}

// managedOf reads the fields the journal keeps of an account.
func managedOf(a journal.Account) (managed, error) {
	m := managed{GivenName: a.GivenName, FamilyName: a.FamilyName}
	if a.Fields == "" || a.Fields == "{}" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(a.Fields), &m); err != nil {
		return managed{}, fmt.Errorf("read the account %s from the journal: %w", a.Email, err)
	}
	return m, nil
}

// A fieldChange is one field an update changes, as plan and the report
// show it: "familyName: Jones → Smith-Jones".
type fieldChange struct {
	field, from, to string
}

func (c fieldChange) String() string {
	show := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return v
	}
	return fmt.Sprintf("%s: %s → %s", c.field, show(c.from), show(c.to))
}

// describeChanges joins changes for a report line.
func describeChanges(changes []fieldChange) string {
	parts := make([]string, len(changes))
	for i, c := range changes {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ")
}

// wanted is what a row says an account's managed fields should be. A
// field the file has no column for is not managed: nil.
type wanted struct {
	givenName, familyName string
	title, department     *string
	manager, phone        *string
	custom                map[string]map[string]string // the mapped custom schema fields
}

// updateOf returns the one update that brings the account's managed fields
// in line with w, and the changes it makes; a zero update when nothing
// differs.
func updateOf(m managed, w wanted) (directory.UserUpdate, []fieldChange) {
	var u directory.UserUpdate
	var changes []fieldChange
	if m.GivenName != w.givenName {
		u.GivenName = &w.givenName
		changes = append(changes, fieldChange{"givenName", m.GivenName, w.givenName})
	}
	if m.FamilyName != w.familyName {
		u.FamilyName = &w.familyName
		changes = append(changes, fieldChange{"familyName", m.FamilyName, w.familyName})
	}
	if orgs, c := organizationsOf(m.Organizations, w); len(c) > 0 {
		u.Organizations = &orgs
		changes = append(changes, c...)
	}
	if w.manager != nil {
		rels, from, changed := replaceEntry(m.Relations, *w.manager,
			func(r admin.UserRelation) bool { return r.Type == "manager" },
			func(r admin.UserRelation) string { return strings.ToLower(r.Value) },
			func(r *admin.UserRelation, v string) { r.Value = v },
			admin.UserRelation{Type: "manager"})
		if changed {
			u.Relations = &rels
			changes = append(changes, fieldChange{"manager", from, *w.manager})
		}
	}
	if w.phone != nil {
		phones, from, changed := replaceEntry(m.Phones, *w.phone,
			func(p admin.UserPhone) bool { return p.Type == "work" },
			func(p admin.UserPhone) string { return p.Value },
			func(p *admin.UserPhone, v string) { p.Value = v },
			admin.UserPhone{Type: "work"})
		if changed {
			u.Phones = &phones
			changes = append(changes, fieldChange{"phone", from, *w.phone})
		}
	}
	for _, schema := range slices.Sorted(maps.Keys(w.custom)) {
		for _, field := range slices.Sorted(maps.Keys(w.custom[schema])) {
			cur, want := m.Custom[schema][field], w.custom[schema][field]
			if cur == want {
				continue
			}
			if u.CustomSchemas == nil {
				u.CustomSchemas = map[string]map[string]any{}
			}
			if u.CustomSchemas[schema] == nil {
				u.CustomSchemas[schema] = map[string]any{}
			}
			var v any // nil clears the field
			if want != "" {
				v = want
			}
			u.CustomSchemas[schema][field] = v
			changes = append(changes, fieldChange{schema + "." + field, cur, want})
		}
	}
	return u, changes
}

// organizationsOf returns the account's organizations with the title and
// department w manages set on the primary entry (or the first, or a new
// primary one), and what changed.
func organizationsOf(orgs []admin.UserOrganization, w wanted) ([]admin.UserOrganization, []fieldChange) {
	if w.title == nil && w.department == nil {
		return nil, nil
	}
	out := slices.Clone(orgs)
	i := slices.IndexFunc(out, func(o admin.UserOrganization) bool { return o.Primary })
	if i < 0 && len(out) > 0 {
		i = 0
	}
	var cur admin.UserOrganization
	if i >= 0 {
		cur = out[i]
	}
	next := cur
	var changes []fieldChange
	if w.title != nil && cur.Title != *w.title {
		next.Title = *w.title
		changes = append(changes, fieldChange{"title", cur.Title, *w.title})
	}
	if w.department != nil && cur.Department != *w.department {
		next.Department = *w.department
		changes = append(changes, fieldChange{"department", cur.Department, *w.department})
	}
	switch {
	case len(changes) == 0:
		return nil, nil
	case i >= 0 && next.Title == "" && next.Department == "" && next.Name == "" && next.Description == "" && next.CostCenter == "":
		// Nothing is left in the entry: it goes.
		out = slices.Delete(out, i, i+1)
	case i >= 0:
		out[i] = next
	default:
		next.Primary = true
		out = append(out, next)
	}
	return out, changes
}

// replaceEntry sets the value of the first entry of list that is(),
// adding one (made from blank) when there is none and value is set, and
// removing it when value is empty. It returns the new list, the value it
// replaced and whether anything changed.
func replaceEntry[T any](list []T, value string, is func(T) bool, get func(T) string, set func(*T, string), blank T) ([]T, string, bool) {
	i := slices.IndexFunc(list, is)
	switch {
	case i < 0 && value == "":
		return nil, "", false
	case i < 0:
		set(&blank, value)
		return append(slices.Clone(list), blank), "", true
	case get(list[i]) == value:
		return nil, "", false
	case value == "":
		return slices.Delete(slices.Clone(list), i, i+1), get(list[i]), true
	}
	out := slices.Clone(list)
	set(&out[i], value)
	return out, get(list[i]), true
}
