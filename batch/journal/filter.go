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
// stays small and flat: about 10 bits per key, a few MB for a million.

// filter is a Bloom filter of strings, sized for capacity keys at about a
// 1% false-positive rate. It is not safe for concurrent use: the journal
// uses it under j.mu.
type filter struct {
	bits     []uint64
	k        int // hashes per key
	n        int // keys added
	capacity int
}

// bitsPerKey and hashes give about 1% false positives at capacity.
const (
	bitsPerKey = 10
	hashes     = 7
	minKeys    = 1 << 16
)

var filterSeed = maphash.MakeSeed()

func newFilter(capacity int) *filter {
	capacity = max(capacity, minKeys)
	return &filter{bits: make([]uint64, (capacity*bitsPerKey+63)/64), k: hashes, capacity: capacity}
}

// positions returns the two hashes from which the k bit positions of key
// are derived (Kirsch and Mitzenmacher's double hashing).
func (f *filter) positions(key string) (uint64, uint64) {
	h := maphash.String(filterSeed, key)
	return h, (h >> 33) | (h << 31) | 1
}

func (f *filter) add(key string) {
	h1, h2 := f.positions(key)
	m := uint64(len(f.bits) * 64)
	for i := range f.k {
		b := (h1 + uint64(i)*h2) % m
		f.bits[b/64] |= 1 << (b % 64)
	}
	f.n++
}

// mayHave reports false only when key was never added.
func (f *filter) mayHave(key string) bool {
	h1, h2 := f.positions(key)
	m := uint64(len(f.bits) * 64)
	for i := range f.k {
		b := (h1 + uint64(i)*h2) % m
		if f.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// full reports whether the filter holds more keys than it was sized for:
// its false positives grow, and it should be built again, larger.
func (f *filter) full() bool { return f.n > f.capacity }

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

// filterLocked returns the filter of ks, building it from its table the
// first time, or again, twice as large, once it is full. j.mu must be
// held.
func (j *Journal) filterLocked(ctx context.Context, ks keySet) (*filter, error) {
	f := j.filters[ks.name]
	if f != nil && !f.full() {
		return f, nil
	}
	var count int
	if err := j.conn.QueryRowContext(ctx, "SELECT count(*) FROM ("+ks.query+")").Scan(&count); err != nil {
		return nil, fmt.Errorf("count %s: %w", ks.name, err)
	}
	q, err := j.conn.QueryContext(ctx, ks.query)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ks.name, err)
	}
	defer q.Close()
	f = newFilter(2 * count)
	for q.Next() {
		var key string
		if err := q.Scan(&key); err != nil {
			return nil, fmt.Errorf("read %s: %w", ks.name, err)
		}
		f.add(key)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", ks.name, err)
	}
	j.filters[ks.name] = f
	return f, nil
}

// mayHoldLocked reports whether the set ks may hold key: false means
// certainly not. j.mu must be held.
func (j *Journal) mayHoldLocked(ctx context.Context, ks keySet, key string) (bool, error) {
	f, err := j.filterLocked(ctx, ks)
	if err != nil {
		return false, err
	}
	return f.mayHave(key), nil
}

// mayHold is mayHoldLocked for callers that do not hold j.mu.
func (j *Journal) mayHold(ctx context.Context, ks keySet, key string) (bool, error) {
	var may bool
	err := j.read(func() (err error) {
		may, err = j.mayHoldLocked(ctx, ks, key)
		return err
	})
	return may, err
}

// noteLocked adds key to the filter of ks, if that filter is built: a
// filter built later reads the key from its table. j.mu must be held.
func (j *Journal) noteLocked(ks keySet, key string) {
	if f := j.filters[ks.name]; f != nil {
		f.add(key)
	}
}

// forgetLocked drops the filter of ks, after its table lost keys: the
// next lookup builds it again. j.mu must be held.
func (j *Journal) forgetLocked(ks keySet) {
	delete(j.filters, ks.name)
}

// A recent is a bounded map of recently used keys and their values, for
// the lookups a job repeats: the holder of a name many people share, the
// counter of a common name. The oldest entry goes when it is full. Like
// the filters it is used under j.mu.
type recent[V any] struct {
	m     map[string]V
	order []string // ring of keys, oldest at next
	next  int
}

// recentSize bounds each cache: a few MB at most.
const recentSize = 1 << 16

func newRecent[V any]() *recent[V] {
	return &recent[V]{m: make(map[string]V), order: make([]string, 0, recentSize)}
}

func (r *recent[V]) get(key string) (V, bool) {
	v, ok := r.m[key]
	return v, ok
}

func (r *recent[V]) put(key string, v V) {
	if _, ok := r.m[key]; ok {
		r.m[key] = v
		return
	}
	if len(r.order) < recentSize {
		r.order = append(r.order, key)
	} else {
		delete(r.m, r.order[r.next])
		r.order[r.next] = key
		r.next = (r.next + 1) % recentSize
	}
	r.m[key] = v
}
