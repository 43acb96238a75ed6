package emulator

import (
	"slices"
	"strings"
)

var orgUnitFields = map[string]fieldUse{
	"name": fieldHandled, "parentOrgUnitPath": fieldHandled, "parentOrgUnitId": fieldHandled,
	"description": fieldHandled, "blockInheritance": fieldHandled,
	"etag": fieldReadOnly, "kind": fieldReadOnly, "orgUnitId": fieldReadOnly, "orgUnitPath": fieldReadOnly,
}

type orgUnitJSON struct {
	Kind              string `json:"kind"`
	Etag              string `json:"etag"`
	Name              string `json:"name"`
	Description       string `json:"description,omitempty"`
	OrgUnitPath       string `json:"orgUnitPath"`
	OrgUnitID         string `json:"orgUnitId"`
	ParentOrgUnitPath string `json:"parentOrgUnitPath,omitempty"`
	ParentOrgUnitID   string `json:"parentOrgUnitId,omitempty"`
	BlockInheritance  bool   `json:"blockInheritance"`
}

type orgUnitsJSON struct {
	Kind              string        `json:"kind"`
	Etag              string        `json:"etag"`
	OrganizationUnits []orgUnitJSON `json:"organizationUnits,omitempty"`
}

func (s *Server) orgUnitResource(ou *orgUnit) orgUnitJSON {
	out := orgUnitJSON{
		Kind:              "admin#directory#orgUnit",
		Etag:              s.etag(ou.id, 0),
		Name:              ou.name,
		Description:       ou.description,
		OrgUnitPath:       ou.path,
		OrgUnitID:         ou.id,
		ParentOrgUnitPath: ou.parentPath,
		BlockInheritance:  ou.blockInheritance,
	}
	if ou.parentPath != "" {
		out.ParentOrgUnitID = s.dir.orgUnit(ou.parentPath).id
	}
	return out
}

// insertOrgUnit serves orgunits.insert: the parent must exist, the name
// must be free under it.
func (s *Server) insertOrgUnit(c *call) (any, error) {
	if err := s.checkCustomer(c.params["customerId"]); err != nil {
		return nil, err
	}
	obj, err := c.object(orgUnitFields)
	if err != nil {
		return nil, err
	}
	var name, parentPath, parentID, description string
	var blockInheritance bool
	for _, f := range []struct {
		name string
		dst  any
	}{
		{"name", &name}, {"parentOrgUnitPath", &parentPath}, {"parentOrgUnitId", &parentID},
		{"description", &description}, {"blockInheritance", &blockInheritance},
	} {
		if _, err := decodeField(obj, f.name, f.dst); err != nil {
			return nil, err
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errRequired("name")
	}
	if strings.Contains(name, "/") {
		return nil, errInvalid("Invalid Ou Name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	var parent *orgUnit
	switch {
	case parentID != "":
		parent = d.orgUnitByID[parentID]
	case parentPath != "":
		parent = d.orgUnit(parentPath)
	}
	if parent == nil {
		return nil, errInvalid("Invalid Parent Orgunit Id")
	}
	path := parent.childPath(name)
	if d.orgUnit(path) != nil {
		return nil, errInvalid("Invalid Ou Id")
	}
	ou := &orgUnit{
		id: d.newOrgUnitID(), name: name, path: path, parentPath: parent.path,
		description: description, blockInheritance: blockInheritance,
	}
	d.addOrgUnit(ou)
	return s.orgUnitResource(ou), nil
}

// getOrgUnit serves orgunits.get. The client sends the path without its
// leading slash; an "id:..." id works too.
func (s *Server) getOrgUnit(c *call) (any, error) {
	if err := s.checkCustomer(c.params["customerId"]); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ou := s.dir.orgUnit(c.params["orgUnitPath"])
	if ou == nil {
		return nil, errOrgUnitNotFound()
	}
	return s.orgUnitResource(ou), nil
}

// deleteOrgUnit serves orgunits.delete. Google deletes only an empty unit:
// no child unit and no user, suspended ones included (nor devices or
// shared drives, which the emulator does not hold); the root never.
func (s *Server) deleteOrgUnit(c *call) (any, error) {
	if err := s.checkCustomer(c.params["customerId"]); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	ou := d.orgUnit(c.params["orgUnitPath"])
	switch {
	case ou == nil:
		return nil, errOrgUnitNotFound()
	case ou.path == "/":
		return nil, errDeleteRoot()
	case d.orgUnitInUse(ou):
		return nil, errOrgUnitNotEmpty()
	}
	delete(d.orgUnits, orgUnitKey(ou.path))
	delete(d.orgUnitByID, ou.id)
	return nil, nil
}

// orgUnitInUse reports whether ou has a child unit or a user.
func (d *directory) orgUnitInUse(ou *orgUnit) bool {
	for _, other := range d.orgUnits {
		if other.parentPath == ou.path {
			return true
		}
	}
	for u := range d.users.All() {
		if u.orgUnitPath == ou.path {
			return true
		}
	}
	return false
}

// listOrgUnits serves orgunits.list: the children of orgUnitPath (the root
// by default), all its descendants with type=all, and the unit itself too
// with type=allIncludingParent; in path order.
func (s *Server) listOrgUnits(c *call) (any, error) {
	if err := s.checkCustomer(c.params["customerId"]); err != nil {
		return nil, err
	}
	typ := c.query.Get("type")
	switch typ {
	case "", "children", "all", "allIncludingParent":
	default:
		return nil, errInvalidInput("type")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	base := s.dir.orgUnit("/")
	if p := c.query.Get("orgUnitPath"); p != "" {
		if base = s.dir.orgUnit(p); base == nil {
			return nil, errOrgUnitNotFound()
		}
	}
	prefix := strings.TrimSuffix(strings.ToLower(base.path), "/") + "/"
	var units []*orgUnit
	for _, ou := range s.dir.orgUnits {
		switch {
		case ou == base:
			if typ == "allIncludingParent" {
				units = append(units, ou)
			}
		case typ == "" || typ == "children":
			if ou.parentPath == base.path {
				units = append(units, ou)
			}
		case strings.HasPrefix(strings.ToLower(ou.path), prefix):
			units = append(units, ou)
		}
	}
	slices.SortFunc(units, func(a, b *orgUnit) int { return strings.Compare(a.path, b.path) })
	out := orgUnitsJSON{Kind: "admin#directory#orgUnits", Etag: s.etag("orgunits", uint32(len(s.dir.orgUnits)))}
	for _, ou := range units {
		out.OrganizationUnits = append(out.OrganizationUnits, s.orgUnitResource(ou))
	}
	return out, nil
}
