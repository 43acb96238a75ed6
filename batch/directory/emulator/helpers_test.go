package emulator

import (
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// start serves a new emulator on 127.0.0.1 for the test's lifetime and
// returns it with the official client pointed at it.
func start(t testing.TB, opts Options) (*Server, *admin.Service) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	svc, err := admin.NewService(t.Context(), option.WithEndpoint(ts.URL+"/"), option.WithoutAuthentication(),
		option.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatalf("admin.NewService: %v", err)
	}
	return s, svc
}

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// apiError is what a test expects the client to see.
type apiErr struct {
	code    int
	reason  string
	message string
}

// checkError reports whether err is the *googleapi.Error want describes;
// a zero want means no error.
func checkError(t testing.TB, call string, err error, want apiErr) {
	t.Helper()
	if want == (apiErr{}) {
		if err != nil {
			t.Errorf("%s = %v, want no error", call, err)
		}
		return
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Errorf("%s = %v, want *googleapi.Error %d %s", call, err, want.code, want.reason)
		return
	}
	got := apiErr{code: ge.Code, message: ge.Message}
	if len(ge.Errors) == 1 {
		got.reason = ge.Errors[0].Reason
		if ge.Errors[0].Message != ge.Message {
			t.Errorf("%s: errors[0].message %q, message %q; want equal", call, ge.Errors[0].Message, ge.Message)
		}
	}
	if got != want {
		t.Errorf("%s = %d %s %q, want %d %s %q", call, got.code, got.reason, got.message, want.code, want.reason, want.message)
	}
}

var (
	errWantDuplicate     = apiErr{409, "duplicate", "Entity already exists."}
	errWantMemberExists  = apiErr{409, "duplicate", "Member already exists."}
	errWantUserNotFound  = apiErr{404, "notFound", "Resource Not Found: userKey"}
	errWantGroupNotFound = apiErr{404, "notFound", "Resource Not Found: groupKey"}
	errWantMemberMissing = apiErr{404, "notFound", "Resource Not Found: memberKey"}
	errWantBadOU         = apiErr{400, "invalid", "Invalid Input: INVALID_OU_ID"}
	errWantPassword      = apiErr{400, "invalid", "Invalid Password"}
	errWantGivenName     = apiErr{400, "invalid", "Invalid Given/Family Name: GivenName"}
	errWantFamilyName    = apiErr{400, "invalid", "Invalid Given/Family Name: FamilyName"}
	errWantNotComplete   = apiErr{412, "conditionNotMet", "User creation is not complete."}
	errWantUserRate      = apiErr{403, "userRateLimitExceeded", "User Rate Limit Exceeded"}
	errWantQuota         = apiErr{403, "quotaExceeded", "Quota exceeded"}
	errWantRate429       = apiErr{429, "rateLimitExceeded", "Resource has been exhausted (e.g. check quota)."}
	errWantBackend       = apiErr{503, "backendError", "Service unavailable. Please try again"}
)

// newUser returns a user the emulator accepts.
func newUser(local string) *admin.User {
	return &admin.User{
		PrimaryEmail: local + "@example.com",
		Name:         &admin.UserName{GivenName: "Ada", FamilyName: "Lovelace"},
		Password:     "correct horse battery",
	}
}

// mustInsert creates users or fails the test.
func mustInsert(t testing.TB, svc *admin.Service, users ...*admin.User) {
	t.Helper()
	for _, u := range users {
		if _, err := svc.Users.Insert(u).Do(); err != nil {
			t.Fatalf("Insert(%q) = %v", u.PrimaryEmail, err)
		}
	}
}
