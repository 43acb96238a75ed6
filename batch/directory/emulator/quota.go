package emulator

import (
	"time"

	"golang.org/x/time/rate"
)

// newQuota returns the token bucket behind Options.QuotaPerMinute, or nil
// when the quota is unlimited. It refills at perMinute/60 tokens a second
// and holds burst tokens, one second's worth unless told otherwise, so a
// client that keeps under the per-minute rate is never refused while one
// that bursts is, as with Google's per-user quota.
func newQuota(perMinute, burst int) *rate.Limiter {
	if perMinute <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(1, perMinute/60)
	}
	return rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)
}

// overQuota takes one token for a request made at now and reports whether
// there was none, in which case the request is answered 403
// userRateLimitExceeded.
func (s *Server) overQuota(now time.Time) bool {
	if s.quota == nil || s.quota.AllowN(now, 1) {
		return false
	}
	s.stats.rateLimited()
	return true
}
