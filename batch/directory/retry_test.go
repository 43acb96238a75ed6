package directory

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

func gerr(code int, reason, message string) *googleapi.Error {
	return &googleapi.Error{Code: code, Message: message, Errors: []googleapi.ErrorItem{{Reason: reason, Message: message}}}
}

func TestClassify(t *testing.T) {
	read := operation{name: "users.get"}
	insert := operation{name: "users.insert", write: unsafe}
	member := func(f Freshness) operation {
		return operation{name: "members.insert", fresh: f, lag: memberKeyNotFound}
	}
	patch := func(f Freshness) operation {
		return operation{name: "users.patch", fresh: f, lag: anyNotFound}
	}
	reset := &url.Error{Op: "Post", URL: "http://x", Err: syscall.ECONNRESET}
	refused := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	eof := &url.Error{Op: "Post", URL: "http://x", Err: io.EOF}
	badCert := &url.Error{Op: "Get", URL: "https://x", Err: &tls.CertificateVerificationError{Err: errors.New("unknown authority")}}
	memberMissing := gerr(404, "notFound", "Resource Not Found: memberKey")
	groupMissing := gerr(404, "notFound", "Resource Not Found: groupKey")
	forbidden := gerr(403, "forbidden", "Not Authorized to access this resource/api")

	tests := []struct {
		name string
		op   operation
		err  error
		want verdict
	}{
		{"read 503", read, gerr(503, "backendError", "x"), retry},
		{"read 500", read, gerr(500, "internalError", "x"), retry},
		{"read 502 without body", read, &googleapi.Error{Code: 502}, retry},
		{"read 504", read, gerr(504, "", "x"), retry},
		{"read 501", read, gerr(501, "", "x"), fail},
		{"read 429", read, gerr(429, "rateLimitExceeded", "x"), throttled},
		{"read 403 userRateLimitExceeded", read, gerr(403, reasonUserRateLimitExceeded, "x"), throttled},
		{"read 403 rateLimitExceeded", read, gerr(403, reasonRateLimitExceeded, "x"), throttled},
		{"read 403 quotaExceeded", read, gerr(403, reasonQuotaExceeded, "x"), throttled},
		{"read 403 forbidden", read, forbidden, systemic},
		{"read 403 other forbidden", read, gerr(403, "forbidden", "Cannot delete primary admin."), fail},
		{"read 404 domain not found", read, gerr(404, "notFound", "Domain not found."), systemic},
		{"read 403 API disabled", read, gerr(403, "accessNotConfigured", "Admin SDK API has not been used in project 1 before or it is disabled."), systemic},
		{"read 400", read, gerr(400, "invalid", "x"), fail},
		{"read 401", read, gerr(401, "authError", "x"), systemic},
		{"read 404", read, gerr(404, "notFound", "x"), fail},
		{"read 409", read, gerr(409, "duplicate", "x"), fail},
		{"read 412", read, gerr(412, "conditionNotMet", "x"), settling},
		{"read reset", read, reset, retry},
		{"read EOF", read, eof, retry},
		{"read cut body", read, io.ErrUnexpectedEOF, retry},
		{"read refused", read, refused, retry},
		{"read bad certificate", read, badCert, fail},
		{"read other error", read, errors.New("boom"), fail},
		{"insert 503", insert, gerr(503, "backendError", "x"), outcomeUnknown},
		{"insert 500", insert, gerr(500, "", "x"), outcomeUnknown},
		{"insert reset", insert, reset, outcomeUnknown},
		{"insert EOF", insert, eof, outcomeUnknown},
		{"insert timeout", insert, &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, outcomeUnknown},
		{"insert refused", insert, refused, retry},
		{"insert 429", insert, gerr(429, "rateLimitExceeded", "x"), throttled},
		{"insert 403 rate", insert, gerr(403, reasonUserRateLimitExceeded, "x"), throttled},
		{"insert 409", insert, gerr(409, "duplicate", "x"), fail},
		{"insert 403 forbidden", insert, forbidden, systemic},
		{"insert 412 user limit", insert, gerr(412, "limitExceeded", "Domain user limit reached."), systemic},
		{"insert token refused", insert, &url.Error{Op: "Post", URL: "http://x", Err: &CredentialsError{Err: errors.New("invalid_grant")}}, fail},
		{"insert token endpoint down", insert, &url.Error{Op: "Post", URL: "http://x", Err: &CredentialsError{Err: errors.New("503"), transient: true}}, retry},
		{"member 404 memberKey, just created", member(JustCreated), memberMissing, settling},
		{"member 404 memberKey, settled", member(Settled), memberMissing, fail},
		{"member 404 groupKey, just created", member(JustCreated), groupMissing, fail},
		{"member 403, just created", member(JustCreated), forbidden, settling},
		{"member 403, settled", member(Settled), forbidden, systemic},
		{"member 403 API disabled, just created", member(JustCreated), gerr(403, "accessNotConfigured", "x"), systemic},
		{"member 412, settled", member(Settled), gerr(412, "conditionNotMet", "User creation is not complete."), settling},
		{"member 503", member(Settled), gerr(503, "backendError", "x"), retry},
		{"member reset", member(Settled), reset, retry},
		{"patch 404, just created", patch(JustCreated), gerr(404, "notFound", "Resource Not Found: userKey"), settling},
		{"patch 404, settled", patch(Settled), gerr(404, "notFound", "Resource Not Found: userKey"), fail},
		{"patch 404 domain not found, just created", patch(JustCreated), gerr(404, "notFound", "Domain not found."), systemic},
		{"org unit delete 412", operation{name: "orgunits.delete", userless: true}, gerr(412, "conditionNotMet", "x"), fail},
		{"group delete 503", operation{name: "groups.delete", userless: true}, gerr(503, "backendError", "x"), retry},
		{"user delete 412", operation{name: "users.delete"}, gerr(412, "conditionNotMet", "User creation is not complete."), settling},
		{"read refused redirect", read, &url.Error{Op: "Get", URL: "https://x", Err: &EndpointError{URL: "http://x", Reason: "plain http"}}, fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.op, tt.err); got != tt.want {
				t.Errorf("classify(%s, %v) = %d, want %d", tt.op.name, tt.err, got, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	withHeader := func(v string) error {
		e := gerr(429, "rateLimitExceeded", "x")
		e.Header = http.Header{"Retry-After": {v}}
		return e
	}
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"seconds", withHeader("7"), 7 * time.Second},
		{"date", withHeader(now.Add(90 * time.Second).Format(http.TimeFormat)), 90 * time.Second},
		{"date in the past", withHeader(now.Add(-time.Minute).Format(http.TimeFormat)), 0},
		{"garbage", withHeader("soon"), 0},
		{"none", gerr(503, "backendError", "x"), 0},
		{"not an API error", io.EOF, 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.err, now); got != tt.want {
			t.Errorf("%s: retryAfter = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSchedule_NextBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &schedule{initial: time.Second, max: 8 * time.Second, deadline: time.Now().Add(time.Hour)}
		for i, ceiling := range []time.Duration{1, 2, 4, 8, 8, 8} {
			ceiling *= time.Second
			for range 50 {
				s.retries = i
				if d := s.NextBackOff(); d < 0 || d > ceiling {
					t.Fatalf("retry %d: NextBackOff = %v, want within [0, %v]", i, d, ceiling)
				}
			}
		}
		s = &schedule{initial: time.Second, max: time.Minute, deadline: time.Now().Add(1500 * time.Millisecond)}
		s.retries = 10
		if d := s.NextBackOff(); d > 1500*time.Millisecond {
			t.Errorf("NextBackOff near the deadline = %v, want at most the 1.5s left", d)
		}
		time.Sleep(2 * time.Second)
		if d := s.NextBackOff(); d != -1 {
			t.Errorf("NextBackOff past the deadline = %v, want backoff.Stop", d)
		}
	})
}

func TestClient_faults(t *testing.T) {
	tests := []struct {
		name        string
		faults      emulator.Faults
		rateLimited bool
	}{
		{"503 backendError", emulator.Faults{BackendError: 0.4}, false},
		{"429", emulator.Faults{RateLimit429: 0.4}, true},
		{"403 userRateLimitExceeded", emulator.Faults{RateLimit403: 0.4}, true},
		{"403 quotaExceeded", emulator.Faults{QuotaExceeded403: 0.4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			emu, c := newTestClient(t, emulator.Options{Seed: 1}, Config{Retry: RetryPolicy{
				MaxAttempts: 20, Initial: time.Millisecond, Max: 2 * time.Millisecond,
			}})
			if _, err := c.InsertUser(ctx, newUser("ada", "")); err != nil {
				t.Fatal(err)
			}
			emu.SetFaults(tt.faults)
			for range 30 {
				if _, err := c.GetUser(ctx, "ada@"+testDomain); err != nil {
					t.Fatalf("GetUser = %v", err)
				}
			}
			es, cs := emu.Stats(), c.Stats()
			var injected int64
			for _, n := range es.Faults {
				injected += n
			}
			if injected == 0 || cs.Retries != injected || cs.Requests != es.Requests {
				t.Errorf("client retried %d times in %d requests; emulator injected %d faults in %d requests",
					cs.Retries, cs.Requests, injected, es.Requests)
			}
			if want := map[bool]int64{true: injected, false: 0}[tt.rateLimited]; cs.RateLimited != want {
				t.Errorf("Stats().RateLimited = %d, want %d", cs.RateLimited, want)
			}
		})
	}
}

func TestClient_InsertUser_outcomeUnknown(t *testing.T) {
	tests := []struct {
		name     string
		faults   emulator.Faults
		applied  bool
		unknown  bool
		requests int64
	}{
		{"answer dropped after success", emulator.Faults{DropAfterSuccess: 1}, true, true, 1},
		{"503", emulator.Faults{BackendError: 1}, false, true, 1},
		{"429 is retried: not applied", emulator.Faults{RateLimit429: 1}, false, false, int64(fastRetry.MaxAttempts)},
		{"403 rate limit is retried: not applied", emulator.Faults{RateLimit403: 1}, false, false, int64(fastRetry.MaxAttempts)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			emu, c := newTestClient(t, emulator.Options{Faults: tt.faults}, Config{})
			_, err := c.InsertUser(ctx, newUser("ada", "S-1"))
			if err == nil {
				t.Fatal("InsertUser = nil, want an error")
			}
			var unknown *OutcomeUnknownError
			if errors.As(err, &unknown) != tt.unknown || IsOutcomeUnknown(err) != tt.unknown {
				t.Errorf("InsertUser = %v, want outcome unknown %v", err, tt.unknown)
			}
			if tt.unknown && unknown.Op != "users.insert" {
				t.Errorf("OutcomeUnknownError.Op = %q", unknown.Op)
			}
			if !tt.unknown && !IsRateLimited(err) {
				t.Errorf("InsertUser = %v, want a rate-limit error", err)
			}
			if got := emu.Stats().Methods["directory.users.insert"]; got != tt.requests {
				t.Errorf("users.insert sent %d times, want %d", got, tt.requests)
			}
			emu.SetFaults(emulator.Faults{})
			_, err = c.GetUser(ctx, "ada@"+testDomain)
			if applied := err == nil; applied != tt.applied {
				t.Errorf("after the error, GetUser = %v; want the user to exist: %v", err, tt.applied)
			}
		})
	}
}

func TestClient_idempotentWritesRetryUnknownOutcomes(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	if _, err := c.InsertUser(ctx, newUser("ada", "")); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureGroup(ctx, "g@"+testDomain, "G"); err != nil {
		t.Fatal(err)
	}
	emu.SetFaults(emulator.Faults{DropAfterSuccess: 1})
	if err := c.InsertMember(ctx, "g@"+testDomain, "ada@"+testDomain, Settled); err != nil {
		t.Errorf("InsertMember with the answer dropped = %v, want success (the retry finds the member)", err)
	}
	if err := c.InsertAlias(ctx, "ada@"+testDomain, "countess@"+testDomain, Settled); err != nil {
		t.Errorf("InsertAlias with the answer dropped = %v, want success", err)
	}
	if err := c.EnsureOrgUnit(ctx, "/Staff", ParentsMustExist); err != nil {
		t.Errorf("EnsureOrgUnit with the answer dropped = %v, want success", err)
	}
	st := emu.State()
	if len(st.Groups[0].Members) != 1 || len(st.Users[0].Aliases) != 1 || len(st.OrgUnits) != 2 {
		t.Errorf("state = %+v, want one member, one alias, one new org unit", st)
	}
}

func TestClient_boundedAttempts(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{Faults: emulator.Faults{BackendError: 1}}, Config{})
	_, err := c.GetUser(ctx, "ada@"+testDomain)
	if StatusCode(err) != http.StatusServiceUnavailable || reason(err) != "backendError" {
		t.Fatalf("GetUser = %v, want the last 503", err)
	}
	n := int64(fastRetry.MaxAttempts)
	if s := c.Stats(); s.Requests != n || s.Retries != n-1 || emu.Stats().Requests != n {
		t.Errorf("Stats = %+v, emulator saw %d; want %d requests, %d retries", s, emu.Stats().Requests, n, n-1)
	}
}

