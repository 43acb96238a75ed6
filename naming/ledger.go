package naming

import (
	"context"
	"strings"
	"sync"
)

// A Ledger keeps what a Reserver has handed out: which names are held and
// by whom, and where each [#] counter stands. The memory ledger serves
// suggest and tests; a batch job keeps its ledger in the journal, so that a
// resumed job sees every name an earlier run held and memory does not grow
// with the input file.
//
// A Reserver calls its Ledger under its own lock, one call at a time.
type Ledger interface {
	// Holder returns the owner holding name, or "" when nobody does.
	Holder(ctx context.Context, name string) (string, error)
	// Hold records that owner holds name.
	Hold(ctx context.Context, name, owner string) error
	// Counter returns the next number to try for a counter base, or 0 when
	// the base has no counter yet.
	Counter(ctx context.Context, base string) (int, error)
	// SetCounter records the next number to try for a counter base.
	SetCounter(ctx context.Context, base string, next int) error
}

// MemoryLedger is a Ledger in memory. The zero value is not usable; use
// NewMemoryLedger.
type MemoryLedger struct {
	mu       sync.Mutex
	holders  map[string]string
	counters map[string]int
}

// NewMemoryLedger returns an empty ledger.
func NewMemoryLedger() *MemoryLedger {
	return &MemoryLedger{holders: map[string]string{}, counters: map[string]int{}}
}

// Holder implements Ledger.
func (l *MemoryLedger) Holder(_ context.Context, name string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holders[name], nil
}

// Hold implements Ledger. The name is lowercased.
func (l *MemoryLedger) Hold(_ context.Context, name, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holders[strings.ToLower(name)] = owner
	return nil
}

// Counter implements Ledger.
func (l *MemoryLedger) Counter(_ context.Context, base string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counters[base], nil
}

// SetCounter implements Ledger.
func (l *MemoryLedger) SetCounter(_ context.Context, base string, next int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counters[base] = next
	return nil
}
