package emulator

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// State is the whole directory, as dumped by State and WriteState and
// read by LoadState. Lists are in path or address order.
type State struct {
	Domain     string    `json:"domain"`
	CustomerID string    `json:"customerId"`
	OrgUnits   []OrgUnit `json:"orgUnits"`
	Users      []User    `json:"users"`
	Groups     []Group   `json:"groups"`
}

// OrgUnit is an organizational unit. The root, "/", is always present;
// the Name of any other is the last element of its Path.
type OrgUnit struct {
	ID               string `json:"id"`
	Path             string `json:"path"`
	Name             string `json:"name"`
	Description      string `json:"description,omitempty"`
	BlockInheritance bool   `json:"blockInheritance,omitempty"`
}

// User is an account. Passwords are checked, never kept.
type User struct {
	ID           string       `json:"id"`
	PrimaryEmail string       `json:"primaryEmail"`
	GivenName    string       `json:"givenName"`
	FamilyName   string       `json:"familyName"`
	DisplayName  string       `json:"displayName,omitempty"`
	OrgUnitPath  string       `json:"orgUnitPath"`
	Aliases      []string     `json:"aliases,omitempty"`
	ExternalIDs  []ExternalID `json:"externalIds,omitempty"`
	Suspended    bool         `json:"suspended,omitempty"`
	// SuspensionReason is why a suspended user is: ADMIN (the default)
	// when an admin suspended it, or one of Google's reasons such as
	// ABUSE.
	SuspensionReason string `json:"suspensionReason,omitempty"`
	// IsAdmin marks a super admin, IsDelegatedAdmin an admin with a
	// lesser role. The API cannot set either (users.makeAdmin aside); a
	// state file can.
	IsAdmin                   bool      `json:"isAdmin,omitempty"`
	IsDelegatedAdmin          bool      `json:"isDelegatedAdmin,omitempty"`
	ChangePasswordAtNextLogin bool      `json:"changePasswordAtNextLogin,omitempty"`
	CreationTime              time.Time `json:"creationTime"`
	// Extra holds the other fields stored as sent, such as organizations
	// or phones.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// Group is a group with its aliases and direct members.
type Group struct {
	ID          string   `json:"id"`
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Aliases     []string `json:"aliases,omitempty"`
	Members     []Member `json:"members,omitempty"`
}

// Member is a direct member of a group.
type Member struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Role   string `json:"role"`   // OWNER, MANAGER or MEMBER
	Type   string `json:"type"`   // USER or GROUP
	Status string `json:"status"` // ACTIVE
}

// State returns a deep copy of the directory.
func (s *Server) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.dir
	st := State{
		Domain:     d.domain,
		CustomerID: d.customerID,
		OrgUnits:   make([]OrgUnit, 0, len(d.orgUnits)),
		Users:      make([]User, 0, d.users.Len()),
		Groups:     make([]Group, 0, d.groups.Len()),
	}
	for _, ou := range d.orgUnits {
		st.OrgUnits = append(st.OrgUnits, OrgUnit{
			ID: ou.id, Path: ou.path, Name: ou.name,
			Description: ou.description, BlockInheritance: ou.blockInheritance,
		})
	}
	slices.SortFunc(st.OrgUnits, func(a, b OrgUnit) int { return strings.Compare(a.Path, b.Path) })
	for u := range d.users.All() {
		st.Users = append(st.Users, User{
			ID:                        formatUserID(u.id),
			PrimaryEmail:              u.email,
			GivenName:                 u.givenName,
			FamilyName:                u.familyName,
			DisplayName:               u.displayName,
			OrgUnitPath:               u.orgUnitPath,
			Aliases:                   slices.Clone(u.aliases),
			ExternalIDs:               slices.Clone(u.externalIDs),
			Suspended:                 u.suspended,
			SuspensionReason:          u.suspensionReason,
			IsAdmin:                   u.isAdmin,
			IsDelegatedAdmin:          u.isDelegatedAdmin,
			ChangePasswordAtNextLogin: u.changePasswordAtNextLogin,
			CreationTime:              u.createdTime(),
			Extra:                     maps.Clone(u.extra),
		})
	}
	for g := range d.groups.All() {
		sg := Group{ID: g.id, Email: g.email, Name: g.name, Description: g.description, Aliases: slices.Clone(g.aliases)}
		for m := range g.members.All() {
			sg.Members = append(sg.Members, Member{ID: m.memberID(), Email: m.email, Role: m.role, Type: m.kind(), Status: memberStatus})
		}
		st.Groups = append(st.Groups, sg)
	}
	return st
}