// fakeAPI answers Directory requests from a script, in memory, and records
// when each arrived.
type fakeAPI struct {
	mu      sync.Mutex
	answers []func() (*http.Response, error) // the last one repeats
	times   []time.Time
}

func (f *fakeAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := min(len(f.times), len(f.answers)-1)
	f.times = append(f.times, time.Now())
	return f.answers[i]()
}

func (f *fakeAPI) gaps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var gaps []time.Duration
	for i := 1; i < len(f.times); i++ {
		gaps = append(gaps, f.times[i].Sub(f.times[i-1]))
	}
	return gaps
}

func answer(code int, header http.Header, body string) func() (*http.Response, error) {
	return func() (*http.Response, error) {
		h := http.Header{"Content-Type": {"application/json"}}
		for k, v := range header {
			h[k] = v
		}
		return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(body))}, nil
	}
}

func apiAnswer(code int, reason, message string, header http.Header) func() (*http.Response, error) {
	return answer(code, header, fmt.Sprintf(`{"error":{"code":%d,"message":%q,"errors":[{"domain":"global","reason":%q,"message":%q}]}}`,
		code, message, reason, message))
}

var okUser = answer(200, nil, `{"primaryEmail":"ada@example.com","id":"1"}`)

func fakeClient(t *testing.T, api *fakeAPI, policy RetryPolicy) *Client {
	t.Helper()
	return mustClient(t, Config{Endpoint: "http://127.0.0.1:9/", HTTPClient: &http.Client{Transport: api}, Retry: policy})
}

