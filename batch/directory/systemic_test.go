package directory

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// googleBody is one of Google's error bodies kept with the emulator, which
// must answer the same (see emulator/testdata/google/README.md).
func googleBody(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("emulator", "testdata", "google", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// googleAnswer is an answer of the fake API with one of Google's bodies.
func googleAnswer(t *testing.T, code int, name string) func() (*http.Response, error) {
	return answer(code, nil, googleBody(t, name))
}

// decoded is what the generated client makes of an answer.
func decoded(t *testing.T, code int, body string) *googleapi.Error {
	t.Helper()
	err := googleapi.CheckResponse(&http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))})
	var e *googleapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("CheckResponse(%d) = %v, want a *googleapi.Error", code, err)
	}
	return e
}

func TestRefusalOf(t *testing.T) {
	tests := []struct {
		name string
		err  *googleapi.Error
		want Refusal
	}{
		{"forbidden", decoded(t, 403, googleBody(t, "forbidden")), NotAuthorized},
		{"access not configured", decoded(t, 403, googleBody(t, "accessNotConfigured")), APIDisabled},
		{"access not configured, older message", gerr(403, "accessNotConfigured",
			"Access Not Configured. Admin Directory API has not been used in project 764086051850 before or it is disabled."), APIDisabled},
		{"invalid credentials", decoded(t, 401, googleBody(t, "unauthorized")), TokenRefused},
		{"login required", decoded(t, 401, googleBody(t, "loginRequired")), TokenRefused},
		{"domain not found", decoded(t, 404, googleBody(t, "domainNotFound")), DomainNotFound},
		{"domain not found, another code", gerr(400, "invalid", "Domain not found."), DomainNotFound},
		{"user limit", decoded(t, 412, googleBody(t, "userLimit")), UserLimit},
		{"user limit of a trial", gerr(403, "forbidden", "Domain user limit reached. Start paid subscription."), UserLimit},
		{"insufficient scopes", decoded(t, 403, googleBody(t, "insufficientScopes")), ScopeMissing},
		{"API access off", decoded(t, 403, googleBody(t, "domainCannotUseApis")), APIAccessOff},

		// About one call: not systemic.
		{"user rate limit", gerr(403, reasonUserRateLimitExceeded, "User Rate Limit Exceeded"), 0},
		{"quota", gerr(403, reasonQuotaExceeded, "Quota exceeded"), 0},
		{"429", gerr(429, reasonRateLimitExceeded, "Resource has been exhausted (e.g. check quota)."), 0},
		{"no such user", gerr(404, "notFound", "Resource Not Found: userKey"), 0},
		{"no such member", gerr(404, "notFound", "Resource Not Found: memberKey"), 0},
		{"no such org unit", gerr(404, "notFound", "Org unit not found"), 0},
		{"creation not complete", gerr(412, "conditionNotMet", "User creation is not complete."), 0},
		{"another 403", gerr(403, "forbidden", "Cannot delete primary admin."), 0},
		{"duplicate", gerr(409, "duplicate", "Entity already exists."), 0},
		{"invalid password", gerr(400, "invalid", "Invalid Password"), 0},
		{"backend", gerr(503, "backendError", "Service unavailable. Please try again"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusalOf(tt.err); got != tt.want {
				t.Errorf("refusalOf(%d %q) = %v, want %v", tt.err.Code, tt.err.Message, got, tt.want)
			}
		})
	}
}

