package directory

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
	"google.golang.org/api/option"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
		loopback bool
	}{
		{"", "https://admin.googleapis.com/", false},
		{"http://127.0.0.1:8085", "http://127.0.0.1:8085/", true},
		{"http://127.1.2.3/", "http://127.1.2.3/", true},
		{"http://LOCALHOST:1/root", "http://LOCALHOST:1/root/", true},
		{"HTTP://127.0.0.1/", "http://127.0.0.1/", true},
		{"http://[::1]:8085/", "http://[::1]:8085/", true},
		{"http://[::ffff:127.0.0.1]:8085/", "http://[::ffff:127.0.0.1]:8085/", true},
		{"https://proxy.internal/", "https://proxy.internal/", false},
		{"https://localhost.example.com/", "https://localhost.example.com/", false},
		{"https://127.0.0.1:8443/", "https://127.0.0.1:8443/", true},

		// Plain http off this machine, however it is dressed up.
		{"http://10.0.0.1/", "", false},
		{"http://directory.test:8085/", "", false},
		{"http://localhost.evil.com/", "", false},
		{"http://127.0.0.1.nip.io/", "", false},
		{"http://localhost./", "", false},
		{"http://127.1/", "", false},
		{"http://2130706433/", "", false},
		{"http://0x7f000001/", "", false},
		{"http://[::ffff:10.0.0.1]/", "", false},
		{"http://0.0.0.0:8085/", "", false},
		{"http://[::]:8085/", "", false},
		{"http://[::1%25eth0]/", "", false},
		{"http://127.0.0.1@evil.com/", "", false},
		{"http://evil.com#@127.0.0.1/", "", false},

		// Not an http URL at all.
		{"ftp://127.0.0.1/", "", false},
		{"http:///x", "", false},
		{"127.0.0.1:8085", "", false},
		{"admin.googleapis.com", "", false},
	}
	for _, tt := range tests {
		u, err := parseEndpoint(tt.in)
		if tt.want == "" {
			var ee *EndpointError
			if !errors.As(err, &ee) || ee.Hint == "" {
				t.Errorf("parseEndpoint(%q) = %v, %v; want an *EndpointError with a hint", tt.in, u, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseEndpoint(%q) = %v", tt.in, err)
			continue
		}
		if u.String() != tt.want || loopback(u) != tt.loopback || IsLoopback(tt.in) != tt.loopback {
			t.Errorf("parseEndpoint(%q) = %s (loopback %v, IsLoopback %v), want %s (loopback %v)", tt.in, u, loopback(u), IsLoopback(tt.in), tt.want, tt.loopback)
		}
	}
}

// hitCounter is an HTTP server on 127.0.0.1 that counts the requests it
// gets and keeps their Authorization headers.
type hitCounter struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newHitCounter(t *testing.T, tls bool, h http.HandlerFunc) *hitCounter {
	hc := &hitCounter{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc.mu.Lock()
		hc.auths = append(hc.auths, r.Header.Get("Authorization"))
		hc.mu.Unlock()
		h(w, r)
	})
	if tls {
		hc.Server = httptest.NewTLSServer(handler)
	} else {
		hc.Server = httptest.NewServer(handler)
	}
	t.Cleanup(hc.Close)
	return hc
}

func (hc *hitCounter) seen() []string {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	return append([]string(nil), hc.auths...)
}

