package emulator

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// ExternalID is one of a user's external ids, such as a student number.
type ExternalID struct {
	Value      string `json:"value"`
	Type       string `json:"type,omitempty"`
	CustomType string `json:"customType,omitempty"`
}

// userFields lists the fields of Google's User resource and what the
// emulator does with each in a request body.
var userFields = map[string]fieldUse{
	"primaryEmail": fieldHandled, "name": fieldHandled, "password": fieldHandled,
	"hashFunction": fieldHandled, "orgUnitPath": fieldHandled, "externalIds": fieldHandled,
	"suspended": fieldHandled, "changePasswordAtNextLogin": fieldHandled,

	"addresses": fieldStored, "archived": fieldStored, "customSchemas": fieldStored,
	"emails": fieldStored, "gender": fieldStored, "ims": fieldStored,
	"includeInGlobalAddressList": fieldStored, "ipWhitelisted": fieldStored,
	"keywords": fieldStored, "languages": fieldStored, "locations": fieldStored,
	"notes": fieldStored, "organizations": fieldStored, "phones": fieldStored,
	"posixAccounts": fieldStored, "recoveryEmail": fieldStored, "recoveryPhone": fieldStored,
	"relations": fieldStored, "sshPublicKeys": fieldStored, "websites": fieldStored,

	"agreedToTerms": fieldReadOnly, "aliases": fieldReadOnly, "archivalTime": fieldReadOnly,
	"creationTime": fieldReadOnly, "customerId": fieldReadOnly, "deletionTime": fieldReadOnly,
	"etag": fieldReadOnly, "guestAccountInfo": fieldReadOnly, "id": fieldReadOnly,
	"isAdmin": fieldReadOnly, "isDelegatedAdmin": fieldReadOnly, "isEnforcedIn2Sv": fieldReadOnly,
	"isEnrolledIn2Sv": fieldReadOnly, "isGuestUser": fieldReadOnly, "isMailboxSetup": fieldReadOnly,
	"kind": fieldReadOnly, "lastLoginTime": fieldReadOnly, "nonEditableAliases": fieldReadOnly,
	"suspensionReason": fieldReadOnly, "suspensionTime": fieldReadOnly,
	"thumbnailPhotoEtag": fieldReadOnly, "thumbnailPhotoUrl": fieldReadOnly,
}

var userNameFields = map[string]fieldUse{
	"givenName": fieldHandled, "familyName": fieldHandled, "displayName": fieldHandled,
	"fullName": fieldReadOnly,
}

// userInput is a User resource as sent; nil fields were not sent.
type userInput struct {
	primaryEmail  *string
	givenName     *string
	familyName    *string
	displayName   *string
	hasName       bool
	password      *string
	hashFunction  string
	orgUnitPath   *string
	externalIDs   *[]ExternalID
	suspended     *bool
	changePwdNext *bool
	stored        map[string]json.RawMessage // fieldStored members; JSON null deletes
}

func parseUserInput(obj map[string]json.RawMessage) (*userInput, error) {
	in := &userInput{stored: map[string]json.RawMessage{}}
	for _, f := range []struct {
		name string
		dst  any
	}{
		{"primaryEmail", &in.primaryEmail}, {"password", &in.password},
		{"hashFunction", &in.hashFunction}, {"orgUnitPath", &in.orgUnitPath},
		{"externalIds", &in.externalIDs}, {"suspended", &in.suspended},
		{"changePasswordAtNextLogin", &in.changePwdNext},
	} {
		if _, err := decodeField(obj, f.name, f.dst); err != nil {
			return nil, err
		}
	}
	if raw, ok := obj["name"]; ok && string(raw) != "null" {
		name, err := decodeObject(raw, userNameFields)
		if err != nil {
			return nil, err
		}
		in.hasName = true
		for _, f := range []struct {
			name string
			dst  **string
		}{{"givenName", &in.givenName}, {"familyName", &in.familyName}, {"displayName", &in.displayName}} {
			if _, err := decodeField(name, f.name, f.dst); err != nil {
				return nil, err
			}
		}
	}
	for name, raw := range obj {
		if userFields[name] == fieldStored {
			in.stored[name] = raw
		}
	}
	return in, nil
}

