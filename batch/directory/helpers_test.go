package directory

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

const testDomain = "example.com"

// fastRetry retries without waiting more than a few milliseconds, for tests
// that run in real time.
var fastRetry = RetryPolicy{
	MaxAttempts:       6,
	MaxElapsed:        2 * time.Second,
	Initial:           time.Millisecond,
	Max:               4 * time.Millisecond,
	ConsistencyWindow: 2 * time.Second,
	AttemptTimeout:    5 * time.Second,
}

// defaultRetry is the policy a Client uses when none is configured.
var defaultRetry = RetryPolicy{}.withDefaults()

// startEmulator serves an emulator over HTTP on 127.0.0.1 for the test's
// lifetime.
func startEmulator(t testing.TB, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	if opts.Domain == "" {
		opts.Domain = testDomain
	}
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

// newTestClient returns a client of an emulator on 127.0.0.1. cfg's zero
// fields take test defaults: the emulator's domain, fast retries, every group
// scope, a quota high enough not to matter.
func newTestClient(t testing.TB, opts emulator.Options, cfg Config) (*emulator.Server, *Client) {
	t.Helper()
	emu, url := startEmulator(t, opts)
	cfg.Endpoint = url
	return emu, mustClient(t, cfg)
}

func mustClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	if cfg.Domain == "" {
		cfg.Domain = testDomain
	}
	if cfg.Retry == (RetryPolicy{}) {
		cfg.Retry = fastRetry
	}
	if cfg.Groups == GroupMembersOnly {
		cfg.Groups = GroupCreate
	}
	if cfg.QuotaPerMinute == 0 {
		cfg.QuotaPerMinute = 600_000
	}
	c, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// newUser returns a user the emulator accepts.
func newUser(local, externalID string) *admin.User {
	u := &admin.User{
		PrimaryEmail: local + "@" + testDomain,
		Name:         &admin.UserName{GivenName: "Ada", FamilyName: "Lovelace"},
		Password:     "correct horse battery",
	}
	if externalID != "" {
		u.ExternalIds = []*admin.UserExternalId{{Type: "organization", Value: externalID}}
	}
	return u
}

// pipeNet connects HTTP clients to a server in memory. Inside a
// testing/synctest bubble, goroutines blocked on its connections are durably
// blocked, so fake time advances while requests wait on latency or backoff.
type pipeNet struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeNet() *pipeNet {
	return &pipeNet{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (p *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.done:
		return nil, net.ErrClosed
	}
}

func (p *pipeNet) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

func (p *pipeNet) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }

func (p *pipeNet) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case p.conns <- server:
		return client, nil
	case <-p.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startPipeEmulator serves an emulator over a pipeNet and returns a client
// of it. Call it inside a synctest bubble; stop shuts both down so that the
// bubble's goroutines end. A zero cfg.Retry means fastRetry, as in
// mustClient; pass defaultRetry for the real policy under fake time.
//
// observe, when not nil, sees every request the client sends.
func startPipeEmulator(t *testing.T, opts emulator.Options, cfg Config, observe func(*http.Request)) (emu *emulator.Server, c *Client, stop func()) {
	t.Helper()
	if opts.Domain == "" {
		opts.Domain = testDomain
	}
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	pn := newPipeNet()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- emu.Serve(ctx, pn) }()
	tr := &http.Transport{DialContext: pn.dial, MaxIdleConnsPerHost: 256}
	cfg.Endpoint = "http://127.0.0.1/"
	cfg.HTTPClient = &http.Client{Transport: tr}
	if observe != nil {
		cfg.HTTPClient.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			observe(r)
			return tr.RoundTrip(r)
		})
	}
	c = mustClient(t, cfg)
	return emu, c, func() {
		// Let handlers still sleeping on emulated latency finish: the
		// clock is fake, so this costs nothing.
		time.Sleep(time.Hour)
		tr.CloseIdleConnections()
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		pn.Close()
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
