package directory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// sortedListing lists entries from memory the way users.list does: in
// address order, pageSize at a time, the page token being the last address.
type sortedListing struct {
	keys     []string
	pageSize int
	requests atomic.Int64
}

func (l *sortedListing) list(_ context.Context, prefix, token string) ([]entry, string, error) {
	l.requests.Add(1)
	i := sort.SearchStrings(l.keys, max(prefix, token))
	var out []entry
	for ; i < len(l.keys) && strings.HasPrefix(l.keys[i], prefix); i++ {
		if l.keys[i] == token {
			continue
		}
		if len(out) == l.pageSize {
			return out, out[len(out)-1].key, nil
		}
		out = append(out, entry{key: l.keys[i], names: []Name{{Address: l.keys[i], Kind: UserPrimary}}})
	}
	return out, "", nil
}

// randomAddresses returns n distinct addresses whose local parts use every
// character Google allows, skewed towards a few first letters as real names
// are.
func randomAddresses(r *rand.Rand, n int) []string {
	const common = "jjjjjmmmmaaasl"
	seen := map[string]bool{}
	for len(seen) < n {
		var b strings.Builder
		if r.IntN(4) > 0 {
			b.WriteByte(common[r.IntN(len(common))])
		} else {
			b.WriteByte(firstChars[r.IntN(len(firstChars))])
		}
		for range r.IntN(6) {
			c := laterChars[r.IntN(len(laterChars))]
			if c == '@' || c == '.' && strings.HasSuffix(b.String(), ".") {
				continue
			}
			b.WriteByte(c)
		}
		local := strings.TrimSuffix(b.String(), ".")
		seen[local+"@"+testDomain] = true
	}
	keys := make([]string, 0, n)
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestScheduler_everyAddressOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct {
		n, pageSize, workers int
	}{
		{0, 3, 4},
		{1, 3, 4},
		{50, 1, 1},
		{500, 3, 8},
		{2000, 7, 16},
		{5000, 50, 3},
	} {
		t.Run(fmt.Sprintf("%d addresses, pages of %d, %d workers", tt.n, tt.pageSize, tt.workers), func(t *testing.T) {
			keys := randomAddresses(r, tt.n)
			listing := &sortedListing{keys: keys, pageSize: tt.pageSize}
			s := newScheduler(tt.workers)
			s.add(&shard{list: listing.list, splittable: true})
			out := make(chan snapshotBatch, tt.workers)
			var wg sync.WaitGroup
			for range tt.workers {
				wg.Go(func() {
					if err := s.work(t.Context(), out); err != nil {
						t.Errorf("work = %v", err)
					}
				})
			}
			go func() { wg.Wait(); close(out) }()
			seen := map[string]int{}
			for batch := range out {
				for _, n := range batch.names {
					seen[n.Address]++
				}
			}
			for _, k := range keys {
				if seen[k] != 1 {
					t.Errorf("%s delivered %d times, want once", k, seen[k])
				}
			}
			if len(seen) != len(keys) {
				t.Errorf("delivered %d addresses, want %d", len(seen), len(keys))
			}
			t.Logf("%d requests for %d pages of data", listing.requests.Load(), (tt.n+tt.pageSize-1)/tt.pageSize)
		})
	}
}

// collect runs a snapshot and returns the names it delivered.
func collect(t *testing.T, c *Client) []Name {
	t.Helper()
	var names []Name
	err := c.Snapshot(t.Context(), func(batch []Name) error {
		names = append(names, batch...)
		return nil
	})
	if err != nil {
		t.Fatalf("Snapshot = %v", err)
	}
	return names
}

func TestClient_Snapshot(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{Seed: 7}, Config{SnapshotParallelism: 8})
	if err := emu.Generate(8000); err != nil {
		t.Fatal(err)
	}
	// Addresses starting with the rarer characters Google allows.
	for _, local := range []string{"_svc", "-dash", "o'neil", "007"} {
		if _, err := c.InsertUser(ctx, newUser(local, "X-"+local)); err != nil {
			t.Fatalf("InsertUser(%s) = %v", local, err)
		}
	}
	if err := c.InsertAlias(ctx, "_svc@"+testDomain, "zz.alias@"+testDomain, Settled); err != nil {
		t.Fatal(err)
	}

	st := emu.State()
	want := map[string]NameKind{}
	wantIDs := map[string]string{}
	for _, u := range st.Users {
		want[u.PrimaryEmail] = UserPrimary
		for _, a := range u.Aliases {
			want[a] = UserAlias
		}
		var ids []string
		for _, id := range u.ExternalIDs {
			ids = append(ids, id.Type+":"+id.Value)
		}
		wantIDs[u.PrimaryEmail] = strings.Join(ids, ",")
	}
	for _, g := range st.Groups {
		want[g.Email] = GroupPrimary
		for _, a := range g.Aliases {
			want[a] = GroupAlias
		}
	}

	before := c.Stats().Requests
	names := collect(t, c)
	got := map[string]int{}
	for _, n := range names {
		got[n.Address]++
		if primary, ok := strings.CutSuffix(n.Address, ".test-google-a.com"); ok {
			// A non-editable alias in the domain's secondary address
			// space, which the emulator's state does not list.
			if kind := map[NameKind]NameKind{UserPrimary: UserAlias, GroupPrimary: GroupAlias}[want[primary]]; kind != n.Kind {
				t.Errorf("%s is a %v, want %v", n.Address, n.Kind, kind)
			}
			continue
		}
		if want[n.Address] != n.Kind {
			t.Errorf("%s is a %v, want %v", n.Address, n.Kind, want[n.Address])
		}
		if n.Kind == UserPrimary {
			var ids []string
			for _, id := range n.ExternalIDs {
				ids = append(ids, id.Type+":"+id.Value)
			}
			if strings.Join(ids, ",") != wantIDs[n.Address] {
				t.Errorf("%s has external IDs %v, want %s", n.Address, ids, wantIDs[n.Address])
			}
		}
	}
	for addr := range want {
		if got[addr] != 1 {
			t.Errorf("%s delivered %d times, want once", addr, got[addr])
		}
	}
	for addr, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", addr, n)
		}
	}
	requests := c.Stats().Requests - before
	es := emu.Stats()
	t.Logf("%d names of %d users and %d groups in %d requests", len(names), len(st.Users), len(st.Groups), requests)
	if es.Methods["directory.groups.list"] == 0 || es.Methods["directory.users.list"] < 8000/userPageSize {
		t.Errorf("emulator saw %v", es.Methods)
	}
}

