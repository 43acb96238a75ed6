package emulator

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a Server. The zero value serves example.com with no
// quota, no latency and no faults.
type Options struct {
	// Domain is the account's primary domain; every address the emulator
	// creates is in it. Default "example.com".
	Domain string
	// CustomerID is the account's customer id, also reachable as
	// "my_customer". Default "C03az79cb".
	CustomerID string
	// QuotaPerMinute is the per-minute request quota; requests beyond it
	// are answered 403 userRateLimitExceeded. 0 means unlimited. Google's
	// default is 2,400.
	QuotaPerMinute int
	// QuotaBurst is how many requests may arrive at once; default one
	// second's worth of the quota, at least 1.
	QuotaBurst int
	// Latency maps a method id ("directory.users.insert") or "*" to the
	// latency its answers take.
	Latency map[string]Latency
	// Faults are the failures injected; see SetFaults to change them.
	Faults Faults
	// Seed seeds every random choice: ids, faults, latencies, generated
	// users.
	Seed int64
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives a debug line per request; default discards.
	Logger *slog.Logger
}

const (
	defaultDomain     = "example.com"
	defaultCustomerID = "C03az79cb"
	maxBodyBytes      = 1 << 20
)

// Server emulates the Directory API. It is an http.Handler; it is safe for
// concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	etagRoot string

	mu  sync.RWMutex
	dir *directory

	quota       *rate.Limiter // nil: unlimited
	faultMu     sync.Mutex
	faults      Faults
	faultRand   *lockedRand
	latencyRand *lockedRand
	stats       *statsCounter
}

// New returns a Server holding an empty directory: the root org unit and
// nothing else.
func New(opts Options) (*Server, error) {
	if opts.Domain == "" {
		opts.Domain = defaultDomain
	}
	opts.Domain = strings.ToLower(opts.Domain)
	if opts.CustomerID == "" {
		opts.CustomerID = defaultCustomerID
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Latency = maps.Clone(opts.Latency)
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	root := fnv.New128a()
	fmt.Fprintf(root, "%s/%s/%d", opts.Domain, opts.CustomerID, opts.Seed)
	s := &Server{
		opts:        opts,
		log:         opts.Logger,
		etagRoot:    base64.RawURLEncoding.EncodeToString(root.Sum(nil)),
		dir:         newDirectory(opts.Domain, opts.CustomerID, opts.Seed),
		quota:       newQuota(opts.QuotaPerMinute, opts.QuotaBurst),
		faults:      opts.Faults.withDefaults(),
		faultRand:   newLockedRand(opts.Seed, streamFaults),
		latencyRand: newLockedRand(opts.Seed, streamLatency),
		stats:       newStatsCounter(),
	}
	return s, nil
}

func (o Options) validate() error {
	var errs []error
	if !validDomain(o.Domain) {
		errs = append(errs, fmt.Errorf("invalid domain %q", o.Domain))
	}
	if o.QuotaPerMinute < 0 {
		errs = append(errs, fmt.Errorf("negative quota %d", o.QuotaPerMinute))
	}
	if o.QuotaBurst < 0 {
		errs = append(errs, fmt.Errorf("negative quota burst %d", o.QuotaBurst))
	}
	for method, l := range o.Latency {
		if !knownMethod(method) {
			errs = append(errs, fmt.Errorf("latency for unknown method %q", method))
		}
		if err := l.validate(); err != nil {
			errs = append(errs, fmt.Errorf("latency for %s: %w", method, err))
		}
	}
	if err := o.Faults.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Domain returns the domain the emulator serves.
func (s *Server) Domain() string { return s.opts.Domain }

// CustomerID returns the account's customer id.
func (s *Server) CustomerID() string { return s.opts.CustomerID }

func (s *Server) now() time.Time { return s.opts.Now() }

// etag returns an entity tag in Google's form for version v of the
// resource called name.
func (s *Server) etag(name string, v uint32) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	h.Write(binary.BigEndian.AppendUint32(nil, v))
	return `"` + s.etagRoot + "/" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)) + `"`
}

// Serve answers requests on l until ctx is done, then shuts down
// gracefully, letting requests in flight finish for a few seconds.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("emulator: shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: serve: %w", err)
	}
	return nil
}

// ServeHTTP answers a Directory API request, or one of the emulator's own
// endpoints: GET /emulator/v1/state (the State as JSON) and GET
// /emulator/v1/stats (the Stats). Those are never throttled nor faulted.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, apiPrefix):
		s.serveAPI(w, r)
	case r.URL.Path == "/emulator/v1/state" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.State())
	case r.URL.Path == "/emulator/v1/stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	default:
		writeJSON(w, http.StatusNotFound, errNoRoute())
	}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	rt, params, ok := match(r.Method, strings.TrimPrefix(r.URL.EscapedPath(), apiPrefix))
	if !ok {
		s.stats.request("unknown")
		s.answer(w, http.StatusNotFound, errNoRoute())
		return
	}
	s.stats.request(rt.id)
	start := time.Now()
	if err := s.sleep(r.Context(), rt.id); err != nil {
		return // the client has gone
	}
	status, body := s.handle(rt, r, params)
	if isWrite(r.Method) && status < 300 && s.dropAfterSuccess() {
		s.stats.fault(faultDropped)
		s.log.Debug("request", "method", rt.id, "path", r.URL.Path, "status", "dropped", "elapsed", time.Since(start))
		dropConnection(w)
		return
	}
	s.log.Debug("request", "method", rt.id, "path", r.URL.Path, "status", status, "elapsed", time.Since(start))
	s.answer(w, status, body)
}

// handle runs the route through the systemic refusals, the quota and the
// injected faults and returns the status and body of the answer.
func (s *Server) handle(rt *route, r *http.Request, params map[string]string) (int, any) {
	if e := s.refusal(rt.id, r); e != nil {
		return e.code, e
	}
	if s.overQuota(s.now()) {
		return http.StatusForbidden, errUserRateLimit()
	}
	if e := s.requestFault(); e != nil {
		return e.code, e
	}
	c := &call{r: r, params: params, query: r.URL.Query()}
	fields, err := parseFieldMask(c.query.Get("fields"))
	if err != nil {
		e := errFieldSelection(err.Error())
		return e.code, e
	}
	v, err := rt.handle(s, c)
	if err == nil && v != nil && fields != nil {
		v, err = applyMask(v, fields)
	}
	var e *apiError
	switch {
	case errors.As(err, &e):
		return e.code, e
	case err != nil:
		s.log.Error("request failed", "method", rt.id, "err", err)
		e = errInternal()
		return e.code, e
	case v == nil:
		return http.StatusNoContent, nil
	}
	return http.StatusOK, v
}

func (s *Server) answer(w http.ResponseWriter, status int, body any) {
	s.stats.answer(status)
	if body == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// dropConnection closes the connection under w without answering, so the
// client sees EOF or a reset after its request was applied.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2, or a recorder: abort the response, which the server
		// turns into a reset stream or a closed connection.
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}
