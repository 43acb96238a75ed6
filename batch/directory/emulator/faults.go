package emulator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Faults are the failures the emulator injects, in the forms Google's
// Directory API takes. Fractions are between 0 and 1; BackendError,
// RateLimit403, RateLimit429 and QuotaExceeded403 are drawn together for
// each request and add up to at most 1. Every draw comes from Options.Seed.
type Faults struct {
	// BackendError is the fraction of requests answered 503 backendError,
	// with nothing applied.
	BackendError float64
	// RateLimit403 is the fraction answered 403 userRateLimitExceeded.
	RateLimit403 float64
	// RateLimit429 is the fraction answered 429 rateLimitExceeded.
	RateLimit429 float64
	// QuotaExceeded403 is the fraction answered 403 quotaExceeded.
	QuotaExceeded403 float64
	// NotComplete412 is the fraction of mutations touching a user created
	// less than CreationWindow ago (users.update, patch and delete, user
	// aliases, members.insert of that user) answered 412 conditionNotMet
	// "User creation is not complete.", with nothing applied.
	NotComplete412 float64
	// CreationWindow is how long after its creation a user may be answered
	// 412; zero means 2s.
	CreationWindow time.Duration
	// MemberNotFoundWindow makes members.insert of a user created less
	// than this long ago answer 404 "Resource Not Found: memberKey", every
	// time, as Google does while a new account propagates.
	MemberNotFoundWindow time.Duration
	// SearchLag hides users created less than this long ago from
	// users.list with a query, as Google's search index lags behind.
	SearchLag time.Duration
	// DropAfterSuccess is the fraction of successful writes whose change is
	// applied and whose connection is then closed without an answer, so the
	// client sees EOF or a reset and cannot know the outcome.
	DropAfterSuccess float64

	// Systemic refusals: every request in scope is answered, every time,
	// with Google's answer for a setup that cannot work, and nothing is
	// applied. They are checked before the quota and the drawn faults, in
	// this order.

	// Unauthorized answers 401 authError "Invalid Credentials": the access
	// token was not accepted.
	Unauthorized Scope
	// AccessNotConfigured answers 403 accessNotConfigured "Admin SDK API
	// has not been used in project … before or it is disabled.".
	AccessNotConfigured Scope
	// Forbidden answers 403 forbidden "Not Authorized to access this
	// resource/api": the acting admin lacks the privilege. ScopeWrites is
	// an admin who may read but not change the directory.
	Forbidden Scope
	// DomainNotFound answers 404 notFound "Domain not found.".
	DomainNotFound Scope
	// UserLimit, when positive, is the most users the account may hold:
	// users.insert answers 412 limitExceeded "Domain user limit reached."
	// once the directory holds that many (after its own checks, so an
	// invalid user is still 400 and a taken address 409).
	UserLimit int
}

// defaultCreationWindow is the CreationWindow when none is given.
const defaultCreationWindow = 2 * time.Second

