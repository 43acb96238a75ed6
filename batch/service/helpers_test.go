package service

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
)

const testDomain = "example.com"

// fastRetry retries without waiting more than a few milliseconds.
var fastRetry = directory.RetryPolicy{
	MaxAttempts:       4,
	MaxElapsed:        2 * time.Second,
	Initial:           time.Millisecond,
	Max:               4 * time.Millisecond,
	ConsistencyWindow: 2 * time.Second,
	AttemptTimeout:    5 * time.Second,
}

// clock is a settable clock for holds and rate limits.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeDirectory is a Directory whose methods can be replaced one by one,
// while the service runs; the others reach the real client.
type fakeDirectory struct {
	Directory
	mu         sync.Mutex
	insertUser func(ctx context.Context, u *admin.User) (*admin.User, error)
	getUser    func(ctx context.Context, key string) (*admin.User, error)
}

func (f *fakeDirectory) onInsertUser(fn func(ctx context.Context, u *admin.User) (*admin.User, error)) {
	f.mu.Lock()
	f.insertUser = fn
	f.mu.Unlock()
}

func (f *fakeDirectory) onGetUser(fn func(ctx context.Context, key string) (*admin.User, error)) {
	f.mu.Lock()
	f.getUser = fn
	f.mu.Unlock()
}

func (f *fakeDirectory) InsertUser(ctx context.Context, u *admin.User) (*admin.User, error) {
	f.mu.Lock()
	fn := f.insertUser
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, u)
	}
	return f.Directory.InsertUser(ctx, u)
}

func (f *fakeDirectory) GetUser(ctx context.Context, key string) (*admin.User, error) {
	f.mu.Lock()
	fn := f.getUser
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, key)
	}
	return f.Directory.GetUser(ctx, key)
}

// env is a service on an emulator, both on 127.0.0.1, for one test.
type env struct {
	t      *testing.T
	emu    *emulator.Server
	client *directory.Client
	dir    *fakeDirectory
	clock  *clock
	store  *Store
	svc    *Service
	srv    *httptest.Server
	path   string // the store's file
	log    *bytes.Buffer
	cfg    batch.Config
	opts   Options
}

// newEnv starts an emulator, a store and a service. change adjusts the
// config and options before the service is built.
func newEnv(t *testing.T, change func(*batch.Config, *Options)) *env {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Domain: testDomain, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	emuSrv := httptest.NewServer(emu)
	t.Cleanup(emuSrv.Close)
	client, err := directory.New(t.Context(), directory.Config{
		Endpoint: emuSrv.URL, Domain: testDomain, Retry: fastRetry, QuotaPerMinute: 600_000, Groups: directory.GroupCreate,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, emu: emu, client: client, dir: &fakeDirectory{Directory: client}, clock: newClock(),
		path: filepath.Join(t.TempDir(), "serve.journal"), log: &bytes.Buffer{}}
	e.cfg = batch.Config{Domain: testDomain}
	e.opts = Options{Loopback: true}
	if change != nil {
		change(&e.cfg, &e.opts)
	}
	e.start()
	return e
}

// start opens the store and serves the service.
func (e *env) start() {
	e.t.Helper()
	store, err := OpenStore(e.t.Context(), e.path, StoreOptions{Directory: "emulator " + testDomain, Hold: e.holdTime(), Now: e.clock.Now})
	if err != nil {
		e.t.Fatalf("OpenStore: %v", err)
	}
	opts := e.opts
	opts.Config, opts.Directory, opts.Store, opts.Now = e.cfg, e.dir, store, e.clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: e.log}, nil))
	svc, err := New(opts)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	if err := svc.Recover(e.t.Context()); err != nil {
		e.t.Fatalf("Recover: %v", err)
	}
	e.store, e.svc = store, svc
	e.srv = httptest.NewServer(svc)
	e.t.Cleanup(e.stop)
}

// stop stops serving and closes the store, as a process that ends.
func (e *env) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.store.Close()
		e.srv = nil
	}
}

// restart stops the service and starts a new one on the same store file.
func (e *env) restart() {
	e.stop()
	e.start()
}

func (e *env) holdTime() time.Duration {
	if e.cfg.Serve.Hold != 0 {
		return e.cfg.Serve.Hold
	}
	return batch.DefaultServeHold
}

// lockedWriter serialises writes to a buffer shared by handlers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// reply is an answer as a test reads it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the service; body "" sends none. Headers are
// name, value pairs.
func (e *env) do(method, path, body string, headers ...string) reply {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// post sends a JSON body built from v.
func (e *env) post(path string, v any, headers ...string) reply {
	e.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, path, string(data), headers...)
}

// suggest asks for names for a person and fails the test unless it gets
// them.
func (e *env) suggest(first, last string) []string {
	e.t.Helper()
	r := e.post("/rest/suggest", map[string]string{"firstname": first, "lastname": last})
	var names []string
	if r.status != http.StatusOK || json.Unmarshal(r.body, &names) != nil {
		e.t.Fatalf("suggest %s %s = %d %s", first, last, r.status, r.body)
	}
	return names
}

// errorMessage returns the errorMessage of an answer, failing the test
// when the body is not the contract's error object.
func (r reply) errorMessage(t *testing.T) string {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", r.body, err)
	}
	msg, ok := body["errorMessage"].(string)
	if !ok || len(body) != 1 || msg == "" || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error body %s is not {\"errorMessage\": one line}", r.body)
	}
	return msg
}

// user reads an account from the emulator's state.
func (e *env) user(email string) (emulator.User, bool) {
	for _, u := range e.emu.State().Users {
		if u.PrimaryEmail == email {
			return u, true
		}
	}
	return emulator.User{}, false
}

// users counts the emulator's accounts with address email.
func (e *env) users(email string) int {
	n := 0
	for _, u := range e.emu.State().Users {
		if u.PrimaryEmail == email {
			n++
		}
	}
	return n
}