func TestClient_retryAfter(t *testing.T) {
	policy := RetryPolicy{MaxAttempts: 5, MaxElapsed: time.Minute, Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}
	tests := []struct {
		name    string
		first   func() (*http.Response, error)
		wantGap time.Duration // at least
		wantErr bool
	}{
		{"429 seconds", apiAnswer(429, "rateLimitExceeded", "slow down", http.Header{"Retry-After": {"7"}}), 7 * time.Second, false},
		{"503 seconds", apiAnswer(503, "backendError", "busy", http.Header{"Retry-After": {"3"}}), 3 * time.Second, false},
		{"beyond MaxElapsed", apiAnswer(429, "rateLimitExceeded", "slow down", http.Header{"Retry-After": {"3600"}}), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeAPI{answers: []func() (*http.Response, error){tt.first, okUser}}
				c := fakeClient(t, api, policy)
				start := time.Now()
				_, err := c.GetUser(t.Context(), "ada@example.com")
				if (err != nil) != tt.wantErr {
					t.Fatalf("GetUser = %v, want error %v", err, tt.wantErr)
				}
				if tt.wantErr {
					if len(api.times) != 1 || time.Since(start) != 0 {
						t.Errorf("sent %d requests over %v, want one at once", len(api.times), time.Since(start))
					}
					return
				}
				if gaps := api.gaps(); len(gaps) != 1 || gaps[0] < tt.wantGap {
					t.Errorf("gaps between attempts = %v, want one of at least %v", gaps, tt.wantGap)
				}
			})
		})
	}
}

