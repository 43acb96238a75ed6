package service

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch"
)

// TestJavaDemo plays the Java project's bulk demo page against the
// service: CORS "simple" requests from a page opened from a file (origin
// null) or another site, text/plain bodies built by string concatenation,
// config read as numbers, then suggest → select the first → create.
func TestJavaDemo(t *testing.T) {
	e := newEnv(t, nil)
	for _, origin := range []string{"null", "http://localhost:8000"} {
		send := func(action, parameters string) (map[string]any, []any) {
			t.Helper()
			r := e.do(http.MethodPost, "/rest/"+action, parameters, "Origin", origin, "Content-Type", "text/plain;charset=UTF-8")
			if got := r.header.Get("Access-Control-Allow-Origin"); got != origin {
				t.Fatalf("%s from %s: Access-Control-Allow-Origin = %q", action, origin, got)
			}
			var v any
			if err := json.Unmarshal(r.body, &v); err != nil {
				t.Fatalf("%s: body %q is not JSON", action, r.body)
			}
			obj, _ := v.(map[string]any)
			if obj["errorMessage"] != nil {
				t.Fatalf("%s: %s", action, r.body)
			}
			arr, _ := v.([]any)
			return obj, arr
		}
		config, _ := send("config", "")
		n, _ := config["numberOfSuggestions"].(float64)
		secs, _ := config["suggestedUsernamesTimeout"].(float64)
		if config["domain"] != testDomain || n != 3 || secs != 120 {
			t.Fatalf("config = %v", config)
		}
		firstname, lastname := "Zoë", "O"+strconv.Itoa(len(origin))+"Brien"
		suggestText := `{"firstname":"` + firstname + `","lastname":"` + lastname + `"}`
		r := e.do(http.MethodPost, "/rest/suggest", suggestText, "Origin", origin)
		var suggestions []string
		if err := json.Unmarshal(r.body, &suggestions); err != nil || len(suggestions) != 3 {
			t.Fatalf("suggest = %s", r.body)
		}
		selected := suggestions[0]
		send("select", `{"username":"`+selected+`","suggestions":`+string(r.body)+`}`)
		created, _ := send("create", `{"username":"`+selected+`","firstname":"`+firstname+`","lastname":"`+lastname+`","password":"12345678"}`)
		if msg, _ := created["message"].(string); !strings.HasPrefix(msg, "User created successfully") {
			t.Errorf("create = %v", created)
		}
		if e.users(selected+"@"+testDomain) != 1 {
			t.Errorf("%s was not created", selected)
		}
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, func(_ *batch.Config, o *Options) { o.Loopback = false })
	// Not loopback and no origins configured: no other site is allowed.
	r := e.do(http.MethodPost, "/rest/config", "", "Origin", "https://evil.example")
	if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a foreign origin = %d, ACAO %q; want 403 without ACAO", r.status, r.header.Get("Access-Control-Allow-Origin"))
	}
	// The page calling its own service is always allowed.
	r = e.do(http.MethodPost, "/rest/config", "", "Origin", e.srv.URL)
	if r.status != http.StatusOK {
		t.Errorf("same origin = %d %s", r.status, r.body)
	}

	const site = "https://intranet.example.org"
	e = newEnv(t, func(c *batch.Config, o *Options) { c.Serve.AllowOrigins = []string{site} })
	// A preflight for a JSON body with a key.
	r = e.do(http.MethodOptions, "/rest/suggest", "", "Origin", site, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type, authorization", "Access-Control-Request-Private-Network", "true")
	h := r.header
	if r.status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != site || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		h.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Errorf("preflight = %d %v", r.status, h)
	}
	// Then the request itself, with Content-Type: application/json.
	r = e.do(http.MethodPost, "/rest/suggest", `{"firstname":"Ada","lastname":"Lovelace"}`, "Origin", site, "Content-Type", "application/json")
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != site {
		t.Errorf("JSON suggest after the preflight = %d %v %s", r.status, r.header, r.body)
	}
	// Errors carry the header too, so the page can read them.
	r = e.do(http.MethodPost, "/rest/suggest", `{"firstname":"Ada"}`, "Origin", site)
	if r.status != http.StatusBadRequest || r.header.Get("Access-Control-Allow-Origin") != site || !strings.Contains(r.header.Get("Vary"), "Origin") {
		t.Errorf("an error = %d %v", r.status, r.header)
	}
	// Another origin is refused before anything happens; "null" too,
	// since the list does not name it.
	for _, o := range []string{"https://other.example.org", "null"} {
		r = e.do(http.MethodPost, "/rest/suggest", `{"firstname":"Ada","lastname":"Lovelace"}`, "Origin", o)
		if r.status != http.StatusForbidden || !strings.Contains(r.errorMessage(t), "not allowed") {
			t.Errorf("origin %s = %d %s, want 403", o, r.status, r.body)
		}
	}
}