// A domain that fits in a page costs one listing of users and one of
// groups; splitting starts only when a first page says the domain is large.
func TestClient_Snapshot_smallDomain(t *testing.T) {
	for _, users := range []int{0, 1, 300} {
		t.Run(fmt.Sprintf("%d users", users), func(t *testing.T) {
			emu, c := newTestClient(t, emulator.Options{Seed: 11}, Config{SnapshotParallelism: 8})
			if err := emu.Generate(users); err != nil {
				t.Fatal(err)
			}
			if st := emu.State(); len(st.Users) > userPageSize || len(st.Groups) > groupPageSize {
				t.Fatalf("the directory holds %d users and %d groups, more than a page", len(st.Users), len(st.Groups))
			}
			names := collect(t, c)
			es := emu.Stats()
			if u, g := es.Methods["directory.users.list"], es.Methods["directory.groups.list"]; u != 1 || g != 1 {
				t.Errorf("snapshot of %d names listed users %d times and groups %d times, want once each", len(names), u, g)
			}
		})
	}
}

func TestClient_Snapshot_parallel(t *testing.T) {
	const parallel = 6
	var inFlight, most atomic.Int64
	emu, url := startEmulator(t, emulator.Options{Seed: 3, Latency: map[string]emulator.Latency{"*": {Median: 5 * time.Millisecond}}})
	if err := emu.Generate(3000); err != nil {
		t.Fatal(err)
	}
	counting := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c := mustClient(t, Config{Endpoint: url, SnapshotParallelism: parallel, HTTPClient: &http.Client{Transport: counting}})
	var sinks, concurrentSinks atomic.Int64
	err := c.Snapshot(t.Context(), func([]Name) error {
		if sinks.Add(1) > 1 {
			concurrentSinks.Add(1)
		}
		defer sinks.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m < 2 || m > parallel {
		t.Errorf("at most %d requests in flight, want between 2 and %d", m, parallel)
	}
	if n := concurrentSinks.Load(); n != 0 {
		t.Errorf("sink called concurrently %d times", n)
	}
}

func TestClient_Snapshot_errors(t *testing.T) {
	emu, url := startEmulator(t, emulator.Options{Seed: 5})
	if err := emu.Generate(1000); err != nil {
		t.Fatal(err)
	}
	t.Run("sink error stops it", func(t *testing.T) {
		c := mustClient(t, Config{Endpoint: url})
		stop := errors.New("journal full")
		calls := 0
		err := c.Snapshot(t.Context(), func([]Name) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Snapshot = %v after %d sink calls, want %v after 1", err, calls, stop)
		}
	})
	t.Run("API error stops it", func(t *testing.T) {
		emu.SetFaults(emulator.Faults{BackendError: 1})
		defer emu.SetFaults(emulator.Faults{})
		c := mustClient(t, Config{Endpoint: url})
		err := c.Snapshot(t.Context(), func([]Name) error { return nil })
		if StatusCode(err) != http.StatusServiceUnavailable {
			t.Errorf("Snapshot = %v, want the 503", err)
		}
	})
	t.Run("without group access", func(t *testing.T) {
		before := emu.Stats().Methods["directory.groups.list"]
		c, err := New(t.Context(), Config{Endpoint: url, Domain: testDomain, Retry: fastRetry, QuotaPerMinute: 600_000})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range collect(t, c) {
			if n.Kind == GroupPrimary || n.Kind == GroupAlias {
				t.Fatalf("got group name %s without group access", n.Address)
			}
		}
		if after := emu.Stats().Methods["directory.groups.list"]; after != before {
			t.Errorf("groups.list sent %d times, want none", after-before)
		}
	})
}
