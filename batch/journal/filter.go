package journal

import (
	"context"
	"fmt"
	"hash/maphash"
)

// Most lookups of a job are for something the journal does not hold: a
// new row's identity, a candidate username nobody has, an external ID no
// account carries. Each would cost a query through cgo. A filter (a Bloom
// filter) answers "certainly not" for those from a few bits per key held
// in memory, and lets only the others reach SQLite: it may say "maybe"
// for a key that is absent, never "no" for one that is present. Memory
// stays small and flat: about 12 bits per key, a few MB for a million.

// A filter is a Bloom filter of strings that grows with its set: when
// its newest part holds as many keys as it was sized for, a part twice as
// large takes the next ones, so a filter never has to be built again from
// its table. Each part answers at about 0.3% false positives; a key is
// maybe present when any part says so. It is not safe for concurrent use:
// the journal uses it under j.mem.
type filter struct {
	parts []*bloom
}

// A bloom is one part of a filter, sized for capacity keys.
type bloom struct {
	bits     []uint64
	n        int // keys added
	capacity int
}

// bitsPerKey and hashes give about 0.3% false positives at capacity.
const (
	bitsPerKey = 12
	hashes     = 8
	minKeys    = 1 << 16
)

var filterSeed = maphash.MakeSeed()

func newFilter(capacity int) *filter {
	return &filter{parts: []*bloom{newBloom(capacity)}}
}

func newBloom(capacity int) *bloom {
	capacity = max(capacity, minKeys)
	return &bloom{bits: make([]uint64, (capacity*bitsPerKey+63)/64), capacity: capacity}
}

// positions returns the two hashes from which the bit positions of key
// are derived (Kirsch and Mitzenmacher's double hashing).
func positions(key string) (uint64, uint64) {
	h := maphash.String(filterSeed, key)
	return h, (h >> 33) | (h << 31) | 1
}

func (f *filter) add(key string) {
	last := f.parts[len(f.parts)-1]
	if last.n >= last.capacity {
		last = newBloom(2 * last.capacity)
		f.parts = append(f.parts, last)
	}
	h1, h2 := positions(key)
	m := uint64(len(last.bits) * 64)
	for i := range uint64(hashes) {
		b := (h1 + i*h2) % m
		last.bits[b/64] |= 1 << (b % 64)
	}
	last.n++
}

// mayHave reports false only when key was never added.
func (f *filter) mayHave(key string) bool {
	h1, h2 := positions(key)
	for _, p := range f.parts {
		if p.has(h1, h2) {
			return true
		}
	}
	return false
}