// TestClient_systemic: a systemic answer is confirmed by a second request
// after a short backoff before *SystemicError is returned; any other answer
// on the retry is handled as usual.
func TestClient_systemic(t *testing.T) {
	forbidden := googleAnswer(t, 403, "forbidden")
	userLimit := googleAnswer(t, 412, "userLimit")
	okMember := answer(200, nil, `{"email":"ada@example.com","role":"MEMBER"}`)
	type call func(ctx context.Context, c *Client) error
	getUser := func(ctx context.Context, c *Client) error { _, err := c.GetUser(ctx, "ada@example.com"); return err }
	insertUser := func(ctx context.Context, c *Client) error {
		_, err := c.InsertUser(ctx, newUser("ada", "S-1"))
		return err
	}
	addMember := func(f Freshness) call {
		return func(ctx context.Context, c *Client) error {
			return c.InsertMember(ctx, "g@example.com", "ada@example.com", f)
		}
	}
	tests := []struct {
		name     string
		call     call
		answers  []func() (*http.Response, error) // the last one repeats
		want     Refusal                          // 0: not systemic
		wantErr  bool
		requests int
	}{
		{"confirmed", getUser, []func() (*http.Response, error){forbidden, forbidden, okUser}, NotAuthorized, true, 2},
		{"not confirmed", getUser, []func() (*http.Response, error){forbidden, okUser}, 0, false, 2},
		{"another answer on the retry", getUser, []func() (*http.Response, error){forbidden, apiAnswer(404, "notFound", "Resource Not Found: userKey", nil)}, 0, true, 2},
		{"a transient answer in between", getUser, []func() (*http.Response, error){forbidden, apiAnswer(503, "backendError", "busy", nil), forbidden, okUser}, NotAuthorized, true, 3},
		{"API disabled", getUser, []func() (*http.Response, error){googleAnswer(t, 403, "accessNotConfigured")}, APIDisabled, true, 2},
		{"token refused", getUser, []func() (*http.Response, error){googleAnswer(t, 401, "unauthorized")}, TokenRefused, true, 2},
		{"domain not found", getUser, []func() (*http.Response, error){googleAnswer(t, 404, "domainNotFound")}, DomainNotFound, true, 2},
		{"insert refused, then created", insertUser, []func() (*http.Response, error){forbidden, okUser}, 0, false, 2},
		{"insert refused twice", insertUser, []func() (*http.Response, error){forbidden}, NotAuthorized, true, 2},
		{"user limit", insertUser, []func() (*http.Response, error){userLimit}, UserLimit, true, 2},
		{"member of a settled user", addMember(Settled), []func() (*http.Response, error){forbidden}, NotAuthorized, true, 2},
		{"member of a new user, lag", addMember(JustCreated), []func() (*http.Response, error){forbidden, forbidden, forbidden, okMember}, 0, false, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeAPI{answers: tt.answers}
				c := fakeClient(t, api, defaultRetry)
				err := tt.call(t.Context(), c)
				if (err != nil) != tt.wantErr || len(api.times) != tt.requests {
					t.Fatalf("error %v after %d requests, want error %v after %d", err, len(api.times), tt.wantErr, tt.requests)
				}
				se, systemic := AsSystemic(err)
				if systemic != (tt.want != 0) || (systemic && se.Kind != tt.want) {
					t.Fatalf("AsSystemic(%v) = %+v, %v; want kind %v", err, se, systemic, tt.want)
				}
				if IsOutcomeUnknown(err) {
					t.Errorf("%v is an unknown outcome: a refusal applied nothing", err)
				}
				if systemic {
					if se.Fix == "" || se.Op == "" || se.Message == "" || !errors.Is(err, se.Err) {
						t.Errorf("SystemicError = %+v, want op, message, fix and the answer", se)
					}
					if IsNotFound(err) {
						t.Errorf("IsNotFound(%v) = true: a refusal is not a missing resource", err)
					}
				}
				if gaps := api.gaps(); len(gaps) > 0 && gaps[0] > defaultRetry.Initial {
					t.Errorf("the second request came %v after the first, want at most %v", gaps[0], defaultRetry.Initial)
				}
			})
		})
	}
}