func TestClient_maxElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{answers: []func() (*http.Response, error){apiAnswer(503, "backendError", "busy", nil)}}
		c := fakeClient(t, api, RetryPolicy{MaxAttempts: 1000, MaxElapsed: 20 * time.Second, Initial: time.Second, Max: 5 * time.Second})
		start := time.Now()
		_, err := c.GetUser(t.Context(), "ada@example.com")
		elapsed := time.Since(start)
		if StatusCode(err) != 503 {
			t.Fatalf("GetUser = %v, want the last 503", err)
		}
		if elapsed > 20*time.Second || len(api.times) < 4 {
			t.Errorf("gave up after %d attempts over %v, want several within 20s", len(api.times), elapsed)
		}
	})
}

func TestClient_consistencyWindow(t *testing.T) {
	forbidden := apiAnswer(403, "forbidden", "Not Authorized to access this resource/api", nil)
	notComplete := apiAnswer(412, "conditionNotMet", "User creation is not complete.", nil)
	okMember := answer(200, nil, `{"email":"ada@example.com","role":"MEMBER"}`)
	policy := RetryPolicy{ConsistencyWindow: time.Minute}
	tests := []struct {
		name     string
		first    func() (*http.Response, error)
		fresh    Freshness
		requests int // at least
		wantErr  bool
	}{
		{"403 just created", forbidden, JustCreated, 2, false},
		{"403 settled", forbidden, Settled, 1, true},
		{"412 settled", notComplete, Settled, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeAPI{answers: []func() (*http.Response, error){tt.first, tt.first, tt.first, okMember}}
				c := fakeClient(t, api, policy)
				err := c.InsertMember(t.Context(), "g@example.com", "ada@example.com", tt.fresh)
				if (err != nil) != tt.wantErr || len(api.times) < tt.requests {
					t.Errorf("InsertMember = %v after %d requests, want error %v after at least %d", err, len(api.times), tt.wantErr, tt.requests)
				}
			})
		})
	}
}

