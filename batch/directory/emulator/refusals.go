package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// Scope selects the requests a refusal answers: "" none, "all" every API
// request, "writes" every request that would change the directory (reads
// are answered as usual), or the requests of one method, named by its id
// with or without the "directory." prefix ("members.insert").
type Scope string

// Scopes with a meaning of their own.
const (
	ScopeNone   Scope = ""
	ScopeAll    Scope = "all"
	ScopeWrites Scope = "writes"
)

func (sc Scope) validate() error {
	switch sc {
	case ScopeNone, ScopeAll, ScopeWrites:
		return nil
	}
	if id := sc.method(); id != "*" && knownMethod(id) {
		return nil
	}
	return fmt.Errorf("scope %q: want all, writes or a method such as users.insert", string(sc))
}

// method returns the method id sc names.
func (sc Scope) method() string {
	if strings.HasPrefix(string(sc), "directory.") {
		return string(sc)
	}
	return "directory." + string(sc)
}

// covers reports whether sc selects a request to the method id with the
// HTTP method httpMethod.
func (sc Scope) covers(id, httpMethod string) bool {
	switch sc {
	case ScopeNone:
		return false
	case ScopeAll:
		return true
	case ScopeWrites:
		return isWrite(httpMethod)
	}
	return sc.method() == id
}

// Fault kinds of the refusals as counted in Stats.Faults.
const (
	faultUnauthorized        = "unauthorized"
	faultAccessNotConfigured = "accessNotConfigured"
	faultForbidden           = "forbidden"
	faultDomainNotFound      = "domainNotFound"
	faultUserLimit           = "limitExceeded"
)

// refusal returns the systemic refusal, if any, that answers a request to
// the method id before anything else is looked at, in the order Google
// checks: the token, the project's API, the account's rights, the domain.
func (s *Server) refusal(id string, r *http.Request) *apiError {
	f := s.currentFaults()
	for _, c := range []struct {
		scope Scope
		kind  string
		err   func() *apiError
	}{
		{f.Unauthorized, faultUnauthorized, errUnauthorized},
		{f.AccessNotConfigured, faultAccessNotConfigured, errAccessNotConfigured},
		{f.Forbidden, faultForbidden, errForbidden},
		{f.DomainNotFound, faultDomainNotFound, errDomainNotFound},
	} {
		if c.scope.covers(id, r.Method) {
			s.stats.fault(c.kind)
			return c.err()
		}
	}
	return nil
}

// userLimitReached reports whether a users.insert must be refused because
// the directory, d, holds Faults.UserLimit users or more. The caller holds
// the write lock.
func (s *Server) userLimitReached(d *directory) *apiError {
	limit := s.currentFaults().UserLimit
	if limit <= 0 || d.users.Len() < limit {
		return nil
	}
	s.stats.fault(faultUserLimit)
	return errUserLimit()
}