func answerUser(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"primaryEmail":"ada@example.com","id":"1"}`)
}

// routed returns a client that trusts httptest's certificate and connects
// to the server routes names for each host:port, and nowhere else.
func routed(t *testing.T, routes map[string]*hitCounter) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	for _, srv := range routes {
		if srv.TLS != nil {
			tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		}
	}
	tr.Proxy = nil
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		srv, ok := routes[addr]
		if !ok {
			t.Errorf("dial %s: not a test server", addr)
			return nil, fmt.Errorf("dial %s: not a test server", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	return &http.Client{Transport: tr}
}

// TestNew_plainHTTPRefused: with credentials of any kind, an http endpoint
// off this machine is refused by New, before a credential is read, a token
// fetched or a request sent.
func TestNew_plainHTTPRefused(t *testing.T) {
	tokens := newTokenServer(t)
	keyFile := writeKeyFile(t, tokens)
	iam := newHitCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "must not be called", http.StatusTeapot)
	})
	iamClient := &http.Client{Transport: &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "base-token"}),
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host = "http", iam.Listener.Addr().String()
			return http.DefaultTransport.RoundTrip(r)
		}),
	}}
	api := newHitCounter(t, false, answerUser)

	tests := []struct {
		name string
		cfg  Config
		adc  string // GOOGLE_APPLICATION_CREDENTIALS
	}{
		{"key file with domain-wide delegation", Config{CredentialsFile: keyFile, Subject: testAdmin}, ""},
		{"application default credentials", Config{Subject: testAdmin}, keyFile},
		{"impersonation", Config{Impersonate: testSA, Subject: testAdmin, IAMOptions: []option.ClientOption{option.WithHTTPClient(iamClient)}}, ""},
		{"a key file that does not exist", Config{CredentialsFile: "/nonexistent/key.json"}, ""},
	}
	for _, endpoint := range []string{"http://directory.test:8085/", "http://localhost.example.com/", "http://127.0.0.1.nip.io/", "http://[::ffff:192.0.2.1]/"} {
		for _, tt := range tests {
			t.Run(endpoint+" "+tt.name, func(t *testing.T) {
				t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", tt.adc)
				cfg := tt.cfg
				cfg.Endpoint, cfg.Domain = endpoint, testDomain
				cfg.HTTPClient = routed(t, map[string]*hitCounter{})
				c, err := New(t.Context(), cfg)
				var ee *EndpointError
				if !errors.As(err, &ee) || c != nil {
					t.Fatalf("New = (client %v) %v; want no client and an *EndpointError", c != nil, err)
				}
				if !strings.Contains(ee.Hint, "https://") || !strings.Contains(ee.Hint, "loopback") {
					t.Errorf("hint %q, want it to offer https:// or a loopback address", ee.Hint)
				}
				var ce *CredentialsError
				if errors.As(err, &ce) {
					t.Errorf("New = %v, a credentials error: the endpoint must be refused before credentials are read", err)
				}
			})
		}
	}
	if n, iamHits, apiHits := tokens.count(), len(iam.seen()), len(api.seen()); n+iamHits+apiHits != 0 {
		t.Errorf("token endpoint saw %d requests, IAM %d, the API %d; want none", n, iamHits, apiHits)
	}
}

// TestNew_loopbackLoadsNoCredentials: on this machine the client talks
// plain http without credentials, whatever the Config says.
func TestNew_loopbackLoadsNoCredentials(t *testing.T) {
	tokens := newTokenServer(t)
	api := newHitCounter(t, false, answerUser)
	for _, cfg := range []Config{
		{CredentialsFile: writeKeyFile(t, tokens), Subject: testAdmin},
		{CredentialsFile: "/nonexistent/key.json", Impersonate: testSA},
		{Subject: testAdmin},
	} {
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
		cfg.Endpoint, cfg.Domain, cfg.Retry = api.URL, testDomain, fastRetry
		c, err := New(t.Context(), cfg)
		if err != nil {
			t.Fatalf("New(%+v) = %v", cfg, err)
		}
		if _, err := c.GetUser(t.Context(), "ada@example.com"); err != nil {
			t.Fatalf("GetUser = %v", err)
		}
	}
	if auths := api.seen(); len(auths) != 3 || strings.Join(auths, "") != "" {
		t.Errorf("the API saw Authorization headers %q, want 3 requests without one", auths)
	}
	if n := tokens.count(); n != 0 {
		t.Errorf("token endpoint saw %d requests, want none", n)
	}
}

// TestClient_redirectsDoNotCarryTheToken: oauth2.Transport puts the token
// on every request it sends, redirects included; the client follows a
// redirect only over https to the endpoint's own host.
func TestClient_redirectsDoNotCarryTheToken(t *testing.T) {
	tests := []struct {
		name     string
		location string
		followed bool
	}{
		{"to http on the same host", "http://directory.example.com/admin/directory/v1/users/ada", false},
		{"to http on another port", "http://directory.example.com:8080/admin/directory/v1/users/ada", false},
		{"to https on another host", "https://elsewhere.example.com/admin/directory/v1/users/ada", false},
		{"to https on the same host", "https://directory.example.com/admin/directory/v1/users/ada?moved=1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens := newTokenServer(t)
			plain := newHitCounter(t, false, answerUser)
			other := newHitCounter(t, true, answerUser)
			var dir *hitCounter
			dir = newHitCounter(t, true, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("moved") != "" {
					answerUser(w, r)
					return
				}
				http.Redirect(w, r, tt.location, http.StatusTemporaryRedirect)
			})
			hc := routed(t, map[string]*hitCounter{
				"directory.example.com:443":  dir,
				"directory.example.com:80":   plain,
				"directory.example.com:8080": plain,
				"elsewhere.example.com:443":  other,
			})
			c, err := New(t.Context(), Config{
				Endpoint: "https://directory.example.com/", Domain: testDomain, HTTPClient: hc,
				CredentialsFile: writeKeyFile(t, tokens), Subject: testAdmin, Retry: fastRetry,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetUser(t.Context(), "ada@example.com")
			if tt.followed {
				if err != nil || len(dir.seen()) != 2 {
					t.Errorf("GetUser = %v after %d requests, want success after following the redirect", err, len(dir.seen()))
				}
				return
			}
			var ee *EndpointError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), "refusing to send credentials") {
				t.Errorf("GetUser = %v, want an *EndpointError refusing to send credentials", err)
			}
			if got := len(dir.seen()); got != 1 {
				t.Errorf("the endpoint saw %d requests, want 1 (a refused redirect is not retried)", got)
			}
			if leaked := append(plain.seen(), other.seen()...); len(leaked) != 0 {
				t.Errorf("the redirect target saw requests with Authorization %q, want none", leaked)
			}
		})
	}
}

func TestDialLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8085", true},
		{"127.255.0.1:80", true},
		{"[::1]:8085", true},
		{"[::ffff:127.0.0.1]:80", true},
		{"0.0.0.0:8085", false},
		{"10.0.0.1:80", false},
		{"[::]:80", false},
		{"[2001:db8::1]:80", false},
		{"localhost:80", false}, // Control sees resolved addresses only
		{"garbage", false},
	}
	for _, tt := range tests {
		if err := dialLoopbackOnly("tcp", tt.addr, nil); (err == nil) != tt.ok {
			t.Errorf("dialLoopbackOnly(%q) = %v, want allowed %v", tt.addr, err, tt.ok)
		}
	}

	// The transport of a loopback endpoint connects to 127.0.0.1 and
	// refuses 0.0.0.0, which Linux would also connect to this machine:
	// this stays on the machine whatever the outcome.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	tr := newTransport(true)
	conn, err := tr.DialContext(t.Context(), "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("dial 127.0.0.1: %v", err)
	}
	conn.Close()
	_, err = tr.DialContext(t.Context(), "tcp", fmt.Sprintf("0.0.0.0:%d", port))
	var ee *EndpointError
	if !errors.As(err, &ee) {
		t.Errorf("dial 0.0.0.0 = %v, want an *EndpointError", err)
	}
}
