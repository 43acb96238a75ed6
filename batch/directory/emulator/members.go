package emulator

import (
	"strings"
)

var memberFields = map[string]fieldUse{
	"email": fieldHandled, "id": fieldHandled, "role": fieldHandled,
	"delivery_settings": fieldReadOnly, "type": fieldReadOnly,
	"etag": fieldReadOnly, "kind": fieldReadOnly, "status": fieldReadOnly,
}

type memberJSON struct {
	Kind             string `json:"kind"`
	Etag             string `json:"etag"`
	ID               string `json:"id"`
	Email            string `json:"email"`
	Role             string `json:"role"`
	Type             string `json:"type"`
	Status           string `json:"status"`
	DeliverySettings string `json:"delivery_settings"`
}

type membersJSON struct {
	Kind          string       `json:"kind"`
	Etag          string       `json:"etag"`
	Members       []memberJSON `json:"members,omitempty"`
	NextPageToken string       `json:"nextPageToken,omitempty"`
}

type hasMemberJSON struct {
	IsMember bool `json:"isMember"`
}

const (
	roleMember  = "MEMBER"
	roleManager = "MANAGER"
	roleOwner   = "OWNER"
)

func (s *Server) memberResource(m *member) memberJSON {
	return memberJSON{
		Kind:             "admin#directory#member",
		Etag:             s.etag(m.email+m.role, 0),
		ID:               m.memberID(),
		Email:            m.email,
		Role:             m.role,
		Type:             m.kind(),
		Status:           memberStatus,
		DeliverySettings: "ALL_MAIL",
	}
}

// parseRole returns a member role, MEMBER when none is given.
func parseRole(role string) (string, error) {
	switch r := strings.ToUpper(role); r {
	case "":
		return roleMember, nil
	case roleMember, roleManager, roleOwner:
		return r, nil
	}
	return "", errInvalidInput("role")
}

// validExternalAddress loosely checks an address outside the domain.
func validExternalAddress(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && at < 65 && validDomain(addr[at+1:]) && !strings.ContainsAny(addr[:at], " <>()[],;:\"\\")
}

// insertMember serves members.insert. A member in the domain must exist;
// an address outside it is added as an external member. A user created
// less than Faults.MemberNotFoundWindow ago is not found yet.
func (s *Server) insertMember(c *call) (any, error) {
	obj, err := c.object(memberFields)
	if err != nil {
		return nil, err
	}
	var email, id, role string
	if err := decodeStrings(obj, stringField{"email", &email}, stringField{"id", &id}, stringField{"role", &role}); err != nil {
		return nil, err
	}
	if email == "" && id == "" {
		return nil, errRequired("member")
	}
	if role, err = parseRole(role); err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	g := d.group(c.params["groupKey"])
	if g == nil {
		return nil, errNotFound("groupKey")
	}
	key := id
	if key == "" {
		key = email
	}
	m := &member{role: role}
	switch u, mg := d.user(key), d.group(key); {
	case u != nil:
		if e := s.memberPropagating(u, now); e != nil {
			return nil, e
		}
		if e := s.creationIncomplete(u, now); e != nil {
			return nil, e
		}
		m.user, m.email = u, u.email
	case mg != nil:
		m.id, m.email, m.isGroup = mg.id, mg.email, true
	default:
		addr := normalizeAddress(email)
		if id != "" || strings.HasSuffix(addr, "@"+d.domain) || !validExternalAddress(addr) {
			return nil, errNotFound("memberKey")
		}
		m.id, m.email = formatUserID(d.rng.Uint64()), addr
	}
	if !g.members.Insert(m) {
		return nil, errMemberExists()
	}
	g.version++
	return s.memberResource(m), nil
}

// member finds the membership of g that key names: a user's or group's
// address, alias or id, or an external member's address or id.
func (d *directory) member(g *group, key string) *member {
	if u := d.user(key); u != nil {
		m, _ := g.members.Get(u.email)
		return m
	}
	if mg := d.group(key); mg != nil {
		m, _ := g.members.Get(mg.email)
		return m
	}
	if m, ok := g.members.Get(normalizeAddress(key)); ok {
		return m
	}
	for m := range g.members.All() {
		if m.id == key {
			return m
		}
	}
	return nil
}

// groupMember finds the group and the direct member a call names by
// groupKey and memberKey. s.mu must be held.
func (s *Server) groupMember(c *call) (*group, *member, error) {
	g := s.dir.group(c.params["groupKey"])
	if g == nil {
		return nil, nil, errNotFound("groupKey")
	}
	m := s.dir.member(g, c.params["memberKey"])
	if m == nil {
		return nil, nil, errNotFound("memberKey")
	}
	return g, m, nil
}

func (s *Server) getMember(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, m, err := s.groupMember(c)
	if err != nil {
		return nil, err
	}
	return s.memberResource(m), nil
}

// hasMember serves members.hasMember: whether a user or group of the
// domain, or an external address, is a direct member.
func (s *Server) hasMember(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.dir
	g := d.group(c.params["groupKey"])
	if g == nil {
		return nil, errNotFound("groupKey")
	}
	key := c.params["memberKey"]
	if m := d.member(g, key); m != nil {
		return hasMemberJSON{IsMember: true}, nil
	}
	addr := normalizeAddress(key)
	if d.user(key) == nil && d.group(key) == nil && (strings.HasSuffix(addr, "@"+d.domain) || !validExternalAddress(addr)) {
		return nil, errNotFound("memberKey")
	}
	return hasMemberJSON{IsMember: false}, nil
}

func (s *Server) deleteMember(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, m, err := s.groupMember(c)
	if err != nil {
		return nil, err
	}
	g.members.Delete(m.email)
	g.version++
	return nil, nil
}

// listMembers serves members.list in address order, optionally only the
// roles given (a comma-separated list of OWNER, MANAGER and MEMBER).
func (s *Server) listMembers(c *call) (any, error) {
	if v := c.query.Get("includeDerivedMembership"); v == "true" {
		return nil, unsupported("includeDerivedMembership", v)
	}
	roles := map[string]bool{}
	if v := c.query.Get("roles"); v != "" {
		for r := range strings.SplitSeq(v, ",") {
			role, err := parseRole(strings.TrimSpace(r))
			if err != nil {
				return nil, errInvalidInput("roles")
			}
			roles[role] = true
		}
	}
	limit, err := c.maxResults(200, 200)
	if err != nil {
		return nil, err
	}
	after, err := c.pageToken()
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.dir.group(c.params["groupKey"])
	if g == nil {
		return nil, errNotFound("groupKey")
	}
	out := membersJSON{Kind: "admin#directory#members", Etag: s.etag(g.id, g.version)}
	var last string
	for m := range g.members.From(after) {
		if m.email == after || len(roles) > 0 && !roles[m.role] {
			continue
		}
		if len(out.Members) == limit {
			out.NextPageToken = nextPageToken(last)
			break
		}
		out.Members = append(out.Members, s.memberResource(m))
		last = m.email
	}
	return out, nil
}
