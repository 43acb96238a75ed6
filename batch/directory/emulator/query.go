package emulator

import (
	"iter"
	"slices"
	"strings"
	"time"
)

// userQuery is a parsed users.list query: the subset of Google's user
// search the tool relies on. Clauses are separated by spaces and must all
// match:
//
//	email:john.smith@example.com      primary address, exactly
//	email:john*                       primary address starting with john
//	externalId:12345                  any external id value, exactly
//	givenName:Jo*, familyName:Smith   names, exactly or by prefix
//	orgUnitPath='/Students/Grade 5'   the org unit or any unit below it
//	isSuspended=true, isAdmin=false, isDelegatedAdmin=true
//
// Values may be quoted with ' or ", inside which \' and \" stand for the
// quote and \\ for a backslash, as Google's search syntax has it. Text
// comparisons ignore case. orgUnitPath matches "all org unit chains under
// the target", as Google documents it (orgUnitPath=/ lists everyone), and
// takes = only; the boolean fields take = only, with true or false.
// Anything else is refused with 400 "Invalid query", and a field Google
// knows but the emulator does not answer with "not supported".
type userQuery struct {
	email, emailPrefix           string
	externalID                   string
	givenName, givenNamePrefix   string
	familyName, familyNamePrefix string
	orgUnitPath                  string // orgUnitKey form; "" for any
	suspended, admin, delegated  optionalBool
}

// optionalBool is a boolean clause: unset, or the value it must have.
type optionalBool int8

const (
	anyBool optionalBool = iota
	mustBeTrue
	mustBeFalse
)

func (b optionalBool) allows(v bool) bool {
	return b == anyBool || (b == mustBeTrue) == v
}

// googleOnlyFields are search fields Google has that the emulator does not
// answer: a query with one is refused as unsupported, not as invalid.
var googleOnlyFields = map[string]bool{
	"name": true, "isArchived": true, "im": true, "manager": true, "managerId": true,
	"directManager": true, "directManagerId": true, "address": true, "addressPoBox": true,
	"addressExtended": true, "addressStreet": true, "addressLocality": true, "addressRegion": true,
	"addressPostalCode": true, "addressCountry": true, "orgName": true, "orgTitle": true,
	"orgDepartment": true, "orgDescription": true, "orgCostCenter": true, "phone": true,
	"isEnrolledIn2Sv": true, "isEnforcedIn2Sv": true, "isGuest": true,
}

func parseUserQuery(q string) (*userQuery, error) {
	uq := &userQuery{}
	var err error
	for clause := range queryClauses(q) {
		i := strings.IndexAny(clause, ":=")
		if i <= 0 {
			return nil, errInvalid("Invalid query")
		}
		field, op, raw := clause[:i], clause[i], unquote(clause[i+1:])
		value := strings.ToLower(raw)
		prefix, isPrefix := strings.CutSuffix(value, "*")
		if value == "" || prefix == "" && isPrefix {
			return nil, errInvalid("Invalid query")
		}
		switch field {
		case "email":
			uq.email, uq.emailPrefix = pick(value, prefix, isPrefix)
		case "externalId":
			uq.externalID = value
		case "givenName":
			uq.givenName, uq.givenNamePrefix = pick(value, prefix, isPrefix)
		case "familyName":
			uq.familyName, uq.familyNamePrefix = pick(value, prefix, isPrefix)
		case "orgUnitPath":
			if op != '=' || isPrefix {
				return nil, errInvalid("Invalid query")
			}
			uq.orgUnitPath = orgUnitKey(value)
		case "isSuspended":
			uq.suspended, err = parseBoolClause(op, value)
		case "isAdmin":
			uq.admin, err = parseBoolClause(op, value)
		case "isDelegatedAdmin":
			uq.delegated, err = parseBoolClause(op, value)
		default:
			if googleOnlyFields[field] || strings.Contains(field, ".") {
				return nil, unsupported("query field", field)
			}
			return nil, errInvalid("Invalid query")
		}
		if err != nil {
			return nil, err
		}
	}
	return uq, nil
}

// parseBoolClause reads the value of a boolean clause, which Google takes
// with = only, and true or false.
func parseBoolClause(op byte, value string) (optionalBool, error) {
	switch {
	case op != '=':
		return anyBool, errInvalid("Invalid query")
	case value == "true":
		return mustBeTrue, nil
	case value == "false":
		return mustBeFalse, nil
	}
	return anyBool, errInvalid("Invalid query")
}

func pick(value, prefix string, isPrefix bool) (exact, pre string) {
	if isPrefix {
		return "", prefix
	}
	return value, ""
}

