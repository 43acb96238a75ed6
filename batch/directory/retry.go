package directory

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"google.golang.org/api/googleapi"
)

// RetryPolicy bounds how long and how often one call is retried. Zero fields
// take the defaults shown.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of a call that keeps failing with
	// transient errors, the first attempt included. Default 8.
	MaxAttempts int
	// MaxElapsed bounds the time from a call's first attempt to its last
	// one for transient errors. Default 2m.
	MaxElapsed time.Duration
	// Initial is the ceiling of the first backoff; each retry doubles it up
	// to Max. The wait is drawn uniformly between zero and the ceiling
	// ("full jitter"). Defaults 500ms and 30s.
	Initial, Max time.Duration
	// ConsistencyWindow bounds how long eventual-consistency answers about
	// a just-created user (412 conditionNotMet, a 403, a 404 for the
	// member) are retried, however many attempts that takes. Default 3m.
	ConsistencyWindow time.Duration
	// AttemptTimeout bounds one HTTP exchange. Default 60s.
	AttemptTimeout time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = 2 * time.Minute
	}
	if p.Initial <= 0 {
		p.Initial = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	if p.ConsistencyWindow <= 0 {
		p.ConsistencyWindow = 3 * time.Minute
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = time.Minute
	}
	return p
}

// Freshness says whether the user a call refers to was created moments ago.
// Google answers calls about a new user with 412 "User creation is not
// complete", a 403, or (members.insert) 404 "Resource Not Found: memberKey"
// for a while; with JustCreated those answers are retried for the policy's
// ConsistencyWindow, with Settled they are final (except 412, which is always
// about an unfinished creation).
type Freshness int

const (
	// Settled: the user has existed for a while; a 403 or 404 is real.
	Settled Freshness = iota
	// JustCreated: the user was created by this job moments ago.
	JustCreated
)

// operation describes one API method for the retry layer.
type operation struct {
	name  string // "users.insert", as in logs and OutcomeUnknownError
	write writeKind
	fresh Freshness
	// lag reports whether a 404 is the new user not being visible yet. Nil
	// means a 404 is never lag.
	lag func(*googleapi.Error) bool
}

type writeKind int

const (
	// read or a write whose repetition is harmless: retried after any
	// transient failure.
	idempotent writeKind = iota
	// unsafe: a write that could take effect twice (users.insert). After
	// a failure that may have reached Google, it is not retried.
	unsafe
)

// anyNotFound is the lag test of calls keyed by the new user itself.
func anyNotFound(*googleapi.Error) bool { return true }

// verdict is what the retry layer does with a failed attempt.
type verdict int

const (
	fail           verdict = iota // permanent: return the error
	retry                         // transient: back off and try again
	throttled                     // rate-limit answer: slow the limiter, then retry
	settling                      // eventual consistency: retry within ConsistencyWindow
	outcomeUnknown                // unsafe write that may have been applied
	systemic                      // the job cannot work: confirm with a second request, then stop
)

// classify decides what to do with the error of one attempt. The caller has
// already ruled out its own context being done.
func classify(op operation, err error) verdict {
	if e, ok := apiError(err); ok {
		refusal := refusalOf(e)
		switch {
		case rateLimited(e):
			return throttled
		case refusal == NotAuthorized && op.fresh == JustCreated:
			// Google refuses calls about a user it has not finished
			// creating with this very 403: wait it out first.
			return settling
		case refusal != 0:
			return systemic
		case e.Code == http.StatusPreconditionFailed:
			return settling
		case op.fresh == JustCreated && e.Code == http.StatusForbidden:
			return settling
		case op.fresh == JustCreated && e.Code == http.StatusNotFound && op.lag != nil && op.lag(e):
			return settling
		case e.Code == http.StatusInternalServerError, e.Code == http.StatusBadGateway,
			e.Code == http.StatusServiceUnavailable, e.Code == http.StatusGatewayTimeout:
			if op.write == unsafe {
				return outcomeUnknown
			}
			return retry
		}
		return fail
	}
	var ee *EndpointError
	if errors.As(err, &ee) {
		// Refused before it was sent: repeating cannot help.
		return fail
	}
	var ce *CredentialsError
	if errors.As(err, &ce) {
		// No request reached the Directory API.
		if ce.transient {
			return retry
		}
		return fail
	}
	if !transportFailure(err) {
		return fail
	}
	if op.write == unsafe && maybeSent(err) {
		return outcomeUnknown
	}
	return retry
}

// transportFailure reports whether err is the connection failing rather than
// a mistake that repeating cannot fix: a refused or reset connection, a
// timeout, a response cut short.
func transportFailure(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return errors.Is(err, context.DeadlineExceeded)
	}
	var certErr *tls.CertificateVerificationError
	return !errors.As(err, &certErr)
}

// maybeSent reports whether the request may have reached the server before err.
// Only a failure to connect proves it did not.
func maybeSent(err error) bool {
	var opErr *net.OpError
	return !errors.As(err, &opErr) || opErr.Op != "dial"
}