func TestAuth(t *testing.T) {
	keys := []string{"old-key-0123456789abcdef", "new-key-0123456789abcdef"}
	e := newEnv(t, func(_ *batch.Config, o *Options) { o.APIKeys = keys })
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"wrong key", "Bearer new-key-0123456789abcdeX", http.StatusUnauthorized},
		{"prefix of a key", "Bearer new-key", http.StatusUnauthorized},
		{"basic auth", "Basic bmV3LWtleQ==", http.StatusUnauthorized},
		{"old key", "Bearer " + keys[0], http.StatusOK},
		{"new key", "Bearer " + keys[1], http.StatusOK},
		{"scheme in lowercase", "bearer " + keys[1], http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.header != "" {
				headers = []string{"Authorization", tt.header}
			}
			r := e.do(http.MethodGet, "/rest/config", "", headers...)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d", r.status, tt.status)
			}
			if tt.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// The page, health checks and preflights need no key.
	for _, path := range []string{"/", "/page.js", "/healthz"} {
		if r := e.do(http.MethodGet, path, ""); r.status != http.StatusOK {
			t.Errorf("GET %s without a key = %d", path, r.status)
		}
	}
	if r := e.do(http.MethodOptions, "/rest/create", "", "Origin", "null", "Access-Control-Request-Method", "POST"); r.status != http.StatusNoContent {
		t.Errorf("preflight without a key = %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *batch.Config, _ *Options) { c.Serve.RateLimit = 60 })
	// A burst of 15 (a quarter of the minute's 60), then one a second.
	for i := range 15 {
		if r := e.do(http.MethodGet, "/rest/config", ""); r.status != http.StatusOK {
			t.Fatalf("request %d = %d", i+1, r.status)
		}
	}
	r := e.do(http.MethodGet, "/rest/config", "", "Origin", "null")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" || r.header.Get("Access-Control-Allow-Origin") != "null" {
		t.Errorf("request 16 = %d, Retry-After %q, ACAO %q", r.status, r.header.Get("Retry-After"), r.header.Get("Access-Control-Allow-Origin"))
	}
	r.errorMessage(t)
	// Health checks are not limited.
	if r := e.do(http.MethodGet, "/healthz", ""); r.status != http.StatusOK {
		t.Errorf("healthz when limited = %d", r.status)
	}
	e.clock.Advance(time.Second)
	if r := e.do(http.MethodGet, "/rest/config", ""); r.status != http.StatusOK {
		t.Errorf("a second later = %d", r.status)
	}
	// Another client, as a proxy in front names it, has its own bucket.
	e2 := newEnv(t, func(c *batch.Config, _ *Options) { c.Serve.RateLimit = 60; c.Serve.ClientIPHeader = "X-Forwarded-For" })
	for range 15 {
		e2.do(http.MethodGet, "/rest/config", "", "X-Forwarded-For", "203.0.113.7, 10.0.0.1")
	}
	if r := e2.do(http.MethodGet, "/rest/config", "", "X-Forwarded-For", "10.0.0.2"); r.status != http.StatusOK {
		t.Errorf("another client behind the proxy = %d", r.status)
	}
	if r := e2.do(http.MethodGet, "/rest/config", "", "X-Forwarded-For", "spoofed, 10.0.0.1"); r.status != http.StatusTooManyRequests {
		t.Errorf("the same client with a spoofed first entry = %d, want 429", r.status)
	}
}

func TestHostCheck(t *testing.T) {
	e := newEnv(t, nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+"/rest/config", nil)
	req.Host = "rebound.evil.example:8080"
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("Host rebound.evil.example on loopback = %d, want 403", resp.StatusCode)
	}
	for _, host := range []string{"localhost:8080", "127.0.0.1", "[::1]:8080"} {
		req.Host = host
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("Host %s = %d, want 200", host, resp.StatusCode)
		}
	}
}

func TestRequestLog(t *testing.T) {
	e := newEnv(t, nil)
	names := e.suggest("Secretfirst", "Secretlast")
	e.post("/rest/create", map[string]any{"username": names[0], "firstname": "Secretfirst", "lastname": "Secretlast", "password": "hunter2hunter2"})
	e.do(http.MethodGet, "/rest/suggest?firstname=Queryfirst&lastname=Querylast", "", "Authorization", "Bearer tokentokentoken")
	log := e.log.String()
	for _, secret := range []string{"hunter2", "Queryfirst", "tokentokentoken", "Secretlast"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q:\n%s", secret, log)
		}
	}
	for _, want := range []string{"method=POST path=/rest/suggest status=200 duration=", "method=POST path=/rest/create status=200", "method=GET path=/rest/suggest status=200"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}
