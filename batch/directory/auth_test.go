package directory

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/option"
)

const (
	testAdmin = "admin@example.com"
	testSA    = "provision@project.iam.gserviceaccount.com"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// claims are the parts of a JWT assertion the tests check.
type claims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
}

// decodeJWT returns the claims of a JWT, verifying its RS256 signature when
// key is not nil.
func decodeJWT(t *testing.T, jwt string, key *rsa.PublicKey) claims {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q has %d parts, want 3", jwt, len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode JWT payload: %v", err)
	}
	if key != nil {
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatalf("decode JWT signature: %v", err)
		}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
			t.Errorf("JWT signature: %v", err)
		}
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("parse JWT claims: %v", err)
	}
	return c
}

// tokenServer is Google's OAuth token endpoint on 127.0.0.1: it checks JWT
// bearer assertions and hands out access tokens.
type tokenServer struct {
	*httptest.Server
	mu         sync.Mutex
	assertions []claims
	refuse     string // an OAuth error code to answer with, if set
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.assertions)
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/token" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		c := decodeJWT(t, r.PostForm.Get("assertion"), &testKey().PublicKey)
		ts.mu.Lock()
		ts.assertions = append(ts.assertions, c)
		refuse := ts.refuse
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refuse != "" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":%q,"error_description":"refused by the test"}`, refuse)
			return
		}
		fmt.Fprint(w, `{"access_token":"key-token","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// writeKeyFile writes a service account key whose token_uri is ts.
func writeKeyFile(t *testing.T, ts *tokenServer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]string{
		"type":           "service_account",
		"project_id":     "project",
		"private_key_id": "key1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   testSA,
		"client_id":      "1234567890",
		"token_uri":      ts.URL + "/token",
	}
	return writeJSON(t, "key.json", key)
}

func writeJSON(t *testing.T, name string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeDirectory answers users.get over TLS on 127.0.0.1 and records the
// Authorization headers it receives. Clients reach it under a name that is
// not loopback, https://directory.example.com/, so that they authenticate.
type fakeDirectory struct {
	mu    sync.Mutex
	auths []string
	url   string
	http  *http.Client
}

func newFakeDirectory(t *testing.T) *fakeDirectory {
	d := &fakeDirectory{url: "https://directory.example.com/"}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.auths = append(d.auths, r.Header.Get("Authorization"))
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"primaryEmail":"ada@example.com","id":"1"}`)
	}))
	t.Cleanup(srv.Close)
	d.http = dialing(srv, srv.Listener.Addr().String())
	return d
}

// dialing returns a client that trusts srv's certificate (valid for
// example.com and its subdomains) and connects to addr whatever the URL's
// host, so that tests use names without reaching beyond 127.0.0.1.
func dialing(srv *httptest.Server, addr string) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

func (d *fakeDirectory) hits() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.auths)
}

func (d *fakeDirectory) lastAuth() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.auths) == 0 {
		return ""
	}
	return d.auths[len(d.auths)-1]
}

var (
	membersOnlyScopes = admin.AdminDirectoryUserScope + " " + admin.AdminDirectoryOrgunitScope + " " + admin.AdminDirectoryGroupMemberScope
	groupCreateScopes = admin.AdminDirectoryUserScope + " " + admin.AdminDirectoryOrgunitScope + " " + admin.AdminDirectoryGroupScope
)

func TestConfig_Scopes(t *testing.T) {
	tests := []struct {
		groups GroupAccess
		want   string
	}{
		{GroupMembersOnly, membersOnlyScopes},
		{GroupRead, membersOnlyScopes + " " + admin.AdminDirectoryGroupReadonlyScope},
		{GroupCreate, groupCreateScopes},
	}
	for _, tt := range tests {
		if got := strings.Join(Config{Groups: tt.groups}.Scopes(), " "); got != tt.want {
			t.Errorf("Scopes(%d) = %s, want %s", tt.groups, got, tt.want)
		}
	}
}