// UserCount returns the number of users in the directory.
func (s *Server) UserCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dir.users.Len()
}

// WriteState writes the directory as JSON.
func (s *Server) WriteState(w io.Writer) error {
	if err := json.NewEncoder(w).Encode(s.State()); err != nil {
		return fmt.Errorf("emulator: write state: %w", err)
	}
	return nil
}

// LoadState replaces the directory with one written by WriteState. The
// state must be for the same domain and customer, and consistent:
// addresses unique, org units and members existing.
func (s *Server) LoadState(r io.Reader) error {
	var st State
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("emulator: load state: %w", err)
	}
	if st.Domain != s.opts.Domain || st.CustomerID != s.opts.CustomerID {
		return fmt.Errorf("emulator: load state: state is for %s (%s), the emulator serves %s (%s)",
			st.Domain, st.CustomerID, s.opts.Domain, s.opts.CustomerID)
	}
	d, err := s.buildDirectory(st)
	if err != nil {
		return fmt.Errorf("emulator: load state: %w", err)
	}
	s.mu.Lock()
	s.dir = d
	s.mu.Unlock()
	return nil
}

// buildDirectory checks st and indexes it.
func (s *Server) buildDirectory(st State) (*directory, error) {
	d := newDirectory(s.opts.Domain, s.opts.CustomerID, s.opts.Seed)
	root := d.orgUnit("/")
	units := slices.Clone(st.OrgUnits)
	// Parents sort before their children.
	slices.SortFunc(units, func(a, b OrgUnit) int { return strings.Compare(orgUnitKey(a.Path), orgUnitKey(b.Path)) })
	for _, o := range units {
		key := orgUnitKey(o.Path)
		if key == "/" {
			if !strings.HasPrefix(o.ID, "id:") {
				return nil, fmt.Errorf("org unit /: bad id %q", o.ID)
			}
			delete(d.orgUnitByID, root.id)
			root.id, root.name, root.description = o.ID, o.Name, o.Description
			d.orgUnitByID[root.id] = root
			continue
		}
		parentKey := key[:strings.LastIndexByte(key, '/')]
		parent := d.orgUnit(parentKey)
		if parent == nil {
			return nil, fmt.Errorf("org unit %s: no parent", o.Path)
		}
		if d.orgUnit(key) != nil {
			return nil, fmt.Errorf("org unit %s: given twice", o.Path)
		}
		if !strings.HasPrefix(o.ID, "id:") || d.orgUnitByID[o.ID] != nil {
			return nil, fmt.Errorf("org unit %s: bad or duplicate id %q", o.Path, o.ID)
		}
		name := o.Path[strings.LastIndexByte(strings.TrimSuffix(o.Path, "/"), '/')+1:]
		d.addOrgUnit(&orgUnit{
			id: o.ID, name: name, path: parent.childPath(name), parentPath: parent.path,
			description: o.Description, blockInheritance: o.BlockInheritance,
		})
	}
	for _, su := range st.Users {
		if err := d.loadUser(su); err != nil {
			return nil, fmt.Errorf("user %s: %w", su.PrimaryEmail, err)
		}
	}
	for _, sg := range st.Groups {
		if err := d.loadGroup(sg); err != nil {
			return nil, fmt.Errorf("group %s: %w", sg.Email, err)
		}
	}
	for _, sg := range st.Groups {
		if err := d.loadMembers(sg); err != nil {
			return nil, fmt.Errorf("group %s: %w", sg.Email, err)
		}
	}
	return d, nil
}

