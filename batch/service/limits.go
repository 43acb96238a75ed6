package service

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// idleLimit is how long a client's limiter is kept after its last request.
const idleLimit = 10 * time.Minute

// clientLimits is a token bucket per client address: perMinute requests a
// minute, with bursts of a quarter of that (at least 10), enough for a
// person typing a name into a page that asks for suggestions as they type.
type clientLimits struct {
	perMinute int
	now       func() time.Time

	mu      sync.Mutex
	clients map[string]*clientLimit
	swept   time.Time
}

type clientLimit struct {
	limiter *rate.Limiter
	seen    time.Time
}

func newClientLimits(perMinute int, now func() time.Time) *clientLimits {
	return &clientLimits{perMinute: perMinute, now: now, clients: map[string]*clientLimit{}, swept: now()}
}

// allow takes a token for client. When there is none it returns how long
// until there is.
func (l *clientLimits) allow(client string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleLimit {
		for k, c := range l.clients {
			if now.Sub(c.seen) > idleLimit {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c, ok := l.clients[client]
	if !ok {
		burst := max(10, l.perMinute/4)
		c = &clientLimit{limiter: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), burst)}
		l.clients[client] = c
	}
	c.seen = now
	r := c.limiter.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimit answers 429 with Retry-After to a client over its limit.
func (s *Service) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := s.limits.allow(s.clientIP(r))
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			err := failf(http.StatusTooManyRequests, "too many requests from this client; try again in %d seconds", secs)
			err.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP is the client's address: the connection's, or, when the
// service is told a proxy sets it, the header the proxy sets. Of
// X-Forwarded-For only the last entry counts, the one the proxy added:
// the client may have written the others.
func (s *Service) clientIP(r *http.Request) string {
	if name := s.cfg.Serve.ClientIPHeader; name != "" {
		if v := r.Header.Values(name); len(v) > 0 {
			entries := strings.Split(v[len(v)-1], ",")
			if last := strings.TrimSpace(entries[len(entries)-1]); last != "" {
				return last
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