// check validates the fields sent. A new user must send every required
// field; an update only the ones it changes.
func (in *userInput) check(s *Server, create bool) (addr string, err error) {
	if in.primaryEmail != nil || create {
		if in.primaryEmail == nil {
			return "", errInvalidInput("primary_user_email")
		}
		if addr, err = s.checkAddress(*in.primaryEmail, "primary_user_email"); err != nil {
			return "", err
		}
	}
	if create || in.givenName != nil {
		if err := checkName(in.givenName, "GivenName"); err != nil {
			return "", err
		}
	}
	if create || in.familyName != nil {
		if err := checkName(in.familyName, "FamilyName"); err != nil {
			return "", err
		}
	}
	if in.password != nil || create {
		if in.password == nil {
			return "", errInvalidPassword()
		}
		if err := checkPassword(*in.password, in.hashFunction); err != nil {
			return "", err
		}
	}
	if in.externalIDs != nil {
		for _, e := range *in.externalIDs {
			if strings.TrimSpace(e.Value) == "" {
				return "", errInvalidInput("externalIds")
			}
		}
	}
	return addr, nil
}

// apply sets the fields sent on u, which the directory already indexes.
func (in *userInput) apply(d *directory, u *user, ou *orgUnit) {
	if in.givenName != nil {
		u.givenName = strings.TrimSpace(*in.givenName)
	}
	if in.familyName != nil {
		u.familyName = strings.TrimSpace(*in.familyName)
	}
	if in.displayName != nil {
		u.displayName = *in.displayName
	}
	if ou != nil {
		u.orgUnitPath = ou.path
	}
	if in.externalIDs != nil {
		d.setExternalIDs(u, slices.Clone(*in.externalIDs))
	}
	if in.suspended != nil {
		u.suspended = *in.suspended
	}
	if in.changePwdNext != nil {
		u.changePasswordAtNextLogin = *in.changePwdNext
	}
	for name, raw := range in.stored {
		if string(raw) == "null" {
			delete(u.extra, name)
			continue
		}
		if u.extra == nil {
			u.extra = map[string]json.RawMessage{}
		}
		u.extra[name] = raw
	}
	if len(u.extra) == 0 {
		u.extra = nil
	}
}

// resolveOrgUnit returns the org unit a user input names, nil when it
// names none, or "Invalid Input: INVALID_OU_ID".
func (d *directory) resolveOrgUnit(path *string) (*orgUnit, error) {
	if path == nil {
		return nil, nil
	}
	ou := d.orgUnit(*path)
	if ou == nil {
		return nil, errInvalidInput("INVALID_OU_ID")
	}
	return ou, nil
}

func (s *Server) insertUser(c *call) (any, error) {
	obj, err := c.object(userFields)
	if err != nil {
		return nil, err
	}
	in, err := parseUserInput(obj)
	if err != nil {
		return nil, err
	}
	addr, err := in.check(s, true)
	if err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	ou, err := d.resolveOrgUnit(in.orgUnitPath)
	if err != nil {
		return nil, err
	}
	if ou == nil {
		ou = d.orgUnit("/")
	}
	if d.taken(addr) {
		return nil, errDuplicate()
	}
	if e := s.userLimitReached(d); e != nil {
		return nil, e
	}
	u := &user{id: d.newUserID(), email: addr, created: now.UnixMilli()}
	d.addUser(u)
	in.apply(d, u, ou)
	return s.userResource(u), nil
}

func (s *Server) getUser(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.dir.user(c.params["userKey"])
	if u == nil {
		return nil, errNotFound("userKey")
	}
	return s.userResource(u), nil
}

// updateUser serves both users.update and users.patch: Google's update
// has patch semantics, changing only the fields sent.
func (s *Server) updateUser(c *call) (any, error) {
	obj, err := c.object(userFields)
	if err != nil {
		return nil, err
	}
	in, err := parseUserInput(obj)
	if err != nil {
		return nil, err
	}
	addr, err := in.check(s, false)
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
	ou, err := d.resolveOrgUnit(in.orgUnitPath)
	if err != nil {
		return nil, err
	}
	if addr != "" && addr != u.email {
		if d.taken(addr) && d.aliases[addr].user != u {
			return nil, errDuplicate()
		}
		d.renameUser(u, addr)
	}
	in.apply(d, u, ou)
	u.version++
	return s.userResource(u), nil
}

// userToChange finds the user a mutation names by userKey: 404 when there
// is none, 412 (as the faults say) when it was created moments ago. s.mu
// must be held.
func (s *Server) userToChange(c *call, now time.Time) (*user, error) {
	u := s.dir.user(c.params["userKey"])
	if u == nil {
		return nil, errNotFound("userKey")
	}
	if e := s.creationIncomplete(u, now); e != nil {
		return nil, e
	}
	return u, nil
}

