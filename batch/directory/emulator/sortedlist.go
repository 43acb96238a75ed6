package emulator

import (
	"iter"
	"slices"
	"sort"
)

// chunkMax bounds the length of one chunk of a sortedList. An insert or a
// delete moves at most this many pointers, whatever the size of the list.
const chunkMax = 512

// sortedList keeps values ordered by a unique string key, so that pages
// can be served in key order without sorting a million entries per
// request. It is a list of sorted chunks, like the leaf level of a B+ tree:
// a lookup is a binary search over the chunks' last keys, then one within
// a chunk; an update touches one chunk.
type sortedList[T any] struct {
	key    func(T) string
	chunks [][]T
	last   []string // last[c] is the key of the last value of chunks[c]
	n      int
}

func newSortedList[T any](key func(T) string) *sortedList[T] {
	return &sortedList[T]{key: key}
}

// Len returns the number of values in the list.
func (l *sortedList[T]) Len() int { return l.n }

// locate returns the chunk and the index in it of the first value whose
// key is ≥ k; c == len(l.chunks) when there is none.
func (l *sortedList[T]) locate(k string) (c, i int) {
	c, _ = slices.BinarySearch(l.last, k)
	if c == len(l.chunks) {
		return c, 0
	}
	ch := l.chunks[c]
	i = sort.Search(len(ch), func(j int) bool { return l.key(ch[j]) >= k })
	return c, i
}

// Get returns the value with key k.
func (l *sortedList[T]) Get(k string) (T, bool) {
	c, i := l.locate(k)
	if c < len(l.chunks) && l.key(l.chunks[c][i]) == k {
		return l.chunks[c][i], true
	}
	var zero T
	return zero, false
}

// Insert adds v and reports whether it did: false when its key is present.
func (l *sortedList[T]) Insert(v T) bool {
	k := l.key(v)
	c, i := l.locate(k)
	switch {
	case len(l.chunks) == 0:
		l.chunks, l.last = [][]T{{v}}, []string{k}
		l.n++
		return true
	case c == len(l.chunks):
		c = len(l.chunks) - 1
		i = len(l.chunks[c])
		l.last[c] = k
	case l.key(l.chunks[c][i]) == k:
		return false
	}
	l.chunks[c] = slices.Insert(l.chunks[c], i, v)
	l.n++
	if ch := l.chunks[c]; len(ch) > chunkMax {
		half := len(ch) / 2
		right := slices.Clone(ch[half:])
		clear(ch[half:])
		l.chunks[c] = ch[:half:half]
		l.chunks = slices.Insert(l.chunks, c+1, right)
		l.last = slices.Insert(l.last, c, l.key(ch[half-1]))
	}
	return true
}

// Delete removes the value with key k and reports whether it was present.
func (l *sortedList[T]) Delete(k string) bool {
	c, i := l.locate(k)
	if c == len(l.chunks) || l.key(l.chunks[c][i]) != k {
		return false
	}
	ch := slices.Delete(l.chunks[c], i, i+1)
	l.n--
	if len(ch) == 0 {
		l.chunks = slices.Delete(l.chunks, c, c+1)
		l.last = slices.Delete(l.last, c, c+1)
		return true
	}
	l.chunks[c] = ch
	l.last[c] = l.key(ch[len(ch)-1])
	return true
}

// From yields, in key order, the values whose key is ≥ k.
func (l *sortedList[T]) From(k string) iter.Seq[T] {
	return func(yield func(T) bool) {
		c, i := l.locate(k)
		for ; c < len(l.chunks); c, i = c+1, 0 {
			for _, v := range l.chunks[c][i:] {
				if !yield(v) {
					return
				}
			}
		}
	}
}

// All yields every value in key order.
func (l *sortedList[T]) All() iter.Seq[T] { return l.From("") }