// queryClauses splits a query on spaces outside quotes. Inside quotes a
// backslash escapes the next character.
func queryClauses(q string) iter.Seq[string] {
	return func(yield func(string) bool) {
		var quote byte
		start := -1
		for i := 0; i <= len(q); i++ {
			if i == len(q) || quote == 0 && q[i] == ' ' {
				if start >= 0 && !yield(q[start:i]) {
					return
				}
				start = -1
				continue
			}
			if start < 0 {
				start = i
			}
			switch c := q[i]; {
			case quote != 0 && c == '\\' && i+1 < len(q):
				i++
			case quote == 0 && (c == '\'' || c == '"'):
				quote = c
			case c == quote:
				quote = 0
			}
		}
	}
}

// unquote returns a value without its quotes and escapes.
func unquote(s string) string {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return s
	}
	inner := s[1 : len(s)-1]
	if !strings.Contains(inner, "\\") {
		return inner
	}
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' && i+1 < len(inner) {
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String()
}

// matches reports whether u satisfies every clause. Values are compared
// lowercased with strings.ToLower, as the query's values are, and as the
// external id index is keyed: strings.EqualFold would find ids the index
// does not (ſ folds to s but does not lowercase to it), and slicing a
// name at the byte length of a lowercased prefix cuts some names (İ
// lowercases to two runes) at the wrong place.
func (q *userQuery) matches(u *user) bool {
	switch {
	case q.email != "" && u.email != q.email,
		!strings.HasPrefix(u.email, q.emailPrefix),
		q.externalID != "" && !slices.ContainsFunc(u.externalIDs, func(e ExternalID) bool {
			return strings.ToLower(e.Value) == q.externalID
		}),
		!matchesName(u.givenName, q.givenName, q.givenNamePrefix),
		!matchesName(u.familyName, q.familyName, q.familyNamePrefix),
		q.orgUnitPath != "" && !withinOrgUnit(u.orgUnitPath, q.orgUnitPath),
		!q.suspended.allows(u.suspended),
		!q.admin.allows(u.isAdmin),
		!q.delegated.allows(u.isDelegatedAdmin):
		return false
	}
	return true
}

// withinOrgUnit reports whether the unit at path is the unit key, in
// orgUnitKey form, or below it.
func withinOrgUnit(path, key string) bool {
	p := orgUnitKey(path)
	return key == "/" || p == key || strings.HasPrefix(p, key+"/")
}

// matchesName reports whether name is exact, when exact is set, and starts
// with prefix; exact and prefix are lowercased.
func matchesName(name, exact, prefix string) bool {
	if exact == "" && prefix == "" {
		return true
	}
	name = strings.ToLower(name)
	return (exact == "" || name == exact) && strings.HasPrefix(name, prefix)
}

// candidates yields, in address order from after (exclusive), the users
// that may match: those with the external id, or those in the address
// range, or all.
func (q *userQuery) candidates(d *directory, after string) iter.Seq[*user] {
	return func(yield func(*user) bool) {
		if q.externalID != "" {
			us := slices.Clone(d.byExternalID[q.externalID])
			slices.SortFunc(us, func(a, b *user) int { return strings.Compare(a.email, b.email) })
			for _, u := range us {
				if u.email > after && !yield(u) {
					return
				}
			}
			return
		}
		from := max(after, q.emailPrefix, q.email)
		for u := range d.users.From(from) {
			if u.email == after {
				continue
			}
			if !strings.HasPrefix(u.email, q.emailPrefix) || q.email != "" && u.email != q.email || !yield(u) {
				return
			}
		}
	}
}

type usersJSON struct {
	Kind          string `json:"kind"`
	Etag          string `json:"etag"`
	Users         []any  `json:"users,omitempty"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// listUsers serves users.list in address order. With a query, users
// created less than Faults.SearchLag ago are not found yet.
func (s *Server) listUsers(c *call) (any, error) {
	if err := s.checkScope(c); err != nil {
		return nil, err
	}
	if v := c.query.Get("orderBy"); v != "" && v != "email" {
		return nil, unsupported("orderBy", v)
	}
	if v := c.query.Get("sortOrder"); v != "" && !strings.EqualFold(v, "ASCENDING") {
		return nil, unsupported("sortOrder", v)
	}
	limit, err := c.maxResults(100, 500)
	if err != nil {
		return nil, err
	}
	after, err := c.pageToken()
	if err != nil {
		return nil, err
	}
	q, err := parseUserQuery(c.query.Get("query"))
	if err != nil {
		return nil, err
	}
	proj, err := c.projection()
	if err != nil {
		return nil, err
	}
	var hideAfter time.Time
	if lag := s.currentFaults().SearchLag; lag > 0 && c.query.Get("query") != "" {
		hideAfter = s.now().Add(-lag)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := usersJSON{Kind: "admin#directory#users", Etag: s.etag("users", uint32(s.dir.users.Len()))}
	var last string
	for u := range q.candidates(s.dir, after) {
		if !q.matches(u) || !hideAfter.IsZero() && u.createdTime().After(hideAfter) {
			continue
		}
		if len(out.Users) == limit {
			out.NextPageToken = nextPageToken(last)
			break
		}
		out.Users = append(out.Users, s.userResource(u, proj))
		last = u.email
	}
	return out, nil
}