func TestNew_keyFile(t *testing.T) {
	tests := []struct {
		name      string
		adc       bool // the key is found through GOOGLE_APPLICATION_CREDENTIALS
		groups    GroupAccess
		wantScope string
	}{
		{"key file, members only", false, GroupMembersOnly, membersOnlyScopes},
		{"key file, group create", false, GroupCreate, groupCreateScopes},
		{"application default credentials", true, GroupMembersOnly, membersOnlyScopes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t)
			dir := newFakeDirectory(t)
			keyFile := writeKeyFile(t, ts)
			cfg := Config{Endpoint: dir.url, Domain: testDomain, Subject: testAdmin, Groups: tt.groups, HTTPClient: dir.http}
			if tt.adc {
				t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", keyFile)
			} else {
				t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/must-not-be-read.json")
				cfg.CredentialsFile = keyFile
			}
			c, err := New(t.Context(), cfg)
			if err != nil {
				t.Fatalf("New = %v", err)
			}
			if _, err := c.GetUser(t.Context(), "ada@example.com"); err != nil {
				t.Fatalf("GetUser = %v", err)
			}
			if got := dir.lastAuth(); got != "Bearer key-token" {
				t.Errorf("Authorization = %q, want Bearer key-token", got)
			}
			if len(ts.assertions) != 1 {
				t.Fatalf("token endpoint saw %d assertions, want 1", len(ts.assertions))
			}
			a := ts.assertions[0]
			if a.Sub != testAdmin || a.Iss != testSA || a.Scope != tt.wantScope {
				t.Errorf("assertion = %+v, want sub %s, iss %s, scope %s", a, testAdmin, testSA, tt.wantScope)
			}
		})
	}
}

func TestNew_impersonation(t *testing.T) {
	tests := []struct {
		name    string
		subject string
	}{
		{"with domain-wide delegation", testAdmin},
		{"as the service account itself", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu    sync.Mutex
				calls []string
			)
			// The IAM Credentials API and Google's token endpoint, on
			// 127.0.0.1.
			iam := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls = append(calls, r.Host+r.URL.Path)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.Header.Get("Authorization") != "Bearer base-token":
					http.Error(w, "no base credential", http.StatusUnauthorized)
				case r.URL.Path == "/v1/projects/-/serviceAccounts/"+testSA+":signJwt":
					var req struct{ Payload string }
					json.NewDecoder(r.Body).Decode(&req)
					var c claims
					json.Unmarshal([]byte(req.Payload), &c)
					if c.Sub != tt.subject || c.Iss != testSA || c.Scope != membersOnlyScopes {
						t.Errorf("signJwt claims = %+v, want sub %q, iss %s, scope %s", c, tt.subject, testSA, membersOnlyScopes)
					}
					signed := "e30." + base64.RawURLEncoding.EncodeToString([]byte(req.Payload)) + ".c2ln"
					fmt.Fprintf(w, `{"keyId":"k","signedJwt":%q}`, signed)
				case r.URL.Path == "/token":
					r.ParseForm()
					if c := decodeJWT(t, r.PostForm.Get("assertion"), nil); c.Sub != tt.subject {
						t.Errorf("exchanged assertion sub = %q, want %q", c.Sub, tt.subject)
					}
					fmt.Fprint(w, `{"access_token":"delegated-token","token_type":"Bearer","expires_in":3600}`)
				case r.URL.Path == "/v1/projects/-/serviceAccounts/"+testSA+":generateAccessToken":
					var req struct{ Scope []string }
					json.NewDecoder(r.Body).Decode(&req)
					if got := strings.Join(req.Scope, " "); got != membersOnlyScopes {
						t.Errorf("generateAccessToken scopes = %s, want %s", got, membersOnlyScopes)
					}
					fmt.Fprintf(w, `{"accessToken":"delegated-token","expireTime":%q}`, time.Now().Add(time.Hour).Format(time.RFC3339))
				default:
					http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
				}
			}))
			t.Cleanup(iam.Close)
			// The impersonate package has Google's hosts built in: send
			// them to the local server, with the base credential applied
			// as option.WithTokenSource would.
			toLocal := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				switch r.URL.Host {
				case "iamcredentials.googleapis.com", "oauth2.googleapis.com":
				default:
					return nil, fmt.Errorf("unexpected host %s", r.URL.Host)
				}
				r = r.Clone(r.Context())
				r.URL.Scheme, r.URL.Host = "http", iam.Listener.Addr().String()
				return http.DefaultTransport.RoundTrip(r)
			})
			base := &http.Client{Transport: &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "base-token"}), Base: toLocal}}

			dir := newFakeDirectory(t)
			c, err := New(t.Context(), Config{
				Endpoint: dir.url, Domain: testDomain, HTTPClient: dir.http,
				Impersonate: testSA, Subject: tt.subject,
				IAMOptions: []option.ClientOption{option.WithHTTPClient(base)},
			})
			if err != nil {
				t.Fatalf("New = %v", err)
			}
			if _, err := c.GetUser(t.Context(), "ada@example.com"); err != nil {
				t.Fatalf("GetUser = %v", err)
			}
			if got := dir.lastAuth(); got != "Bearer delegated-token" {
				t.Errorf("Authorization = %q, want Bearer delegated-token (calls: %v)", got, calls)
			}
		})
	}
}