func (p *bloom) has(h1, h2 uint64) bool {
	m := uint64(len(p.bits) * 64)
	for i := range uint64(hashes) {
		b := (h1 + i*h2) % m
		if p.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// A keySet is what a filter stands for: the query that lists its keys.
type keySet struct {
	name  string
	query string // SELECT of one text column: every key
}

// The journal's filters.
var (
	rowKeys       = keySet{"rows", "SELECT identity FROM rows"}
	heldNames     = keySet{"reservations", "SELECT name FROM reservations"}
	holdingOwners = keySet{"reservation owners", "SELECT DISTINCT owner FROM reservations"}
	snapshotNames = keySet{"names", "SELECT name FROM names"}
	accountIDs    = keySet{"external IDs", "SELECT external_id FROM directory_ids UNION SELECT external_id FROM known_ids"}
)

// buildFilter builds the filter of ks from its table, unless it is built:
// once, the first time it is needed, after the queued writes are applied.
// From then on the writes keep it up to date (note) and it never needs
// the database again.
func (j *Journal) buildFilter(ctx context.Context, ks keySet) error {
	j.mem.Lock()
	built := j.filters[ks.name] != nil
	j.mem.Unlock()
	if built {
		return nil
	}
	return j.read(func() error {
		j.mem.Lock()
		defer j.mem.Unlock()
		if j.filters[ks.name] != nil {
			return nil
		}
		var count int
		if err := j.conn.QueryRowContext(ctx, "SELECT count(*) FROM ("+ks.query+")").Scan(&count); err != nil {
			return fmt.Errorf("count %s: %w", ks.name, err)
		}
		q, err := j.conn.QueryContext(ctx, ks.query)
		if err != nil {
			return fmt.Errorf("read %s: %w", ks.name, err)
		}
		defer q.Close()
		f := newFilter(2 * count)
		for q.Next() {
			var key string
			if err := q.Scan(&key); err != nil {
				return fmt.Errorf("read %s: %w", ks.name, err)
			}
			f.add(key)
		}
		if err := q.Err(); err != nil {
			return fmt.Errorf("read %s: %w", ks.name, err)
		}
		// Writes queued since read applied the queue are in neither the
		// table nor a filter yet.
		j.noteQueuedMemLocked(ks, f)
		j.filters[ks.name] = f
		return nil
	})
}

// noteQueuedMemLocked adds to f the keys of ks that queued writes add.
// j.mem must be held.
func (j *Journal) noteQueuedMemLocked(ks keySet, f *filter) {
	switch ks {
	case rowKeys:
		for id := range j.queue.rows {
			f.add(id)
		}
	case heldNames:
		for name := range j.queue.holds {
			f.add(name)
		}
	case holdingOwners:
		for _, owner := range j.queue.holds {
			f.add(owner)
		}
	}
}

// mayHoldMemLocked reports whether the set ks may hold key: false means
// certainly not. A filter not built says maybe. j.mem must be held.
func (j *Journal) mayHoldMemLocked(ks keySet, key string) bool {
	f := j.filters[ks.name]
	return f == nil || f.mayHave(key)
}

// lockMem locks j.mem for a lookup once the filters of sets are built,
// and returns with it held unless the journal cannot be used. The caller
// unlocks j.mem.
func (j *Journal) lockMem(ctx context.Context, sets ...keySet) error {
	for {
		j.mem.Lock()
		if err := j.usableMemLocked(); err != nil {
			j.mem.Unlock()
			return err
		}
		missing := -1
		for i, ks := range sets {
			if j.filters[ks.name] == nil {
				missing = i
				break
			}
		}
		if missing < 0 {
			return nil
		}
		j.mem.Unlock()
		if err := j.buildFilter(ctx, sets[missing]); err != nil {
			return err
		}
	}
}

// mayHold reports whether the set ks may hold key, building its filter
// if needed: false means certainly not.
func (j *Journal) mayHold(ctx context.Context, ks keySet, key string) (bool, error) {
	if err := j.lockMem(ctx, ks); err != nil {
		return false, err
	}
	defer j.mem.Unlock()
	return j.mayHoldMemLocked(ks, key), nil
}

// noteMemLocked adds key to the filter of ks, if that filter is built: a
// filter built later reads the key from its table. j.mem must be held.
func (j *Journal) noteMemLocked(ks keySet, key string) {
	if f := j.filters[ks.name]; f != nil {
		f.add(key)
	}
}

// note is noteMemLocked for callers that do not hold j.mem.
func (j *Journal) note(ks keySet, key string) {
	j.mem.Lock()
	defer j.mem.Unlock()
	j.noteMemLocked(ks, key)
}

// forget drops the filter of ks, after its table lost keys: the next
// lookup builds it again.
func (j *Journal) forget(ks keySet) {
	j.mem.Lock()
	defer j.mem.Unlock()
	delete(j.filters, ks.name)
}

// A recent is a bounded map of recently used keys and their values, for
// the lookups a job repeats: the holder of a name many people share, the
// counter of a common name. When it is full, an entry goes to make room
// (the CLOCK algorithm): the oldest one not used since the hand last
// passed it, so that the names many rows ask for stay. Like the filters it
// is used under j.mem.
type recent[V any] struct {
	m     map[string]*recentEntry[V]
	order []string // ring of keys; the hand is at next
	next  int
}

type recentEntry[V any] struct {
	v    V
	used bool // read since the hand last passed
}

// recentSize bounds each cache: a few MB at most.
const recentSize = 1 << 15

func newRecent[V any]() *recent[V] {
	return &recent[V]{m: make(map[string]*recentEntry[V]), order: make([]string, 0, recentSize)}
}

func (r *recent[V]) get(key string) (V, bool) {
	e, ok := r.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	e.used = true
	return e.v, true
}

func (r *recent[V]) put(key string, v V) {
	if e, ok := r.m[key]; ok {
		e.v = v
		return
	}
	if len(r.order) < recentSize {
		r.order = append(r.order, key)
		r.m[key] = &recentEntry[V]{v: v}
		return
	}
	for {
		old := r.order[r.next]
		if e := r.m[old]; e.used {
			e.used = false // a second chance
			r.next = (r.next + 1) % recentSize
			continue
		}
		delete(r.m, old)
		r.order[r.next] = key
		r.m[key] = &recentEntry[V]{v: v}
		r.next = (r.next + 1) % recentSize
		return
	}
}