// Validate reports whether f is usable: fractions in [0, 1], the four
// per-request fractions adding up to at most 1, no negative duration.
func (f Faults) Validate() error {
	var errs []error
	for _, p := range []struct {
		name string
		v    float64
	}{
		{"503", f.BackendError}, {"403", f.RateLimit403}, {"429", f.RateLimit429},
		{"quota", f.QuotaExceeded403}, {"412", f.NotComplete412}, {"drop", f.DropAfterSuccess},
	} {
		if !(p.v >= 0 && p.v <= 1) {
			errs = append(errs, fmt.Errorf("fault %s=%v: want a fraction between 0 and 1", p.name, p.v))
		}
	}
	if sum := f.BackendError + f.RateLimit403 + f.RateLimit429 + f.QuotaExceeded403; sum > 1 {
		errs = append(errs, fmt.Errorf("faults 503, 403, 429 and quota add up to %v, more than 1", sum))
	}
	for _, sc := range []struct {
		name string
		v    Scope
	}{
		{"unauthorized", f.Unauthorized}, {"accessNotConfigured", f.AccessNotConfigured},
		{"forbidden", f.Forbidden}, {"domainNotFound", f.DomainNotFound},
	} {
		if err := sc.v.validate(); err != nil {
			errs = append(errs, fmt.Errorf("fault %s: %w", sc.name, err))
		}
	}
	if f.UserLimit < 0 {
		errs = append(errs, fmt.Errorf("fault userLimit=%d: want a positive number of users", f.UserLimit))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"window", f.CreationWindow}, {"member404", f.MemberNotFoundWindow}, {"searchlag", f.SearchLag},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("fault %s=%v: negative duration", d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

func (f Faults) withDefaults() Faults {
	if f.CreationWindow == 0 {
		f.CreationWindow = defaultCreationWindow
	}
	return f
}

// ParseFaults parses the --faults flag: a comma-separated list of
// kind=value where kind is one of
//
//	503=F        backendError
//	403=F        userRateLimitExceeded
//	429=F        rateLimitExceeded
//	quota=F      403 quotaExceeded
//	412=F        "User creation is not complete." within the creation window
//	window=D     the creation window (default 2s)
//	member404=D  members.insert of a user younger than D answers 404
//	searchlag=D  users.list queries miss users younger than D
//	drop=F       successful writes whose connection is then dropped
//
// with F a fraction ("0.05") or a percentage ("5%") and D a duration
// ("2s"), for example "503=0.1,403=0.05,429=0.02,drop=0.02,412=0.01,member404=2s";
// or one of the systemic refusals, answered every time:
//
//	unauthorized=S         401 "Invalid Credentials"
//	accessNotConfigured=S  403 "Admin SDK API has not been used in project …"
//	forbidden=S            403 "Not Authorized to access this resource/api"
//	domainNotFound=S       404 "Domain not found."
//	userLimit=N            users.insert answers 412 "Domain user limit reached."
//	                       once the directory holds N users
//
// with S a scope: all (the default when "=S" is left out), writes, or one
// method such as members.insert; for example "forbidden=writes".
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, value, ok := strings.Cut(item, "=")
		if _, refusal := refusalKinds[strings.TrimSpace(kind)]; !ok && refusal {
			value, ok = string(ScopeAll), true
		}
		if !ok {
			return Faults{}, fmt.Errorf("fault %q: want kind=value", item)
		}
		kind, value = strings.TrimSpace(kind), strings.TrimSpace(value)
		if seen[kind] {
			return Faults{}, fmt.Errorf("fault %q: %s given twice", item, kind)
		}
		seen[kind] = true
		var err error
		switch kind {
		case "503":
			f.BackendError, err = parseFraction(value)
		case "403":
			f.RateLimit403, err = parseFraction(value)
		case "429":
			f.RateLimit429, err = parseFraction(value)
		case "quota":
			f.QuotaExceeded403, err = parseFraction(value)
		case "412":
			f.NotComplete412, err = parseFraction(value)
		case "drop":
			f.DropAfterSuccess, err = parseFraction(value)
		case "window":
			f.CreationWindow, err = time.ParseDuration(value)
		case "member404":
			f.MemberNotFoundWindow, err = time.ParseDuration(value)
		case "searchlag":
			f.SearchLag, err = time.ParseDuration(value)
		case "userLimit":
			f.UserLimit, err = strconv.Atoi(value)
			if err != nil || f.UserLimit < 1 {
				err = fmt.Errorf("invalid number of users %q", value)
			}
		default:
			if field, ok := refusalKinds[kind]; ok {
				*field(&f) = Scope(value)
				err = Scope(value).validate()
				break
			}
			err = errors.New("unknown kind; want 503, 403, 429, quota, 412, window, member404, searchlag, drop, " +
				"unauthorized, accessNotConfigured, forbidden, domainNotFound or userLimit")
		}
		if err != nil {
			return Faults{}, fmt.Errorf("fault %q: %w", item, err)
		}
	}
	if err := f.Validate(); err != nil {
		return Faults{}, err
	}
	return f, nil
}

