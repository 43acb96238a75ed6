package journal

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A queued write is seen by the lookups of what it concerns before it is
// applied, and without waiting for the database: here the connection is
// held by the test the whole time, as a long statement would hold it.
func TestJournal_queuedWritesAreSeenAtOnce(t *testing.T) {
	j := openTest(t, filepath.Join(t.TempDir(), "job.journal"), Options{})
	ctx := t.Context()
	run := startRun(t, j)
	// Build the filters first: building them needs the connection.
	for _, ks := range []keySet{rowKeys, heldNames, holdingOwners} {
		if err := j.buildFilter(ctx, ks); err != nil {
			t.Fatal(err)
		}
	}
	j.mu.Lock()
	if err := j.SaveRow(ctx, Row{Identity: "id:1", RunID: run.ID, Line: 2, State: Named, Email: "ana.lima@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := j.Hold(ctx, "ana.lima", "id:1"); err != nil {
		t.Fatal(err)
	}
	r, ok, err := j.Row(ctx, "id:1")
	if err != nil || !ok || r.Email != "ana.lima@example.com" || !r.Stored {
		t.Errorf("Row(id:1) while queued = %+v, %v, %v", r, ok, err)
	}
	if owner, err := j.Holder(ctx, "ana.lima"); owner != "id:1" || err != nil {
		t.Errorf("Holder(ana.lima) while queued = %q, %v", owner, err)
	}
	if err := j.Hold(ctx, "ana.lima", "id:2"); err == nil || !strings.Contains(err.Error(), "held already, by id:1") {
		t.Errorf("a second Hold of a queued name = %v, want it refused", err)
	}
	if owner, err := j.Holder(ctx, "nobody.here"); owner != "" || err != nil {
		t.Errorf("Holder(nobody.here) = %q, %v", owner, err)
	}
	j.mu.Unlock()

	// Applied, the same answers come from the database.
	if err := j.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(j.queue.writes); n != 0 {
		t.Errorf("%d writes still queued after Commit", n)
	}
	if r, ok, _ := j.Row(ctx, "id:1"); !ok || r.Line != 2 {
		t.Errorf("Row(id:1) after Commit = %+v, %v", r, ok)
	}
	if owner, _ := j.Holder(ctx, "ana.lima"); owner != "id:1" {
		t.Errorf("Holder(ana.lima) after Commit = %q", owner)
	}
}

// The database sees the writes in the order they were made: a later save
// of a row wins over an earlier one still queued, and a write that is not
// queued (finishing) comes after the queued ones before it.
func TestJournal_queuedWritesKeepTheirOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	j := openTest(t, path, Options{})
	ctx := t.Context()
	run := startRun(t, j)
	r := Row{Identity: "id:1", RunID: run.ID, Line: 2, State: Pending}
	for _, st := range []State{Pending, Named, Created} {
		r.State = st
		if err := j.SaveRows(ctx, []*Row{&r}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, _ := j.Row(ctx, "id:1"); got.State != Created {
		t.Errorf("queued row state = %q, want the last save's, created", got.State)
	}
	r.State, r.Status = Done, "created"
	if err := j.FinishRows(ctx, []*Row{&r}); err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := committed(t, path, "SELECT count(*) FROM rows WHERE state = 'done' AND status = 'created'"); n != 1 {
		t.Errorf("the finished row is not what the database holds (%d rows done)", n)
	}
}

// The names an owner holds come from the database and from the queue,
// oldest first.
func TestJournal_reservationsOfQueuedHolds(t *testing.T) {
	j := openTest(t, filepath.Join(t.TempDir(), "job.journal"), Options{})
	ctx := t.Context()
	if err := j.Hold(ctx, "ana.lima", "id:1"); err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ana", "alima"} {
		if err := j.Hold(ctx, name, "id:1"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Reservations(ctx, "id:1")
	if err != nil || !slices.Equal(got, []string{"ana.lima", "ana", "alima"}) {
		t.Errorf("Reservations(id:1) = %q, %v", got, err)
	}
}

// A queued write the database refuses breaks the journal: what was
// queued after it is dropped, and every later call says so instead of
// answering from a journal that lost writes.
func TestJournal_aFailedQueuedWriteBreaksTheJournal(t *testing.T) {
	j := openTest(t, filepath.Join(t.TempDir(), "job.journal"), Options{})
	ctx := t.Context()
	if err := j.Hold(ctx, "ana.lima", "id:1"); err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Past Hold's own check, as a bug would be: the name is held.
	if err := j.enqueue(queuedWrite{hold: &heldName{name: "ana.lima", owner: "id:2"}}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	err := j.Commit(ctx)
	if err == nil || !strings.Contains(err.Error(), "lost writes") {
		t.Fatalf("Commit after a refused queued write = %v, want the journal broken", err)
	}
	if err := j.SaveRow(ctx, Row{Identity: "id:3", State: Pending}); err == nil {
		t.Error("SaveRow on a broken journal succeeded")
	}
	if _, err := j.Holder(ctx, "ana.lima"); err == nil {
		t.Error("Holder on a broken journal answered")
	}
}

// A filter that grows past its size still never says no for a key it was
// given, and stays selective.
func TestFilter_grows(t *testing.T) {
	f := newFilter(0)
	const n = 3 * minKeys
	for i := range n {
		f.add(fmt.Sprintf("row:%d", i))
	}
	if len(f.parts) < 2 {
		t.Fatalf("%d keys in %d part(s): the filter did not grow", n, len(f.parts))
	}
	for i := range n {
		if !f.mayHave(fmt.Sprintf("row:%d", i)) {
			t.Fatalf("row:%d was added and the filter says no", i)
		}
	}
	maybe := 0
	for i := range n {
		if f.mayHave(fmt.Sprintf("absent:%d", i)) {
			maybe++
		}
	}
	if rate := float64(maybe) / n; rate > 0.02 {
		t.Errorf("false positives: %.2f%%, want under 2%%", 100*rate)
	}
}

// A full cache keeps the entries read since the hand last passed them.
func TestRecent_keepsWhatIsUsed(t *testing.T) {
	r := newRecent[int]()
	for i := range recentSize {
		r.put(fmt.Sprint(i), i)
	}
	r.get("0") // a name many people share
	for i := range recentSize / 2 {
		r.put(fmt.Sprint("new", i), i)
	}
	if _, ok := r.get("0"); !ok {
		t.Error("the entry read before the cache filled up was evicted")
	}
	if _, ok := r.get("1"); ok {
		t.Error("the oldest unread entry was kept")
	}
	if len(r.m) != recentSize {
		t.Errorf("%d entries, want the bound, %d", len(r.m), recentSize)
	}
}

// A commit that fails while the queue is being applied breaks the journal
// and says so; it does not take the process down.
func TestJournal_commitFailingMidDrainBreaksTheJournal(t *testing.T) {
	ctx := t.Context()
	j := openTest(t, filepath.Join(t.TempDir(), "a.journal"), Options{})
	run := startRun(t, j)
	j.mu.Lock()
	if _, err := j.conn.ExecContext(ctx, "DROP TABLE counters"); err != nil { // the counters' save fails at the batch limit
		t.Fatal(err)
	}
	j.mu.Unlock()
	if err := j.SetCounter(ctx, "john#smith", 2); err != nil {
		t.Fatal(err)
	}
	for i := range maxBatch + 100 {
		if err := j.SaveRow(ctx, Row{Identity: fmt.Sprint("id:", i), RunID: run.ID, Line: i + 2, State: Pending}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Commit(ctx); err == nil || !strings.Contains(err.Error(), "lost writes") {
		t.Errorf("Commit = %v, want the journal broken", err)
	}
	if _, _, err := j.Row(ctx, "id:1"); err == nil {
		t.Error("a broken journal answered a lookup")
	}
}

// A queued write the database refuses after an intent was written, and
// before it was committed, fails the intent: its caller does not wait for
// a commit that will never come.
func TestJournal_aFailedQueuedWriteFailsTheIntentBeforeIt(t *testing.T) {
	ctx := t.Context()
	var j *Journal
	var inject atomic.Bool
	now := func() time.Time {
		if inject.CompareAndSwap(true, false) {
			// Queued after the intent's own drain: a row of a run that
			// does not exist, refused by its foreign key.
			if err := j.SaveRow(ctx, Row{Identity: "id:bad", RunID: 999, Line: 1, State: Pending}); err != nil {
				panic(err)
			}
		}
		return time.Now()
	}
	j = openTest(t, filepath.Join(t.TempDir(), "a.journal"), Options{Now: now})
	run := startRun(t, j)
	if err := j.SaveRow(ctx, Row{Identity: "id:1", RunID: run.ID, Line: 2, State: Named}); err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		inject.Store(true)
		_, err := j.Intent(ctx, "id:1", CreateUser, "ana@example.com")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the intent succeeded, though the transaction it was in was lost")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the intent still waits for its commit 10s after the journal broke")
	}
}

// Every write queued before Close returns is on disk after it: a write
// that comes too late is refused, never accepted and lost.
func TestJournal_closeKeepsWhatItAccepted(t *testing.T) {
	ctx := t.Context()
	for it := range 20 {
		path := filepath.Join(t.TempDir(), fmt.Sprint(it, ".journal"))
		j, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		run := startRun(t, j)
		accepted := 0
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				if err := j.SaveRow(ctx, Row{Identity: fmt.Sprint("id:", i), RunID: run.ID, Line: i + 2, State: Pending}); err != nil {
					return
				}
				accepted++
				time.Sleep(20 * time.Microsecond)
			}
		})
		time.Sleep(5 * time.Millisecond)
		j.Close()
		wg.Wait()
		if n := committed(t, path, "SELECT count(*) FROM rows"); n != accepted {
			t.Fatalf("iteration %d: %d saves accepted, %d rows on disk", it, accepted, n)
		}
	}
}

// A commit applies what was queued before it, not what a busy writer
// keeps queueing while it works.
func TestJournal_commitIsNotStarvedByAWriter(t *testing.T) {
	ctx := t.Context()
	j := openTest(t, filepath.Join(t.TempDir(), "a.journal"), Options{})
	run := startRun(t, j)
	if _, _, err := j.Row(ctx, "id:x"); err != nil { // builds the filter: no save needs the connection
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop.Store(true)
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			if j.SaveRow(ctx, Row{Identity: fmt.Sprint("id:", i), RunID: run.ID, Line: i + 2, State: Pending}) != nil {
				return
			}
		}
	})
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- j.Commit(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Commit has not returned after 10s while a writer keeps queueing")
	}
}