func TestClient_InsertMember_justCreated(t *testing.T) {
	tests := []struct {
		name        string
		window      time.Duration // emulator: member 404 for this long
		consistency time.Duration // client: retry for this long
		fresh       Freshness
		wantErr     bool
	}{
		{"settles within the window", 90 * time.Second, 3 * time.Minute, JustCreated, false},
		{"does not settle within the window", 10 * time.Minute, time.Minute, JustCreated, true},
		{"settled user is not waited for", 90 * time.Second, 3 * time.Minute, Settled, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				emu, c, stop := startPipeEmulator(t, emulator.Options{}, Config{Retry: RetryPolicy{ConsistencyWindow: tt.consistency}}, nil)
				defer stop()
				if _, err := c.InsertUser(ctx, newUser("ada", "")); err != nil {
					t.Fatal(err)
				}
				if err := c.EnsureGroup(ctx, "g@"+testDomain, "G"); err != nil {
					t.Fatal(err)
				}
				emu.SetFaults(emulator.Faults{MemberNotFoundWindow: tt.window})
				start := time.Now()
				err := c.InsertMember(ctx, "g@"+testDomain, "ada@"+testDomain, tt.fresh)
				elapsed := time.Since(start)
				if (err != nil) != tt.wantErr {
					t.Fatalf("InsertMember = %v, want error %v", err, tt.wantErr)
				}
				switch {
				case !tt.wantErr:
					if elapsed < tt.window || elapsed > tt.consistency {
						t.Errorf("succeeded after %v, want between %v and %v", elapsed, tt.window, tt.consistency)
					}
				case tt.fresh == JustCreated:
					if !IsNotFound(err) || !strings.Contains(err.Error(), "settle") || elapsed > tt.consistency {
						t.Errorf("InsertMember = %v after %v, want a 404 after waiting at most %v", err, elapsed, tt.consistency)
					}
				default:
					if elapsed != 0 || !IsNotFound(err) {
						t.Errorf("InsertMember = %v after %v, want an immediate 404", err, elapsed)
					}
				}
			})
		})
	}
}

