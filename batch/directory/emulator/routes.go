package emulator

import (
	"net/http"
	"net/url"
	"strings"
)

// apiPrefix is where Google serves the Directory API, and so does the
// emulator.
const apiPrefix = "/admin/directory/v1/"

// route is one method of the Directory API.
type route struct {
	method  string // HTTP method
	pattern string // path under apiPrefix; {name} is one segment, {+name} the rest
	id      string // Google's method id, the key of Options.Latency
	handle  func(s *Server, c *call) (any, error)
}

// routes lists the methods the emulator serves.
var routes = []route{
	{"POST", "users", "directory.users.insert", (*Server).insertUser},
	{"GET", "users", "directory.users.list", (*Server).listUsers},
	{"GET", "users/{userKey}", "directory.users.get", (*Server).getUser},
	{"PUT", "users/{userKey}", "directory.users.update", (*Server).updateUser},
	{"PATCH", "users/{userKey}", "directory.users.patch", (*Server).updateUser},
	{"DELETE", "users/{userKey}", "directory.users.delete", (*Server).deleteUser},
	{"POST", "users/{userKey}/makeAdmin", "directory.users.makeAdmin", (*Server).makeAdmin},
	{"POST", "users/{userKey}/aliases", "directory.users.aliases.insert", (*Server).insertUserAlias},
	{"GET", "users/{userKey}/aliases", "directory.users.aliases.list", (*Server).listUserAliases},
	{"POST", "groups", "directory.groups.insert", (*Server).insertGroup},
	{"GET", "groups", "directory.groups.list", (*Server).listGroups},
	{"GET", "groups/{groupKey}", "directory.groups.get", (*Server).getGroup},
	{"DELETE", "groups/{groupKey}", "directory.groups.delete", (*Server).deleteGroup},
	{"POST", "groups/{groupKey}/aliases", "directory.groups.aliases.insert", (*Server).insertGroupAlias},
	{"GET", "groups/{groupKey}/aliases", "directory.groups.aliases.list", (*Server).listGroupAliases},
	{"POST", "groups/{groupKey}/members", "directory.members.insert", (*Server).insertMember},
	{"GET", "groups/{groupKey}/members", "directory.members.list", (*Server).listMembers},
	{"GET", "groups/{groupKey}/members/{memberKey}", "directory.members.get", (*Server).getMember},
	{"DELETE", "groups/{groupKey}/members/{memberKey}", "directory.members.delete", (*Server).deleteMember},
	{"GET", "groups/{groupKey}/hasMember/{memberKey}", "directory.members.hasMember", (*Server).hasMember},
	{"POST", "customer/{customerId}/orgunits", "directory.orgunits.insert", (*Server).insertOrgUnit},
	{"GET", "customer/{customerId}/orgunits", "directory.orgunits.list", (*Server).listOrgUnits},
	{"GET", "customer/{customerId}/orgunits/{+orgUnitPath}", "directory.orgunits.get", (*Server).getOrgUnit},
	{"DELETE", "customer/{customerId}/orgunits/{+orgUnitPath}", "directory.orgunits.delete", (*Server).deleteOrgUnit},
}

// knownMethod reports whether id is a method the emulator serves, or "*".
func knownMethod(id string) bool {
	if id == "*" {
		return true
	}
	for _, r := range routes {
		if r.id == id {
			return true
		}
	}
	return false
}

// match finds the route for method and the escaped path under apiPrefix,
// with the values of its parameters, unescaped.
func match(method, escapedPath string) (*route, map[string]string, bool) {
	segs := strings.Split(escapedPath, "/")
	for i := range routes {
		r := &routes[i]
		if r.method != method {
			continue
		}
		if params, ok := matchPattern(r.pattern, segs); ok {
			return r, params, true
		}
	}
	return nil, nil, false
}

func matchPattern(pattern string, segs []string) (map[string]string, bool) {
	pat := strings.Split(pattern, "/")
	params := map[string]string{}
	for i, p := range pat {
		if rest, ok := strings.CutPrefix(p, "{+"); ok {
			if i >= len(segs) {
				return nil, false
			}
			v, err := url.PathUnescape(strings.Join(segs[i:], "/"))
			if err != nil {
				return nil, false
			}
			params[strings.TrimSuffix(rest, "}")] = v
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		if name, ok := strings.CutPrefix(p, "{"); ok {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params[strings.TrimSuffix(name, "}")] = v
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, len(pat) == len(segs)
}

// isWrite reports whether an HTTP method changes the directory.
func isWrite(method string) bool { return method != http.MethodGet }