func TestNew_badCredentials(t *testing.T) {
	userCreds := writeJSON(t, "user.json", map[string]string{
		"type": "authorized_user", "client_id": "id", "client_secret": "secret", "refresh_token": "refresh",
	})
	tests := []struct {
		name     string
		cfg      Config
		env      string // GOOGLE_APPLICATION_CREDENTIALS
		wantErr  string
		wantHint string
	}{
		{"missing key file", Config{CredentialsFile: "/nonexistent/key.json"}, "", "read credentials file", "--credentials"},
		{"key file of another type", Config{CredentialsFile: userCreds}, "", "parse credentials file " + userCreds, "service_account"},
		{"missing ADC file", Config{}, "/nonexistent/adc.json", "find Application Default Credentials", "GOOGLE_APPLICATION_CREDENTIALS names /nonexistent/adc.json"},
		{"ADC that cannot act as the subject", Config{Subject: testAdmin}, userCreds, "cannot act as " + testAdmin, "--impersonate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", tt.env)
			tt.cfg.Domain = testDomain
			tt.cfg.Endpoint = "https://directory.example.com/"
			_, err := New(t.Context(), tt.cfg)
			var ce *CredentialsError
			if !errors.As(err, &ce) {
				t.Fatalf("New = %v, want a *CredentialsError", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(ce.Hint, tt.wantHint) {
				t.Errorf("New = %q, hint %q; want %q, hint with %q", err, ce.Hint, tt.wantErr, tt.wantHint)
			}
		})
	}
}

func TestNew_tokenRefused(t *testing.T) {
	tests := []struct {
		code, wantHint string
	}{
		{"unauthorized_client", "Domain-wide delegation"},
		{"invalid_grant", "--subject"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			ts := newTokenServer(t)
			ts.refuse = tt.code
			dir := newFakeDirectory(t)
			c, err := New(t.Context(), Config{
				Endpoint: dir.url, Domain: testDomain, HTTPClient: dir.http,
				CredentialsFile: writeKeyFile(t, ts), Subject: testAdmin, Retry: fastRetry,
			})
			if err != nil {
				t.Fatalf("New = %v", err)
			}
			_, err = c.GetUser(t.Context(), "ada@example.com")
			var ce *CredentialsError
			if !errors.As(err, &ce) || !strings.Contains(ce.Hint, tt.wantHint) {
				t.Fatalf("GetUser = %v, want a *CredentialsError with a hint about %q", err, tt.wantHint)
			}
			if dir.hits() != 0 || ts.count() != 1 {
				t.Errorf("directory saw %d requests, token endpoint %d; want 0 and 1 (not retried)", dir.hits(), ts.count())
			}
		})
	}
}
