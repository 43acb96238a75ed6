package emulator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestSortedList compares the list with a sorted slice under random
// inserts and deletes, across many chunk splits and removals.
func TestSortedList(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	l := newSortedList(func(s string) string { return s })
	var ref []string
	for step := range 20000 {
		k := fmt.Sprintf("k%05d", r.IntN(5000))
		i, found := slices.BinarySearch(ref, k)
		if r.IntN(3) == 0 {
			if got := l.Delete(k); got != found {
				t.Fatalf("step %d: Delete(%q) = %v, want %v", step, k, got, found)
			}
			if found {
				ref = slices.Delete(ref, i, i+1)
			}
		} else {
			if got := l.Insert(k); got == found {
				t.Fatalf("step %d: Insert(%q) = %v, want %v", step, k, got, !found)
			}
			if !found {
				ref = slices.Insert(ref, i, k)
			}
		}
		if _, ok := l.Get(k); ok != slices.Contains(ref, k) {
			t.Fatalf("step %d: Get(%q) = %v", step, k, ok)
		}
	}
	if l.Len() != len(ref) || !slices.Equal(slices.Collect(l.All()), ref) {
		t.Fatalf("All() differs from the reference: %d values, want %d", l.Len(), len(ref))
	}
	for _, from := range []string{"", "k02500", "k024999", "k99999"} {
		i := sort.SearchStrings(ref, from)
		if got := slices.Collect(l.From(from)); !slices.Equal(got, ref[i:]) {
			t.Errorf("From(%q) = %d values, want %d", from, len(got), len(ref)-i)
		}
	}
	for _, k := range slices.Collect(l.All()) {
		if !l.Delete(k) {
			t.Fatalf("Delete(%q) = false", k)
		}
	}
	if l.Len() != 0 || len(l.chunks) != 0 || len(l.last) != 0 {
		t.Errorf("after deleting everything: %d values, %d chunks", l.Len(), len(l.chunks))
	}
}