var errTaken = errors.New("address already in use")

func (d *directory) loadUser(su User) error {
	id, ok := parseUserID(su.ID)
	if !ok || d.userByID[id] != nil {
		return fmt.Errorf("bad or duplicate id %q", su.ID)
	}
	ou := d.orgUnit(su.OrgUnitPath)
	if ou == nil {
		return fmt.Errorf("no org unit %s", su.OrgUnitPath)
	}
	if su.SuspensionReason != "" && !su.Suspended {
		return fmt.Errorf("suspension reason %q for a user not suspended", su.SuspensionReason)
	}
	u := &user{
		id: id, email: normalizeAddress(su.PrimaryEmail), givenName: su.GivenName, familyName: su.FamilyName,
		displayName: su.DisplayName, orgUnitPath: ou.path, externalIDs: slices.Clone(su.ExternalIDs),
		created: su.CreationTime.UnixMilli(), isAdmin: su.IsAdmin, isDelegatedAdmin: su.IsDelegatedAdmin,
		changePasswordAtNextLogin: su.ChangePasswordAtNextLogin, extra: maps.Clone(su.Extra),
	}
	if su.Suspended {
		u.suspended, u.suspensionReason = true, cmp.Or(su.SuspensionReason, suspensionByAdmin)
	}
	for _, a := range su.Aliases {
		u.aliases = append(u.aliases, normalizeAddress(a))
	}
	if err := d.claim(append([]string{u.email}, u.aliases...)); err != nil {
		return err
	}
	d.addUser(u)
	return nil
}

// claim checks that addrs are distinct and free.
func (d *directory) claim(addrs []string) error {
	for i, a := range addrs {
		if a == "" || d.taken(a) || slices.Contains(addrs[:i], a) {
			return fmt.Errorf("%q: %w", a, errTaken)
		}
	}
	return nil
}

func (d *directory) loadGroup(sg Group) error {
	if sg.ID == "" || d.groupByID[sg.ID] != nil {
		return fmt.Errorf("bad or duplicate id %q", sg.ID)
	}
	g := newGroup(sg.ID, normalizeAddress(sg.Email), sg.Name, sg.Description)
	for _, a := range sg.Aliases {
		g.aliases = append(g.aliases, normalizeAddress(a))
	}
	if err := d.claim(append([]string{g.email}, g.aliases...)); err != nil {
		return err
	}
	d.addGroup(g)
	return nil
}

// loadMembers adds sg's members once every group exists, since groups can
// be members of groups.
func (d *directory) loadMembers(sg Group) error {
	g := d.group(sg.ID)
	for _, sm := range sg.Members {
		role, err := parseRole(sm.Role)
		if err != nil {
			return fmt.Errorf("member %s: bad role %q", sm.Email, sm.Role)
		}
		m := &member{id: sm.ID, email: normalizeAddress(sm.Email), role: role}
		switch sm.Type {
		case "USER":
			m.user = d.user(m.email)
			switch {
			case m.user != nil && formatUserID(m.user.id) != sm.ID,
				m.user == nil && strings.HasSuffix(m.email, "@"+d.domain):
				return fmt.Errorf("member %s: no such user", sm.Email)
			case m.user != nil:
				m.id = ""
			}
		case "GROUP":
			mg := d.group(m.email)
			if mg == nil || mg.id != sm.ID {
				return fmt.Errorf("member %s: no such group", sm.Email)
			}
			m.isGroup = true
		default:
			return fmt.Errorf("member %s: bad type %q", sm.Email, sm.Type)
		}
		if !g.members.Insert(m) {
			return fmt.Errorf("member %s: given twice", sm.Email)
		}
	}
	return nil
}
