package emulator

import (
	"math/rand/v2"
	"sync"
)

// lockedRand is a deterministic random source safe for concurrent use.
// The emulator keeps one per concern (faults, latency), each seeded from
// Options.Seed, so that drawing latencies does not shift which requests
// fail.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// Streams of random numbers drawn from one seed, one per concern.
const (
	streamFaults uint64 = iota + 1
	streamLatency
	streamDirectory
)

func newLockedRand(seed int64, stream uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(uint64(seed), stream))}
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

func (l *lockedRand) NormFloat64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.NormFloat64()
}
