package emulator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// directory is the emulated account: its users, groups and org units with
// the indexes that answer the API. It is not safe for concurrent use; the
// Server guards it with a read-write lock.
type directory struct {
	domain     string
	customerID string
	// rng draws ids and generated users. It is only used under the write
	// lock, so a sequence of calls gives the same ids for the same seed.
	rng *rand.Rand

	users        *sortedList[*user] // by primary address, for paging
	userByEmail  map[string]*user   // by primary address, for lookups
	userByID     map[uint64]*user
	byExternalID map[string][]*user // by lower-case external id value
	groups       *sortedList[*group]
	groupByID    map[string]*group
	aliases      map[string]aliasOwner // user and group aliases
	orgUnits     map[string]*orgUnit   // by lower-case path
	orgUnitByID  map[string]*orgUnit
}

// user is one account. Its fields are kept compact: a directory holds a
// million of them.
type user struct {
	id                        uint64
	email                     string // lower-case primary address
	givenName                 string
	familyName                string
	displayName               string
	orgUnitPath               string // the path of an existing org unit
	externalIDs               []ExternalID
	aliases                   []string
	created                   int64 // Unix milliseconds
	version                   uint32
	suspended                 bool
	suspensionReason          string // ADMIN, or Google's reason; "" when not suspended
	isAdmin                   bool   // a super admin
	isDelegatedAdmin          bool   // holds an admin role short of super admin
	changePasswordAtNextLogin bool
	// extra holds the writable fields the emulator stores without
	// interpreting (organizations, phones, relations, ...), as sent.
	extra map[string]json.RawMessage
}

func (u *user) createdTime() time.Time { return time.UnixMilli(u.created).UTC() }

// group is a Google group with its members.
type group struct {
	id          string
	email       string
	name        string
	description string
	aliases     []string
	members     *sortedList[*member] // by member address
	version     uint32
}

// member is one membership of a group: a user of the domain, a group, or
// an address outside the domain. Groups can have hundreds of thousands.
type member struct {
	user    *user  // the member, when a user of the domain
	id      string // otherwise, the group's or external member's id
	email   string // the member's primary address
	role    string // OWNER, MANAGER or MEMBER
	isGroup bool
}

// memberStatus is the status of every member the emulator keeps.
const memberStatus = "ACTIVE"

func (m *member) memberID() string {
	if m.user != nil {
		return formatUserID(m.user.id)
	}
	return m.id
}

// kind is the member's type: USER or GROUP.
func (m *member) kind() string {
	if m.isGroup {
		return "GROUP"
	}
	return "USER"
}

// orgUnit is an organizational unit; the root has path "/".
type orgUnit struct {
	id               string
	name             string
	path             string
	parentPath       string
	description      string
	blockInheritance bool
}

// aliasOwner is the user or group an alias belongs to.
type aliasOwner struct {
	user  *user
	group *group
}

func memberKey(m *member) string { return m.email }

func newDirectory(domain, customerID string, seed int64) *directory {
	d := &directory{
		domain:       domain,
		customerID:   customerID,
		rng:          rand.New(rand.NewPCG(uint64(seed), streamDirectory)),
		users:        newSortedList(func(u *user) string { return u.email }),
		userByEmail:  map[string]*user{},
		userByID:     map[uint64]*user{},
		byExternalID: map[string][]*user{},
		groups:       newSortedList(func(g *group) string { return g.email }),
		groupByID:    map[string]*group{},
		aliases:      map[string]aliasOwner{},
		orgUnits:     map[string]*orgUnit{},
		orgUnitByID:  map[string]*orgUnit{},
	}
	d.addOrgUnit(&orgUnit{id: d.newOrgUnitID(), name: domain, path: "/"})
	return d
}

