package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/naming"
)

// Directory is what the service needs of the Admin SDK Directory API.
// *directory.Client implements it, with its retries, rate limiter and
// unknown-outcome errors.
type Directory interface {
	GetUser(ctx context.Context, key string) (*admin.User, error)
	InsertUser(ctx context.Context, u *admin.User) (*admin.User, error)
	GetGroup(ctx context.Context, key string) (*admin.Group, error)
	GetOrgUnit(ctx context.Context, unitPath string) (*admin.OrgUnit, error)
	EnsureOrgUnit(ctx context.Context, unitPath string, parents directory.Parents) error
	EnsureGroup(ctx context.Context, email, name string) error
	InsertMember(ctx context.Context, groupKey, memberEmail string, fresh directory.Freshness) error
}

var _ Directory = (*directory.Client)(nil)

// Options configure a Service.
type Options struct {
	// Config is the validated config, with defaults applied to it and to
	// its Serve section.
	Config batch.Config
	// Directory is the directory accounts are created in.
	Directory Directory
	// Store is the service's journal.
	Store *Store
	// APIKeys are the bearer tokens a client must send, any one of them.
	// Empty means none is asked for (allowed on loopback only; the caller
	// checks with CheckExposure).
	APIKeys []string
	// Loopback says the service listens on a loopback address only: then
	// every origin is allowed when Config.Serve.AllowOrigins is empty,
	// and the Host header must name the loopback.
	Loopback bool
	// Logger receives one line per request and what the service does.
	// Nil discards.
	Logger *slog.Logger
	// Now is the clock of the rate limiter; nil means time.Now. The
	// store has its own.
	Now func() time.Time
}

// Time budgets of requests that call the directory. They end well before
// the server's write timeout, so that a client always gets an answer.
const (
	suggestBudget = 20 * time.Second
	createBudget  = 45 * time.Second
	settleBudget  = 15 * time.Second
)

// Service answers the Java project's REST contract and serves the operator
// page. It is an http.Handler; Serve runs it on a listener.
type Service struct {
	cfg       batch.Config
	dir       Directory
	store     *Store
	reserver  *naming.Reserver
	placement *batch.Placement
	fields    []string // the custom fields the page asks for
	keys      [][32]byte
	origins   origins
	loopback  bool
	log       *slog.Logger
	limits    *clientLimits
	handler   http.Handler
	timeouts  timeouts

	// suggestMu makes finding names and holding them one step: two
	// suggests never hand out the same name.
	suggestMu sync.Mutex

	mu       sync.Mutex
	inFlight map[string]bool // names whose create runs in this process
	orgUnits map[string]bool // org units known to exist
}

// New returns a Service for opts. It sends no request; call Recover before
// serving to settle what a previous process left unfinished.
func New(opts Options) (*Service, error) {
	cfg := opts.Config.WithDefaults()
	cfg.Serve = cfg.Serve.WithDefaults()
	if opts.Directory == nil || opts.Store == nil {
		return nil, errors.New("new service: a directory and a store are required")
	}
	patterns, err := naming.ParsePatterns(cfg.Patterns)
	if err != nil {
		return nil, fmt.Errorf("new service: %w", err)
	}
	placement, err := batch.NewPlacement(cfg)
	if err != nil {
		return nil, fmt.Errorf("new service: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Service{
		cfg:       cfg,
		dir:       opts.Directory,
		store:     opts.Store,
		placement: placement,
		fields:    pageFields(cfg, patterns, placement),
		keys:      hashKeys(opts.APIKeys),
		origins:   newOrigins(cfg.Serve.AllowOrigins, opts.Loopback),
		loopback:  opts.Loopback,
		log:       logger,
		limits:    newClientLimits(cfg.Serve.RateLimit, now),
		timeouts:  serverTimeouts,
		inFlight:  map[string]bool{},
		orgUnits:  map[string]bool{"/": true},
	}
	s.reserver = naming.NewReserver(naming.Options{
		Patterns: patterns,
		Reserved: slices.Concat(naming.DefaultReserved, cfg.ReservedNames),
		Taken:    addressChecker(s.dir, cfg.Domain),
		Ledger:   s.store,
	})
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// pageFields are the custom fields the page asks for: the configured
// list, or else every field the patterns and templates use besides the
// first and last name.
func pageFields(cfg batch.Config, patterns []naming.Pattern, p *batch.Placement) []string {
	var fields []string
	add := func(f string) {
		f = strings.ToLower(f)
		if f != naming.FirstName && f != naming.LastName && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	if len(cfg.Serve.Fields) > 0 {
		for _, f := range cfg.Serve.Fields {
			add(f)
		}
		return fields
	}
	for _, pt := range patterns {
		for _, f := range pt.Fields() {
			add(f)
		}
	}
	for _, f := range p.Fields() {
		add(f)
	}
	return fields
}

// addressChecker asks the directory, by point reads, whether an address
// is a user (or a user's alias) or a group (or a group's alias): the
// check provision suggest makes.
func addressChecker(dir Directory, domain string) naming.Checker {
	return naming.CheckerFunc(func(ctx context.Context, name string) (bool, error) {
		address := name + "@" + domain
		for _, get := range []func() error{
			func() error { _, err := dir.GetUser(ctx, address); return err },
			func() error { _, err := dir.GetGroup(ctx, address); return err },
		} {
			switch err := get(); {
			case err == nil:
				return true, nil
			case !directory.IsNotFound(err):
				return false, &directoryError{err}
			}
		}
		return false, nil
	})
}

// directoryError marks a failure of the directory while checking names,
// as opposed to one of the journal: the client is told the directory is
// unavailable (503), not that the service failed (500).
type directoryError struct{ err error }

func (e *directoryError) Error() string { return e.err.Error() }
func (e *directoryError) Unwrap() error { return e.err }

// Recover settles what a previous process left unfinished: every create
// whose outcome is not journaled is settled by a point read, and every
// unfinished group membership of a created account is sent again (adding
// a member twice is harmless). A create the directory cannot settle now
// stays unsettled, its name out of use, until a later attempt can.
func (s *Service) Recover(ctx context.Context) error {
	pending, err := s.store.PendingCreates(ctx, "")
	if err != nil {
		return err
	}
	for _, rec := range pending {
		if err := s.settle(ctx, rec); err != nil {
			s.log.Warn("could not settle an unfinished create; its name stays out of use until it can be", "username", rec.Name, "err", err)
		}
	}
	effects, names, err := s.store.PendingMembers(ctx)
	if err != nil {
		return err
	}
	for i, e := range effects {
		email := names[i] + "@" + s.cfg.Domain
		err := s.dir.InsertMember(ctx, e.Target, email, directory.Settled)
		if err != nil && !directory.IsDuplicate(err) {
			s.log.Warn("could not finish adding an account to its group", "email", email, "group", e.Target, "err", plainError(err))
			if oerr := s.store.Outcome(ctx, e, plainError(err), false); oerr != nil {
				return oerr
			}
			continue
		}
		if err := s.store.Outcome(ctx, e, "", true); err != nil {
			return err
		}
	}
	return nil
}
