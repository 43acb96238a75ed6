package emulator

var aliasFields = map[string]fieldUse{
	"alias": fieldHandled,
	"etag":  fieldReadOnly, "id": fieldReadOnly, "kind": fieldReadOnly, "primaryEmail": fieldReadOnly,
}

type aliasJSON struct {
	Kind         string `json:"kind"`
	ID           string `json:"id"`
	Etag         string `json:"etag"`
	PrimaryEmail string `json:"primaryEmail"`
	Alias        string `json:"alias"`
}

type aliasesJSON struct {
	Kind    string      `json:"kind"`
	Etag    string      `json:"etag"`
	Aliases []aliasJSON `json:"aliases,omitempty"`
}

// readAlias reads the alias a request body adds, checked like any address
// the account creates.
func (s *Server) readAlias(c *call) (string, error) {
	obj, err := c.object(aliasFields)
	if err != nil {
		return "", err
	}
	var alias string
	if ok, err := decodeField(obj, "alias", &alias); err != nil {
		return "", err
	} else if !ok || alias == "" {
		return "", errRequired("alias")
	}
	return s.checkAddress(alias, "alias")
}

func (s *Server) aliasResource(id, primary, alias string) aliasJSON {
	return aliasJSON{Kind: "admin#directory#alias", ID: id, Etag: s.etag(alias, 0), PrimaryEmail: primary, Alias: alias}
}

func (s *Server) aliasList(id, primary string, aliases []string) aliasesJSON {
	out := aliasesJSON{Kind: "admin#directory#aliases", Etag: s.etag(primary, uint32(len(aliases)))}
	for _, a := range aliases {
		out.Aliases = append(out.Aliases, s.aliasResource(id, primary, a))
	}
	return out
}

// insertUserAlias serves users.aliases.insert. An alias must be free
// across every user's and group's addresses and aliases.
func (s *Server) insertUserAlias(c *call) (any, error) {
	alias, err := s.readAlias(c)
	if err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	u, err := s.userToChange(c, now)
	if err != nil {
		return nil, err
	}
	if d.taken(alias) {
		return nil, errDuplicate()
	}
	u.aliases = append(u.aliases, alias)
	d.aliases[alias] = aliasOwner{user: u}
	u.version++
	return s.aliasResource(formatUserID(u.id), u.email, alias), nil
}

func (s *Server) listUserAliases(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.dir.user(c.params["userKey"])
	if u == nil {
		return nil, errNotFound("userKey")
	}
	return s.aliasList(formatUserID(u.id), u.email, u.aliases), nil
}

func (s *Server) insertGroupAlias(c *call) (any, error) {
	alias, err := s.readAlias(c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	g := d.group(c.params["groupKey"])
	if g == nil {
		return nil, errNotFound("groupKey")
	}
	if d.taken(alias) {
		return nil, errDuplicate()
	}
	g.aliases = append(g.aliases, alias)
	d.aliases[alias] = aliasOwner{group: g}
	g.version++
	return s.aliasResource(g.id, g.email, alias), nil
}

func (s *Server) listGroupAliases(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.dir.group(c.params["groupKey"])
	if g == nil {
		return nil, errNotFound("groupKey")
	}
	return s.aliasList(g.id, g.email, g.aliases), nil
}
