package emulator

import (
	"maps"
	"sync"
)

// Stats counts what the emulator answered since it started.
type Stats struct {
	// Requests is the number of Directory API requests received.
	Requests int64 `json:"requests"`
	// Methods counts requests per method id, e.g. "directory.users.insert".
	Methods map[string]int64 `json:"methods"`
	// Codes counts answers per HTTP status code; dropped answers are not
	// counted here.
	Codes map[int]int64 `json:"codes"`
	// RateLimited counts requests refused by the per-minute quota.
	RateLimited int64 `json:"rateLimited"`
	// Faults counts injected faults by kind: backendError,
	// userRateLimitExceeded, rateLimitExceeded, quotaExceeded,
	// conditionNotMet, memberNotFound and dropped, and the systemic
	// refusals unauthorized, accessNotConfigured, forbidden,
	// domainNotFound and limitExceeded.
	Faults map[string]int64 `json:"faults"`
}

// statsCounter collects Stats safely for concurrent requests.
type statsCounter struct {
	mu sync.Mutex
	s  Stats
}

func newStatsCounter() *statsCounter {
	return &statsCounter{s: Stats{Methods: map[string]int64{}, Codes: map[int]int64{}, Faults: map[string]int64{}}}
}

func (c *statsCounter) request(method string) {
	c.mu.Lock()
	c.s.Requests++
	c.s.Methods[method]++
	c.mu.Unlock()
}

func (c *statsCounter) answer(code int) {
	c.mu.Lock()
	c.s.Codes[code]++
	c.mu.Unlock()
}

func (c *statsCounter) rateLimited() {
	c.mu.Lock()
	c.s.RateLimited++
	c.mu.Unlock()
}

func (c *statsCounter) fault(kind string) {
	c.mu.Lock()
	c.s.Faults[kind]++
	c.mu.Unlock()
}

func (c *statsCounter) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Methods = maps.Clone(c.s.Methods)
	s.Codes = maps.Clone(c.s.Codes)
	s.Faults = maps.Clone(c.s.Faults)
	return s
}

// Stats returns a copy of the counts so far.
func (s *Server) Stats() Stats { return s.stats.snapshot() }