func (s *Server) deleteUser(c *call) (any, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userToChange(c, now)
	if err != nil {
		return nil, err
	}
	s.dir.removeUser(u)
	return nil, nil
}

// userJSON is Google's User resource as the emulator answers it.
type userJSON struct {
	Kind                       string       `json:"kind"`
	ID                         string       `json:"id"`
	Etag                       string       `json:"etag"`
	PrimaryEmail               string       `json:"primaryEmail"`
	Name                       userNameJSON `json:"name"`
	IsAdmin                    bool         `json:"isAdmin"`
	IsDelegatedAdmin           bool         `json:"isDelegatedAdmin"`
	LastLoginTime              string       `json:"lastLoginTime"`
	CreationTime               string       `json:"creationTime"`
	AgreedToTerms              bool         `json:"agreedToTerms"`
	Suspended                  bool         `json:"suspended"`
	Archived                   bool         `json:"archived"`
	ChangePasswordAtNextLogin  bool         `json:"changePasswordAtNextLogin"`
	IPWhitelisted              bool         `json:"ipWhitelisted"`
	Emails                     []emailJSON  `json:"emails"`
	ExternalIDs                []ExternalID `json:"externalIds,omitempty"`
	Aliases                    []string     `json:"aliases,omitempty"`
	NonEditableAliases         []string     `json:"nonEditableAliases,omitempty"`
	CustomerID                 string       `json:"customerId"`
	OrgUnitPath                string       `json:"orgUnitPath"`
	IsMailboxSetup             bool         `json:"isMailboxSetup"`
	IsEnrolledIn2Sv            bool         `json:"isEnrolledIn2Sv"`
	IsEnforcedIn2Sv            bool         `json:"isEnforcedIn2Sv"`
	IncludeInGlobalAddressList bool         `json:"includeInGlobalAddressList"`
}

type userNameJSON struct {
	GivenName   string `json:"givenName"`
	FamilyName  string `json:"familyName"`
	FullName    string `json:"fullName"`
	DisplayName string `json:"displayName,omitempty"`
}

type emailJSON struct {
	Address string `json:"address"`
	Primary bool   `json:"primary,omitempty"`
}

// userWithExtra is a user resource with stored fields, which replace the
// defaults of userJSON.
type userWithExtra struct {
	userJSON
	extra map[string]json.RawMessage
}

// MarshalJSON writes the resource with its stored fields.
func (u userWithExtra) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(u.userJSON)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	maps.Copy(obj, u.extra)
	return json.Marshal(obj)
}

// userResource renders u: a userJSON, or a userWithExtra when u has stored
// fields. It copies what it needs, so the result can be marshaled after
// the lock is released.
func (s *Server) userResource(u *user) any {
	emails := make([]emailJSON, 0, 1+len(u.aliases))
	emails = append(emails, emailJSON{Address: u.email, Primary: true})
	for _, a := range u.aliases {
		emails = append(emails, emailJSON{Address: a})
	}
	local, domain, _ := strings.Cut(u.email, "@")
	out := userJSON{
		Kind:         "admin#directory#user",
		ID:           formatUserID(u.id),
		Etag:         s.etag(u.email, u.version),
		PrimaryEmail: u.email,
		Name: userNameJSON{
			GivenName:   u.givenName,
			FamilyName:  u.familyName,
			FullName:    u.givenName + " " + u.familyName,
			DisplayName: u.displayName,
		},
		LastLoginTime:              "1970-01-01T00:00:00.000Z",
		CreationTime:               formatTime(u.createdTime()),
		Suspended:                  u.suspended,
		ChangePasswordAtNextLogin:  u.changePasswordAtNextLogin,
		Emails:                     emails,
		ExternalIDs:                slices.Clone(u.externalIDs),
		Aliases:                    slices.Clone(u.aliases),
		NonEditableAliases:         []string{local + "@" + domain + ".test-google-a.com"},
		CustomerID:                 s.opts.CustomerID,
		OrgUnitPath:                u.orgUnitPath,
		IsMailboxSetup:             true,
		IncludeInGlobalAddressList: true,
	}
	if len(u.extra) > 0 {
		return userWithExtra{out, maps.Clone(u.extra)}
	}
	return out
}