// TestClient_systemic_justCreated: Google refuses calls about a user it has
// not finished creating with the same 403 as a real refusal, so for a new
// user it is waited out first; standing at the end of the window, it is a
// refusal.
func TestClient_systemic_justCreated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{answers: []func() (*http.Response, error){googleAnswer(t, 403, "forbidden")}}
		c := fakeClient(t, api, RetryPolicy{ConsistencyWindow: time.Minute})
		start := time.Now()
		err := c.InsertMember(t.Context(), "g@example.com", "ada@example.com", JustCreated)
		se, ok := AsSystemic(err)
		if !ok || se.Kind != NotAuthorized || se.Op != "members.insert" {
			t.Fatalf("InsertMember = %v, want a NotAuthorized *SystemicError", err)
		}
		if elapsed := time.Since(start); elapsed > time.Minute || len(api.times) < 3 {
			t.Errorf("gave up after %d requests over %v, want several within the minute", len(api.times), elapsed)
		}
	})
}

// TestClient_emulatorRefusals runs each refusal of the emulator through the
// client with the fast retry hook: exactly two requests, the right kind,
// and after the fix the same call works.
func TestClient_emulatorRefusals(t *testing.T) {
	tests := []struct {
		name   string
		faults emulator.Faults
		want   Refusal
		insert bool // the refused call is users.insert; else users.get
	}{
		{"forbidden writes", emulator.Faults{Forbidden: emulator.ScopeWrites}, NotAuthorized, true},
		{"forbidden all", emulator.Faults{Forbidden: emulator.ScopeAll}, NotAuthorized, false},
		{"access not configured", emulator.Faults{AccessNotConfigured: emulator.ScopeAll}, APIDisabled, false},
		{"unauthorized", emulator.Faults{Unauthorized: emulator.ScopeAll}, TokenRefused, false},
		{"domain not found", emulator.Faults{DomainNotFound: emulator.ScopeAll}, DomainNotFound, false},
		{"user limit", emulator.Faults{UserLimit: 1}, UserLimit, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			emu, c := newTestClient(t, emulator.Options{}, Config{Subject: testAdmin})
			if _, err := c.InsertUser(ctx, newUser("ada", "S-1")); err != nil {
				t.Fatal(err)
			}
			emu.SetFaults(tt.faults)
			before := emu.Stats().Requests
			call := func() error {
				if tt.insert {
					_, err := c.InsertUser(ctx, newUser("bob", "S-2"))
					return err
				}
				_, err := c.GetUser(ctx, "ada@"+testDomain)
				return err
			}
			err := call()
			if se, ok := AsSystemic(err); !ok || se.Kind != tt.want {
				t.Fatalf("call = %v, want a %v *SystemicError", err, tt.want)
			}
			if sent := emu.Stats().Requests - before; sent != 2 {
				t.Errorf("sent %d requests, want 2", sent)
			}
			if tt.insert {
				if _, err := c.GetUser(ctx, "ada@"+testDomain); err != nil {
					t.Errorf("GetUser while writes are refused = %v, want the user", err)
				}
			}
			emu.SetFaults(emulator.Faults{})
			if err := call(); err != nil {
				t.Errorf("after the fix, the call = %v", err)
			}
		})
	}
}

