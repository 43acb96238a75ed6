package emulator

import (
	"strconv"
	"strings"
)

var groupFields = map[string]fieldUse{
	"email": fieldHandled, "name": fieldHandled, "description": fieldHandled,
	"externalIds":  fieldUnsupported,
	"adminCreated": fieldReadOnly, "aliases": fieldReadOnly, "directMembersCount": fieldReadOnly,
	"etag": fieldReadOnly, "id": fieldReadOnly, "kind": fieldReadOnly, "nonEditableAliases": fieldReadOnly,
}

type groupJSON struct {
	Kind               string   `json:"kind"`
	ID                 string   `json:"id"`
	Etag               string   `json:"etag"`
	Email              string   `json:"email"`
	Name               string   `json:"name"`
	DirectMembersCount string   `json:"directMembersCount"`
	Description        string   `json:"description"`
	AdminCreated       bool     `json:"adminCreated"`
	Aliases            []string `json:"aliases,omitempty"`
	NonEditableAliases []string `json:"nonEditableAliases,omitempty"`
}

type groupsJSON struct {
	Kind          string      `json:"kind"`
	Etag          string      `json:"etag"`
	Groups        []groupJSON `json:"groups,omitempty"`
	NextPageToken string      `json:"nextPageToken,omitempty"`
}

func (s *Server) groupResource(g *group) groupJSON {
	local, domain, _ := strings.Cut(g.email, "@")
	return groupJSON{
		Kind:               "admin#directory#group",
		ID:                 g.id,
		Etag:               s.etag(g.id, g.version),
		Email:              g.email,
		Name:               g.name,
		DirectMembersCount: strconv.Itoa(g.members.Len()),
		Description:        g.description,
		AdminCreated:       true,
		Aliases:            append([]string(nil), g.aliases...),
		NonEditableAliases: []string{local + "@" + domain + ".test-google-a.com"},
	}
}

func (s *Server) insertGroup(c *call) (any, error) {
	obj, err := c.object(groupFields)
	if err != nil {
		return nil, err
	}
	var email, name, description string
	if err := decodeStrings(obj, stringField{"email", &email}, stringField{"name", &name}, stringField{"description", &description}); err != nil {
		return nil, err
	}
	if email == "" {
		return nil, errRequired("email")
	}
	addr, err := s.checkAddress(email, "email")
	if err != nil {
		return nil, err
	}
	if name == "" {
		name, _, _ = strings.Cut(addr, "@")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	if d.taken(addr) {
		return nil, errDuplicate()
	}
	g := newGroup(d.newGroupID(), addr, name, description)
	d.addGroup(g)
	return s.groupResource(g), nil
}

func (s *Server) getGroup(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.dir.group(c.params["groupKey"])
	if g == nil {
		return nil, errNotFound("groupKey")
	}
	return s.groupResource(g), nil
}

// deleteGroup serves groups.delete: the group goes with its aliases and
// its memberships in other groups; its members stay. Google deletes a
// group whatever it holds.
func (s *Server) deleteGroup(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.dir.group(c.params["groupKey"])
	if g == nil {
		return nil, errNotFound("groupKey")
	}
	s.dir.removeGroup(g)
	return nil, nil
}

// listGroups serves groups.list in address order: the account's groups,
// or with userKey those the user or group is a direct member of.
func (s *Server) listGroups(c *call) (any, error) {
	userKey := c.query.Get("userKey")
	if userKey == "" {
		if err := s.checkScope(c); err != nil {
			return nil, err
		}
	}
	for _, p := range []string{"query", "sortOrder"} {
		if v := c.query.Get(p); v != "" {
			return nil, unsupported(p, v)
		}
	}
	if v := c.query.Get("orderBy"); v != "" && v != "email" {
		return nil, unsupported("orderBy", v)
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
	d := s.dir
	var memberAddr string
	if userKey != "" {
		if u := d.user(userKey); u != nil {
			memberAddr = u.email
		} else if g := d.group(userKey); g != nil {
			memberAddr = g.email
		} else {
			return nil, errNotFound("userKey")
		}
	}
	out := groupsJSON{Kind: "admin#directory#groups", Etag: s.etag("groups", uint32(d.groups.Len()))}
	var last string
	for g := range d.groups.From(after) {
		if g.email == after {
			continue
		}
		if memberAddr != "" {
			if _, ok := g.members.Get(memberAddr); !ok {
				continue
			}
		}
		if len(out.Groups) == limit {
			out.NextPageToken = nextPageToken(last)
			break
		}
		out.Groups = append(out.Groups, s.groupResource(g))
		last = g.email
	}
	return out, nil
}
