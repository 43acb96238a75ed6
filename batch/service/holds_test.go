package service

import (
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch"
)

func TestHolds_expire(t *testing.T) {
	e := newEnv(t, func(c *batch.Config, _ *Options) { c.Serve.Hold = 30 * time.Second })
	first := e.suggest("Ada", "Lovelace")
	e.clock.Advance(29 * time.Second)
	second := e.suggest("Ada", "Lovelace")
	for _, n := range second {
		if slices.Contains(first, n) {
			t.Errorf("%s was suggested again before its hold expired", n)
		}
	}
	// After 30s the first names are free again and get a new hold; the
	// second ones (29s later) are still held.
	e.clock.Advance(time.Second)
	third := e.suggest("Ada", "Lovelace")
	if !slices.Equal(third, first) {
		t.Errorf("after the hold expired, suggest = %q, want %q again", third, first)
	}
	e.clock.Advance(29 * time.Second)
	fourth := e.suggest("Ada", "Lovelace")
	for _, n := range fourth {
		if slices.Contains(third, n) {
			t.Errorf("%s, held again 29s ago, was suggested", n)
		}
	}
}

// TestHolds_concurrent: 20 clients ask for the same person at once and no
// name is handed out twice.
func TestHolds_concurrent(t *testing.T) {
	e := newEnv(t, func(c *batch.Config, _ *Options) { c.Serve.RateLimit = 10_000 })
	const clients = 20
	var wg sync.WaitGroup
	results := make([][]string, clients)
	for i := range clients {
		wg.Go(func() { results[i] = e.suggest("John", "Smith") })
	}
	wg.Wait()
	seen := map[string]int{}
	for i, names := range results {
		if len(names) != 3 {
			t.Errorf("client %d got %q, want 3 names", i, names)
		}
		for _, n := range names {
			if j, dup := seen[n]; dup {
				t.Errorf("%s was handed to clients %d and %d", n, j, i)
			}
			seen[n] = i
		}
	}
}

// TestHolds_restart: holds, counters and created names survive a restart.
func TestHolds_restart(t *testing.T) {
	e := newEnv(t, nil)
	held := e.suggest("John", "Smith")
	counted := e.suggest("John", "Smith") // jsmith, johns, johnsmith1
	e.restart()
	after := e.suggest("John", "Smith")
	for _, n := range after {
		if slices.Contains(held, n) || slices.Contains(counted, n) {
			t.Errorf("after a restart, %s was suggested while held", n)
		}
	}
	if want := []string{"johnsmith2", "johnsmith3", "johnsmith4"}; !slices.Equal(after, want) {
		t.Errorf("after a restart, suggest = %q, want %q", after, want)
	}
	e.clock.Advance(batch.DefaultServeHold)
	e.restart()
	if got := e.suggest("John", "Smith"); !slices.Equal(got, held) {
		t.Errorf("after the holds expired, suggest = %q, want %q", got, held)
	}
}

func TestStore_file(t *testing.T) {
	e := newEnv(t, nil)
	fi, err := os.Stat(e.path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("journal mode = %v, want 0600", perm)
	}
	// One process at a time.
	_, err = OpenStore(t.Context(), e.path, StoreOptions{Directory: "emulator " + testDomain})
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Errorf("a second OpenStore = %v, want a *LockedError", err)
	}
	// A journal belongs to one directory.
	e.stop()
	_, err = OpenStore(t.Context(), e.path, StoreOptions{Directory: "Google Workspace " + testDomain})
	var other *OtherDirectoryError
	if !errors.As(err, &other) || other.Recorded != "emulator "+testDomain {
		t.Errorf("OpenStore for another directory = %v, want an *OtherDirectoryError", err)
	}
	// Pragmas are checked: WAL took.
	s, err := OpenStore(t.Context(), e.path, StoreOptions{Directory: "emulator " + testDomain})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
}

func TestStore_damaged(t *testing.T) {
	path := t.TempDir() + "/bad.journal"
	if err := os.WriteFile(path, []byte("this is not a database, but it is long enough to look like a header of one........"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(t.Context(), path, StoreOptions{Directory: "x"}); err == nil {
		t.Error("OpenStore of a file that is not SQLite succeeded")
	}
}