// retryAfter returns the wait a Retry-After header in err asks for, or 0.
func retryAfter(err error, now time.Time) time.Duration {
	e, ok := apiError(err)
	if !ok || e.Header == nil {
		return 0
	}
	v := e.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// schedule is the backoff.BackOff of one call: exponential ceilings with full
// jitter, stopping at the deadline of the kind of error last seen.
type schedule struct {
	initial, max time.Duration
	retries      int
	deadline     time.Time
}

func (s *schedule) NextBackOff() time.Duration {
	ceiling := s.max
	if s.retries < 32 {
		if c := s.initial << s.retries; c > 0 && c < s.max {
			ceiling = c
		}
	}
	s.retries++
	remaining := time.Until(s.deadline)
	if remaining <= 0 {
		return backoff.Stop
	}
	return min(time.Duration(rand.Int64N(int64(ceiling)+1)), remaining)
}

func (s *schedule) Reset() { s.retries = 0 }

var _ backoff.BackOff = (*schedule)(nil)

// delayed carries an attempt's error together with the wait its Retry-After
// header asked for, which backoff.Retry finds with errors.As.
type delayed struct {
	err   error
	after *backoff.RetryAfterError
}

func (d *delayed) Error() string   { return d.err.Error() }
func (d *delayed) Unwrap() []error { return []error{d.err, d.after} }

// call runs fn, one API request, through the shared rate limiter and the retry
// policy. It is the only way the client talks to the Directory API, so every
// request, retries and snapshot pages included, is paced and counted here.
func call[T any](ctx context.Context, c *Client, op operation, fn func(context.Context) (T, error)) (T, error) {
	p := c.retry
	h := &history{c: c, op: op, policy: p, start: time.Now()}
	h.sched = &schedule{initial: p.Initial, max: p.Max, deadline: h.start.Add(p.MaxElapsed)}
	attempt := func() (T, error) {
		var zero T
		if err := c.limiter.wait(ctx); err != nil {
			return zero, backoff.Permanent(err)
		}
		c.stats.requests.Add(1)
		actx, cancel := context.WithTimeout(ctx, p.AttemptTimeout)
		v, err := fn(actx)
		cancel()
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			// The caller gave up while the request was in flight.
			if op.write == unsafe && maybeSent(err) {
				return zero, backoff.Permanent(&OutcomeUnknownError{Op: op.name, Err: err})
			}
			return zero, backoff.Permanent(err)
		}
		return zero, h.next(err)
	}
	notify := func(err error, wait time.Duration) {
		c.stats.retries.Add(1)
		c.log.LogAttrs(ctx, slog.LevelDebug, "directory: retrying",
			slog.String("op", op.name),
			slog.String("error", errorSummary(err)),
			slog.Duration("wait", wait))
	}
	v, err := backoff.Retry(ctx, attempt,
		backoff.WithBackOff(h.sched),
		backoff.WithMaxTries(0),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(notify))
	if err == nil {
		return v, nil
	}
	var d *delayed
	if errors.As(err, &d) {
		err = d.err
	}
	if h.last == settling && ctx.Err() == nil {
		if e, ok := apiError(err); ok && refusalOf(e) != 0 {
			// Refused for the whole window: not lag after all.
			return v, newSystemicError(op.name, err, c.actor)
		}
		return v, fmt.Errorf("wait %s for a new user to settle: %w", time.Since(h.start).Round(time.Second), err)
	}
	return v, err
}

// history is what one call has met so far, across its attempts.
type history struct {
	c      *Client
	op     operation
	policy RetryPolicy
	start  time.Time
	sched  *schedule

	transient int // transient failures in a row
	refused   int // systemic answers
	last      verdict
}

// next decides what follows the failed attempt err: it returns the error
// for backoff.Retry, marked permanent to stop, or delayed to wait as a
// Retry-After header asks.
func (h *history) next(err error) error {
	p := h.policy
	h.last = classify(h.op, err)
	switch h.last {
	case fail:
		return backoff.Permanent(err)
	case outcomeUnknown:
		return backoff.Permanent(&OutcomeUnknownError{Op: h.op.name, Err: err})
	case throttled, retry:
		if h.last == throttled {
			h.c.stats.rateLimited.Add(1)
			h.c.limiter.slowDown()
		}
		h.transient++
		if h.transient >= p.MaxAttempts {
			return backoff.Permanent(err)
		}
		h.sched.deadline = h.start.Add(p.MaxElapsed)
	case settling:
		// The server answered, about a user it has not finished
		// creating: MaxAttempts bounds runs of transient failures, so a
		// long settling wait does not use up the budget.
		h.transient = 0
		h.sched.deadline = h.start.Add(p.ConsistencyWindow)
	case systemic:
		// A second request confirms the first refusal before the job is
		// told to stop: one answer could be a glitch, and a stop costs a
		// rerun. Each systemic answer is a definitive refusal, nothing
		// applied, so repeating even users.insert is safe.
		h.refused++
		if h.refused >= 2 {
			return backoff.Permanent(newSystemicError(h.op.name, err, h.c.actor))
		}
		if soon := time.Now().Add(p.Initial); h.sched.deadline.Before(soon) {
			h.sched.deadline = soon
		}
		return err
	}
	if d := retryAfter(err, time.Now()); d > 0 {
		if time.Now().Add(d).After(h.sched.deadline) {
			return backoff.Permanent(err)
		}
		return &delayed{err: err, after: &backoff.RetryAfterError{Duration: d}}
	}
	return err
}