// refusalKinds maps the --faults kinds of the scoped refusals to their
// field.
var refusalKinds = map[string]func(*Faults) *Scope{
	"unauthorized":        func(f *Faults) *Scope { return &f.Unauthorized },
	"accessNotConfigured": func(f *Faults) *Scope { return &f.AccessNotConfigured },
	"forbidden":           func(f *Faults) *Scope { return &f.Forbidden },
	"domainNotFound":      func(f *Faults) *Scope { return &f.DomainNotFound },
}

func parseFraction(s string) (float64, error) {
	pct, isPct := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(pct, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid fraction %q", s)
	}
	if isPct {
		v /= 100
	}
	return v, nil
}

// Fault kinds as counted in Stats.Faults.
const (
	faultBackend        = "backendError"
	faultUserRateLimit  = "userRateLimitExceeded"
	faultRateLimit      = "rateLimitExceeded"
	faultQuotaExceeded  = "quotaExceeded"
	faultNotComplete    = "conditionNotMet"
	faultMemberNotFound = "memberNotFound"
	faultDropped        = "dropped"
)

// SetFaults replaces the faults injected from now on, so a test can switch
// a refusal on, run, switch it off (the fix) and run again. It panics if f
// is invalid (see Faults.Validate), as a test that sets impossible faults
// has a bug.
func (s *Server) SetFaults(f Faults) {
	if err := f.Validate(); err != nil {
		panic("emulator: SetFaults: " + err.Error())
	}
	s.faultMu.Lock()
	s.faults = f.withDefaults()
	s.faultMu.Unlock()
}

// Faults returns the faults injected now; change a field and give them to
// SetFaults to switch one fault on or off.
func (s *Server) Faults() Faults { return s.currentFaults() }

func (s *Server) currentFaults() Faults {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults
}

// requestFault draws the fault, if any, that answers this request before
// it is looked at.
func (s *Server) requestFault() *apiError {
	f := s.currentFaults()
	if f.BackendError+f.RateLimit403+f.RateLimit429+f.QuotaExceeded403 == 0 {
		return nil
	}
	u := s.faultRand.Float64()
	for _, c := range []struct {
		p    float64
		kind string
		err  func() *apiError
	}{
		{f.BackendError, faultBackend, errBackend},
		{f.RateLimit403, faultUserRateLimit, errUserRateLimit},
		{f.RateLimit429, faultRateLimit, errRateLimit},
		{f.QuotaExceeded403, faultQuotaExceeded, errQuotaExceeded},
	} {
		if u < c.p {
			s.stats.fault(c.kind)
			return c.err()
		}
		u -= c.p
	}
	return nil
}

// creationIncomplete draws whether a mutation touching u, made at now, is
// answered 412 "User creation is not complete.".
func (s *Server) creationIncomplete(u *user, now time.Time) *apiError {
	f := s.currentFaults()
	if f.NotComplete412 == 0 || now.Sub(u.createdTime()) >= f.CreationWindow {
		return nil
	}
	if s.faultRand.Float64() >= f.NotComplete412 {
		return nil
	}
	s.stats.fault(faultNotComplete)
	return errNotComplete()
}

// memberPropagating reports whether u is too new to be added to a group.
func (s *Server) memberPropagating(u *user, now time.Time) *apiError {
	if now.Sub(u.createdTime()) >= s.currentFaults().MemberNotFoundWindow {
		return nil
	}
	s.stats.fault(faultMemberNotFound)
	return errNotFound("memberKey")
}

// dropAfterSuccess draws whether the answer to a successful write is lost.
func (s *Server) dropAfterSuccess() bool {
	p := s.currentFaults().DropAfterSuccess
	return p > 0 && s.faultRand.Float64() < p
}
