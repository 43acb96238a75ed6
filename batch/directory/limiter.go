package directory

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Adaptation of the limiter to rate-limit answers: multiplicative decrease,
// additive increase, as in TCP congestion control.
const (
	// slowFactor multiplies the allowed rate on a rate-limit answer.
	slowFactor = 0.7
	// floorFraction of the quota is the lowest rate the limiter falls to.
	floorFraction = 0.05
	// recoverySeconds is how long a climb from zero back to the quota
	// would take: the rate grows by quota/recoverySeconds each second.
	recoverySeconds = 30
	// slowHold is how long after a decrease the rate neither falls again nor
	// climbs: the answers to requests already in flight at the old rate
	// say nothing new.
	slowHold = time.Second
)

// limiter is the client-side rate limiter shared by every call of a Client.
// It never lets requests go faster than the quota, slows down on rate-limit
// answers and climbs back gradually.
type limiter struct {
	ceiling  rate.Limit // the quota, in requests per second
	floor    rate.Limit
	recovery rate.Limit // climb per second

	mu      sync.Mutex
	lim     *rate.Limiter
	slowed  time.Time // last decrease
	settled time.Time // last time the current rate was brought up to date
}

func newLimiter(perMinute int) *limiter {
	ceiling := rate.Limit(float64(perMinute) / 60)
	// A burst of a tenth of a second's worth keeps the client well inside
	// any server bucket that holds a second's worth, as Google's and the
	// emulator's do, while idle callers still start at once.
	burst := max(1, int(math.Ceil(float64(ceiling)/10)))
	return &limiter{
		ceiling:  ceiling,
		floor:    ceiling * floorFraction,
		recovery: ceiling / recoverySeconds,
		lim:      rate.NewLimiter(ceiling, burst),
	}
}

// wait blocks until a request may be sent. It fails at once, with an error
// that is context.DeadlineExceeded, if that would be after ctx's deadline.
func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	l.climb(time.Now())
	l.mu.Unlock()
	if err := l.lim.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("wait for the rate limiter: %w", context.DeadlineExceeded)
	}
	return nil
}

// slowDown records a rate-limit answer.
func (l *limiter) slowDown() {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.slowed) < slowHold {
		return
	}
	l.climb(now)
	l.slowed = now
	l.settled = now
	l.lim.SetLimitAt(now, max(l.floor, l.lim.Limit()*slowFactor))
}

// climb raises the rate by the recovery slope for the time since it was last
// brought up to date, not counting the hold after a decrease.
func (l *limiter) climb(now time.Time) {
	current := l.lim.Limit()
	if current >= l.ceiling {
		return
	}
	from := l.settled
	if h := l.slowed.Add(slowHold); from.Before(h) {
		from = h
	}
	if !now.After(from) {
		return
	}
	l.settled = now
	l.lim.SetLimitAt(now, min(l.ceiling, current+l.recovery*rate.Limit(now.Sub(from).Seconds())))
}

// perMinute returns the rate the limiter allows now, in requests per minute.
func (l *limiter) perMinute() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.climb(time.Now())
	return float64(l.lim.Limit()) * 60
}