func TestClient_notComplete412(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		emu, c, stop := startPipeEmulator(t, emulator.Options{}, Config{Retry: defaultRetry}, nil)
		defer stop()
		emu.SetFaults(emulator.Faults{NotComplete412: 1, CreationWindow: 20 * time.Second})
		if _, err := c.InsertUser(ctx, newUser("ada", "")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := c.InsertAlias(ctx, "ada@"+testDomain, "countess@"+testDomain, Settled); err != nil {
			t.Fatalf("InsertAlias = %v", err)
		}
		if elapsed := time.Since(start); elapsed < 20*time.Second {
			t.Errorf("InsertAlias succeeded after %v, before the creation window of 20s ended", elapsed)
		}
		if n := emu.Stats().Faults["conditionNotMet"]; n == 0 || c.Stats().Retries != n {
			t.Errorf("412 answers %d, retries %d; want equal and nonzero", n, c.Stats().Retries)
		}
	})
}

func TestClient_callerGivesUp(t *testing.T) {
	tests := []struct {
		name    string
		do      func(ctx context.Context, c *Client) error
		unknown bool
	}{
		{"insert in flight", func(ctx context.Context, c *Client) error {
			_, err := c.InsertUser(ctx, newUser("ada", ""))
			return err
		}, true},
		{"read in flight", func(ctx context.Context, c *Client) error {
			_, err := c.GetUser(ctx, "ada@"+testDomain)
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				slow := map[string]emulator.Latency{"*": {Median: 10 * time.Second, Jitter: time.Millisecond}}
				_, c, stop := startPipeEmulator(t, emulator.Options{Latency: slow}, Config{Retry: defaultRetry}, nil)
				defer stop()
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				err := tt.do(ctx, c)
				if !errors.Is(err, context.DeadlineExceeded) || IsOutcomeUnknown(err) != tt.unknown {
					t.Errorf("error = %v, want the deadline, outcome unknown %v", err, tt.unknown)
				}
			})
		})
	}
}

func TestCredentialsError_notSent(t *testing.T) {
	// A token that cannot be had means no request reached the API: an
	// insert is not an unknown outcome.
	api := &fakeAPI{answers: []func() (*http.Response, error){okUser}}
	tr := &oauth2.Transport{
		Source: &explainedSource{src: failingSource{}},
		Base:   api,
	}
	c := mustClient(t, Config{Endpoint: "http://127.0.0.1:9/", HTTPClient: &http.Client{Transport: tr}})
	_, err := c.InsertUser(t.Context(), newUser("ada", ""))
	var ce *CredentialsError
	if !errors.As(err, &ce) || IsOutcomeUnknown(err) || len(api.times) != 0 {
		t.Errorf("InsertUser = %v (%d requests sent), want a CredentialsError and nothing sent", err, len(api.times))
	}
}

type failingSource struct{}

func (failingSource) Token() (*oauth2.Token, error) {
	return nil, &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, ErrorCode: "invalid_grant"}
}