// TestSystemicError_reads: what a user reads, the error and its fix, for
// each kind.
func TestSystemicError_reads(t *testing.T) {
	withSubject := newActor(Config{Domain: "school.example.org", Subject: "admin@school.example.org", Groups: GroupRead})
	asItself := newActor(Config{Domain: "school.example.org", Impersonate: testSA})
	tests := []struct {
		name    string
		who     actor
		op      string
		body    string
		code    int
		wantErr string
		wantFix []string
	}{
		{"not authorized to create users", withSubject, "users.insert", "forbidden", 403,
			"the directory refuses users.insert: not authorized (403 forbidden: Not Authorized to access this resource/api)",
			[]string{"admin@school.example.org may not create, read and update users in school.example.org", "Admin console > Account > Admin roles"}},
		{"not authorized to add members", withSubject, "members.insert", "forbidden", 403, "",
			[]string{"read groups and add members"}},
		{"the service account acting as itself", asItself, "orgunits.insert", "forbidden", 403, "",
			[]string{"the service account " + testSA + " acts as itself (no --subject)", "give --subject an admin", "organizational units"}},
		{"API disabled", withSubject, "users.list", "accessNotConfigured", 403,
			"the directory refuses users.list: the Admin SDK API is not enabled (403 accessNotConfigured: Admin SDK API has not been used in project 123456789012",
			[]string{"Cloud console > APIs & Services > Library > Admin SDK API > Enable"}},
		{"scope missing", withSubject, "users.list", "insufficientScopes", 403, "the access token lacks a scope",
			[]string{"https://www.googleapis.com/auth/admin.directory.user,https://www.googleapis.com/auth/admin.directory.orgunit", "--scopes="}},
		{"token refused", withSubject, "users.get", "unauthorized", 401, "the access token was refused (401 authError",
			[]string{"Credentials", "run the same command again"}},
		{"domain not found", withSubject, "users.list", "domainNotFound", 404, "the domain is not in the account (404 notFound: Domain not found.)",
			[]string{"no domain school.example.org", "--domain", "admin@school.example.org is an admin"}},
		{"user limit", withSubject, "users.insert", "userLimit", 412, "the account's user limit is reached (412 limitExceeded: Domain user limit reached.)",
			[]string{"Admin console > Billing > Subscriptions", "run the same command again to create the rest"}},
		{"API access off", withSubject, "users.list", "domainCannotUseApis", 403, "API access is turned off",
			[]string{"Security > Access and data control > API controls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := newSystemicError(tt.op, decoded(t, tt.code, googleBody(t, tt.body)), tt.who)
			if !strings.Contains(se.Error(), tt.wantErr) {
				t.Errorf("Error() = %q, want it to contain %q", se.Error(), tt.wantErr)
			}
			for _, want := range tt.wantFix {
				if !strings.Contains(se.Fix, want) {
					t.Errorf("Fix = %q, want it to contain %q", se.Fix, want)
				}
			}
		})
	}
}

// TestCredentialsError_notSystemic: credentials refused at the token
// endpoint and a token refused by the API are different errors, and each
// says what it is.
func TestCredentialsError_notSystemic(t *testing.T) {
	tokens := newTokenServer(t)
	tokens.refuse = "unauthorized_client"
	dir := newHitCounter(t, true, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, googleBody(t, "unauthorized"))
	})
	newClient := func() *Client {
		c, err := New(t.Context(), Config{
			Endpoint: "https://directory.example.com/", Domain: testDomain, Retry: fastRetry,
			HTTPClient:      routed(t, map[string]*hitCounter{"directory.example.com:443": dir}),
			CredentialsFile: writeKeyFile(t, tokens), Subject: testAdmin,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	_, err := newClient().GetUser(t.Context(), "ada@example.com")
	var ce *CredentialsError
	if _, systemic := AsSystemic(err); !errors.As(err, &ce) || systemic {
		t.Errorf("token endpoint refusal = %v, want a *CredentialsError and not a *SystemicError", err)
	}
	if !strings.Contains(err.Error(), "get access token") || !strings.Contains(ce.Hint, "Domain-wide delegation") {
		t.Errorf("token endpoint refusal reads %q, hint %q", err, ce.Hint)
	}
	if n := len(dir.seen()); n != 0 {
		t.Errorf("the API saw %d requests, want none", n)
	}

	tokens.mu.Lock()
	tokens.refuse = ""
	tokens.mu.Unlock()
	_, err = newClient().GetUser(t.Context(), "ada@example.com")
	se, systemic := AsSystemic(err)
	if !systemic || se.Kind != TokenRefused || errors.As(err, &ce) {
		t.Errorf("API refusal = %v, want a TokenRefused *SystemicError and not a *CredentialsError", err)
	}
	if want := "get user ada@example.com: the directory refuses users.get: the access token was refused (401 authError: Request had invalid authentication credentials."; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("API refusal reads %q, want it to start %q", err, want)
	}
}