// normalizeAddress returns the form addresses are compared in.
func normalizeAddress(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// formatUserID renders a user id as Google does: 21 decimal digits.
func formatUserID(id uint64) string { return fmt.Sprintf("1%020d", id) }

// parseUserID is the inverse of formatUserID.
func parseUserID(s string) (uint64, bool) {
	if len(s) != 21 || s[0] != '1' {
		return 0, false
	}
	id, err := strconv.ParseUint(s[1:], 10, 64)
	return id, err == nil
}

func (d *directory) newUserID() uint64 {
	for {
		if id := d.rng.Uint64(); d.userByID[id] == nil {
			return id
		}
	}
}

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

// newToken returns prefix followed by n random base-36 characters.
func (d *directory) newToken(prefix string, n int) string {
	b := []byte(prefix)
	for range n {
		b = append(b, base36[d.rng.IntN(len(base36))])
	}
	return string(b)
}

func (d *directory) newGroupID() string {
	for {
		if id := d.newToken("0", 14); d.groupByID[id] == nil {
			return id
		}
	}
}

func (d *directory) newOrgUnitID() string {
	for {
		if id := d.newToken("id:0", 12); d.orgUnitByID[id] == nil {
			return id
		}
	}
}

// user finds a user by primary address, alias or id.
func (d *directory) user(key string) *user {
	if id, ok := parseUserID(key); ok {
		return d.userByID[id]
	}
	addr := normalizeAddress(key)
	if u := d.userByEmail[addr]; u != nil {
		return u
	}
	return d.aliases[addr].user
}

// group finds a group by address, alias or id.
func (d *directory) group(key string) *group {
	if g := d.groupByID[key]; g != nil {
		return g
	}
	addr := normalizeAddress(key)
	if g, ok := d.groups.Get(addr); ok {
		return g
	}
	return d.aliases[addr].group
}

// taken reports whether addr, normalized, is any user's or group's address
// or alias.
func (d *directory) taken(addr string) bool {
	if d.userByEmail[addr] != nil {
		return true
	}
	if _, ok := d.groups.Get(addr); ok {
		return true
	}
	_, ok := d.aliases[addr]
	return ok
}

// orgUnit finds an org unit by path, compared without regard to case or a
// trailing slash, or by "id:..." id.
func (d *directory) orgUnit(key string) *orgUnit {
	if strings.HasPrefix(key, "id:") {
		return d.orgUnitByID[key]
	}
	return d.orgUnits[orgUnitKey(key)]
}

func orgUnitKey(path string) string {
	path = strings.ToLower(strings.Trim(strings.TrimSpace(path), "/"))
	return "/" + path
}

// childPath returns the path of ou's child called name.
func (ou *orgUnit) childPath(name string) string {
	return strings.TrimSuffix(ou.path, "/") + "/" + name
}

func (d *directory) addOrgUnit(ou *orgUnit) {
	d.orgUnits[orgUnitKey(ou.path)] = ou
	d.orgUnitByID[ou.id] = ou
}

// addUser indexes u; its addresses must be free.
func (d *directory) addUser(u *user) {
	d.users.Insert(u)
	d.indexUser(u)
}

// indexUser adds u to every index but the ordered list.
func (d *directory) indexUser(u *user) {
	d.userByEmail[u.email] = u
	d.userByID[u.id] = u
	for _, a := range u.aliases {
		d.aliases[a] = aliasOwner{user: u}
	}
	d.indexExternalIDs(u)
}

func (d *directory) removeUser(u *user) {
	d.users.Delete(u.email)
	delete(d.userByEmail, u.email)
	delete(d.userByID, u.id)
	for _, a := range u.aliases {
		delete(d.aliases, a)
	}
	d.unindexExternalIDs(u)
	for g := range d.groups.All() {
		if g.members.Delete(u.email) {
			g.version++
		}
	}
}

// renameUser gives u a new primary address; the old one becomes an alias,
// as Google keeps it.
func (d *directory) renameUser(u *user, addr string) {
	old := u.email
	d.users.Delete(old)
	delete(d.userByEmail, old)
	u.email = addr
	d.users.Insert(u)
	d.userByEmail[addr] = u
	u.aliases = append(u.aliases, old)
	d.aliases[old] = aliasOwner{user: u}
	for g := range d.groups.All() {
		if m, ok := g.members.Get(old); ok {
			g.members.Delete(old)
			m.email = addr
			g.members.Insert(m)
		}
	}
}

func (d *directory) setExternalIDs(u *user, ids []ExternalID) {
	d.unindexExternalIDs(u)
	u.externalIDs = ids
	d.indexExternalIDs(u)
}

func (d *directory) indexExternalIDs(u *user) {
	for _, e := range u.externalIDs {
		k := strings.ToLower(e.Value)
		d.byExternalID[k] = append(d.byExternalID[k], u)
	}
}

func (d *directory) unindexExternalIDs(u *user) {
	for _, e := range u.externalIDs {
		k := strings.ToLower(e.Value)
		rest := d.byExternalID[k][:0]
		for _, v := range d.byExternalID[k] {
			if v != u {
				rest = append(rest, v)
			}
		}
		if len(rest) == 0 {
			delete(d.byExternalID, k)
		} else {
			d.byExternalID[k] = rest
		}
	}
}

func (d *directory) addGroup(g *group) {
	d.groups.Insert(g)
	d.groupByID[g.id] = g
	for _, a := range g.aliases {
		d.aliases[a] = aliasOwner{group: g}
	}
}

// removeGroup drops g, its aliases, and its memberships in other groups.
func (d *directory) removeGroup(g *group) {
	d.groups.Delete(g.email)
	delete(d.groupByID, g.id)
	for _, a := range g.aliases {
		delete(d.aliases, a)
	}
	for other := range d.groups.All() {
		if other.members.Delete(g.email) {
			other.version++
		}
	}
}

func newGroup(id, email, name, description string) *group {
	return &group{id: id, email: email, name: name, description: description, members: newSortedList(memberKey)}
}
