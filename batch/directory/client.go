package directory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/option"
)

// Config configures a Client. Zero fields take the defaults shown.
type Config struct {
	// Endpoint is the root URL of the Directory API, such as
	// "http://127.0.0.1:8085/" for the emulator. "" means Google's. A
	// loopback endpoint (127.0.0.0/8, ::1, localhost; see IsLoopback) is
	// reached without credentials, and only it may be plain http: New
	// refuses any other http endpoint with an *EndpointError, since the
	// credentials would travel in clear text.
	Endpoint string
	// Domain is the primary domain whose users and groups are managed.
	Domain string
	// Customer is the customer ID org units live under. Default
	// "my_customer", the customer of the acting admin.
	Customer string

	// CredentialsFile is a service account key (JSON). With Impersonate
	// it is the identity that impersonates; otherwise its own identity
	// acts, as Subject when set (domain-wide delegation). "" means
	// Application Default Credentials.
	CredentialsFile string
	// Subject is the admin user to act as (domain-wide delegation).
	Subject string
	// Impersonate is the email of a service account whose tokens are
	// minted through the IAM Credentials API, with no key on disk
	// (Workload Identity on Kubernetes). Subject applies to it.
	Impersonate string
	// IAMOptions configure the IAM Credentials client used with
	// Impersonate, such as option.WithHTTPClient for a proxy.
	IAMOptions []option.ClientOption
	// Groups is what the client may do with groups; it decides the OAuth
	// scopes (see Config.Scopes) and whether Snapshot lists groups.
	Groups GroupAccess

	// QuotaPerMinute is the most requests per minute the client sends,
	// retries and snapshot pages included. Default 2400, Google's default
	// Directory API quota per user per project.
	QuotaPerMinute int
	// SnapshotParallelism is how many list requests Snapshot keeps in
	// flight. Default 16.
	SnapshotParallelism int
	// Retry bounds retries.
	Retry RetryPolicy

	// HTTPClient sends the requests; OAuth is layered on its transport.
	// Default: a client whose transport keeps enough idle connections
	// for many concurrent callers.
	HTTPClient *http.Client
	// Logger receives a debug line per retry. Default: discard.
	Logger *slog.Logger
}

// Client calls the Directory API for one domain. Its methods are safe for
// concurrent use; all of them share one rate limiter and one retry policy.
type Client struct {
	svc      *admin.Service
	domain   string
	customer string
	groups   GroupAccess
	parallel int
	retry    RetryPolicy
	limiter  *limiter
	log      *slog.Logger
	stats    counters
	actor    actor // who the client acts as, for the fixes of systemic answers

	orgUnits    ensurer
	knownGroups ensurer
}

// Stats counts what a Client has sent since New.
type Stats struct {
	Requests    int64   // requests attempted, retries and snapshot pages included
	Retries     int64   // attempts repeated after a transient error
	RateLimited int64   // rate-limit answers (429, or 403 with a rate-limit reason)
	PerMinute   float64 // the rate the limiter allows now, in requests per minute
}

type counters struct {
	requests, retries, rateLimited atomic.Int64
}

// New returns a Client for cfg. ctx is used to find credentials and, without
// its cancellation, to refresh access tokens for the client's lifetime. New
// sends no request.
//
// Credentials travel only over TLS. An http endpoint off this machine is
// refused with an *EndpointError before any credential is read. A loopback
// endpoint loads no credentials: CredentialsFile, Subject and Impersonate
// are ignored. With credentials, the client sends requests to the
// endpoint's host over https only: a redirect elsewhere, or to http, fails
// with an *EndpointError instead of carrying the token there.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Domain == "" {
		return nil, errors.New("new directory client: domain is empty")
	}
	if cfg.Customer == "" {
		cfg.Customer = "my_customer"
	}
	if cfg.QuotaPerMinute <= 0 {
		cfg.QuotaPerMinute = 2400
	}
	if cfg.SnapshotParallelism <= 0 {
		cfg.SnapshotParallelism = 16
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	endpoint, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	local := loopback(endpoint)
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: newTransport(local)}
	}
	if !local {
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		rt, err := authorize(ctx, cfg, base)
		if err != nil {
			return nil, err
		}
		authorized := *hc
		authorized.Transport = newTLSOnly(endpoint, rt)
		hc = &authorized
	}
	svc, err := admin.NewService(ctx, option.WithHTTPClient(hc), option.WithEndpoint(endpoint.String()))
	if err != nil {
		return nil, fmt.Errorf("new directory service: %w", err)
	}
	return &Client{
		svc:      svc,
		domain:   cfg.Domain,
		customer: cfg.Customer,
		groups:   cfg.Groups,
		parallel: cfg.SnapshotParallelism,
		retry:    cfg.Retry.withDefaults(),
		limiter:  newLimiter(cfg.QuotaPerMinute),
		log:      cfg.Logger,
		actor:    newActor(cfg),
	}, nil
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:    c.stats.requests.Load(),
		Retries:     c.stats.retries.Load(),
		RateLimited: c.stats.rateLimited.Load(),
		PerMinute:   c.limiter.perMinute(),
	}
}
