package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisionhq/provision/naming"
)

func openTest(t *testing.T, path string, opts Options) *Journal {
	t.Helper()
	j, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// startRun starts a run of j for a test.
func startRun(t *testing.T, j *Journal) Run {
	t.Helper()
	run, err := j.StartRun(t.Context(), Run{InputPath: "in.csv", InputHash: "h", Fingerprint: "f", ReportPath: "r.csv"})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// committed opens a second, independent connection to the file and
// counts what it sees: only what was committed to disk.
func committed(t *testing.T, path, query string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn(path, true, "FULL"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpen_createsPrivateFileWithCheckedPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "job.journal")
	j := openTest(t, path, Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("journal mode = %v, want 0600", perm)
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
		var got string
		j.read(func() error { return j.conn.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got) })
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestOpen_tightensLoosePermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	openTest(t, path, Options{})
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpen_refusesForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, _ := sql.Open("sqlite3", path)
	db.Exec("CREATE TABLE t (x)")
	db.Close()
	if _, err := Open(t.Context(), path, Options{}); err == nil {
		t.Fatal("Open of a database provision did not write succeeded")
	}
}

func TestOpen_secondProcessIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	first := openTest(t, path, Options{})

	_, err := Open(t.Context(), path, Options{})
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second Open = %v, want a *HeldError", err)
	}
	if held.Holder.PID != os.Getpid() || held.Holder.ID != first.Owner().ID {
		t.Errorf("HeldError names %+v, want the first holder %+v", held.Holder, first.Owner())
	}
	if msg := held.Error(); !containsAll(msg, path, "process", first.Owner().Host) {
		t.Errorf("HeldError = %q, want it to name the journal, the process and the host", msg)
	}

	// Status and report read while a job holds the journal.
	ro := openTest(t, path, Options{ReadOnly: true})
	if o, ok, err := ro.Lease(t.Context()); err != nil || !ok || o.ID != first.Owner().ID {
		t.Errorf("read-only Lease() = %+v, %v, %v; want the holder", o, ok, err)
	}

	first.Close()
	openTest(t, path, Options{}) // free again
}

// crash abandons a journal the way a killed process does: the OS lock goes,
// the lease row stays.
func crash(j *Journal) {
	j.stopHeartbeat.Do(func() {
		close(j.heartbeat)
		j.heartbeats.Wait()
	})
	j.mu.Lock()
	j.closed = true
	j.closeDB()
	j.unlockFile()
	j.mu.Unlock()
}

func TestOpen_takesOverFromCrashedProcessOnSameHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	first, err := Open(t.Context(), path, Options{LeaseTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	crash(first)
	second := openTest(t, path, Options{})
	if second.Owner().ID == first.Owner().ID {
		t.Error("second Open kept the crashed process's lease")
	}
}

func TestOpen_refusesLiveLeaseOfAnotherHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	now := time.Now()
	first, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first.write(t.Context(), durable, func() error {
		_, err := first.exec(t.Context(), "UPDATE lease SET host = 'other-node', expires_at = ?", timestamp(now.Add(time.Minute)))
		return err
	})
	crash(first)

	var held *HeldError
	if _, err := Open(t.Context(), path, Options{}); !errors.As(err, &held) || held.Holder.Host != "other-node" {
		t.Fatalf("Open with another host's live lease = %v, want a *HeldError naming other-node", err)
	}
	// Once the lease has expired, the journal can be taken.
	openTest(t, path, Options{Now: func() time.Time { return now.Add(2 * time.Minute) }})
}

func TestJournal_leaseLostStopsWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	j := openTest(t, path, Options{})
	j.write(t.Context(), durable, func() error {
		_, err := j.exec(t.Context(), "UPDATE lease SET owner = 'someone-else'")
		return err
	})
	if err := j.renew(t.Context()); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("renew after the lease changed hands = %v, want ErrLeaseLost", err)
	}
	if _, err := j.Intent(t.Context(), "id:1", CreateUser, "a@example.com"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Intent after the lease was lost = %v, want ErrLeaseLost", err)
	}
}

func TestJournal_intentIsDurableBatchedWritesAreNot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	clock := time.Now()
	j := openTest(t, path, Options{Now: func() time.Time { return clock }}) // a frozen clock: no time-based flush
	ctx := t.Context()
	run := startRun(t, j)
	if err := j.SaveRow(ctx, Row{Identity: "id:1", RunID: run.ID, Line: 2, State: Named, Email: "ana@example.com"}); err != nil {
		t.Fatal(err)
	}
	if n := committed(t, path, "SELECT count(*) FROM rows"); n != 0 {
		t.Errorf("a batched row is on disk before any commit (%d rows)", n)
	}
	if r, ok, _ := j.Row(ctx, "id:1"); !ok || r.Email != "ana@example.com" {
		t.Errorf("Row(id:1) = %+v, %v; the journal must see its own batched writes", r, ok)
	}
	e, err := j.Intent(ctx, "id:1", CreateUser, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if n := committed(t, path, "SELECT count(*) FROM effects WHERE state = 'intent'"); n != 1 {
		t.Errorf("intent on disk: %d, want 1", n)
	}
	if n := committed(t, path, "SELECT count(*) FROM rows"); n != 1 {
		t.Errorf("rows on disk after an intent: %d, want 1 (the intent commits the batch before it)", n)
	}
	if err := j.Outcome(ctx, e.ID, Applied, "uid-1", ""); err != nil {
		t.Fatal(err)
	}
	// An outcome is batched: a crash before the next commit leaves its
	// intent in flight, which resume settles by a point read.
	if _, err := j.Intent(ctx, "id:1", AddMember, "class@example.com"); err != nil {
		t.Fatal(err)
	}
	if n := committed(t, path, "SELECT count(*) FROM effects WHERE state = 'applied' AND remote_id = 'uid-1'"); n != 1 {
		t.Errorf("outcome on disk after the next intent: %d, want 1", n)
	}
}

// Grouped writes of many goroutines are each on disk when their call
// returns, and share commits.
func TestJournal_groupedIntents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	j := openTest(t, path, Options{})
	ctx := t.Context()
	run := startRun(t, j)
	const workers, each = 16, 20
	for w := range workers {
		if err := j.SaveRow(ctx, Row{Identity: fmt.Sprintf("id:%d", w), RunID: run.ID, Line: w + 2, State: Named}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := j.Intent(ctx, fmt.Sprintf("id:%d", w), AddMember, fmt.Sprintf("g%d@example.com", i)); err != nil {
					errs <- err
					return
				}
				// On disk now, seen by another connection.
				if n := committed(t, path, "SELECT count(*) FROM effects WHERE identity = ? AND target = ?", fmt.Sprintf("id:%d", w), fmt.Sprintf("g%d@example.com", i)); n != 1 {
					errs <- fmt.Errorf("intent %d of worker %d is not on disk when Intent returns", i, w)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestJournal_effects(t *testing.T) {
	j := openTest(t, filepath.Join(t.TempDir(), "job.journal"), Options{})
	ctx := t.Context()
	run, _ := j.StartRun(ctx, Run{InputPath: "in.csv"})
	j.SaveRow(ctx, Row{Identity: "id:1", RunID: run.ID, Line: 2, State: Created})
	create, _ := j.Intent(ctx, "id:1", CreateUser, "ana@example.com")
	member, _ := j.Intent(ctx, "id:1", AddMember, "class-5a@example.com")
	j.Outcome(ctx, member.ID, Refused, "", "group does not exist")

	inflight, err := j.InFlight(ctx)
	if err != nil || len(inflight) != 1 || inflight[0].ID != create.ID || inflight[0].Kind != CreateUser {
		t.Fatalf("InFlight() = %+v, %v; want the create intent only", inflight, err)
	}
	// A retried intent counts its attempts.
	again, _ := j.Intent(ctx, "id:1", AddMember, "class-5a@example.com")
	if again.ID != member.ID || again.Attempts != 2 || again.State != Intended || again.Error != "" {
		t.Errorf("second Intent = %+v, want the same effect, attempt 2, intent, no error", again)
	}
	all, _ := j.Effects(ctx, "id:1")
	if len(all) != 2 {
		t.Errorf("Effects(id:1) = %d effects, want 2", len(all))
	}
	// An intent for a row the journal does not know violates the foreign key.
	if _, err := j.Intent(ctx, "id:unknown", CreateUser, "x@example.com"); err == nil {
		t.Error("Intent for an unknown row succeeded")
	}
}

func TestJournal_rowsAndRuns(t *testing.T) {
	j := openTest(t, filepath.Join(t.TempDir(), "job.journal"), Options{})
	ctx := t.Context()
	if _, ok, err := j.LastRun(ctx); ok || err != nil {
		t.Fatalf("LastRun() on a new journal = %v, %v; want none", ok, err)
	}
	run, err := j.StartRun(ctx, Run{InputPath: "in.csv", InputHash: "abc", Fingerprint: "f1", Config: "patterns: x", ReportPath: "r.csv"})
	if err != nil {
		t.Fatal(err)
	}
	rows := []Row{
		{Identity: "id:3", RunID: run.ID, Line: 4, FirstName: "Bea", LastName: "Lima", State: Failed, Error: "lastname is empty"},
		{Identity: "id:1", RunID: run.ID, Line: 2, FirstName: "Ana", LastName: "Lima", Email: "ana.lima@example.com", OrgUnit: "/Students", Groups: []string{"a@example.com", "b@example.com"}, State: Done, Status: "created", UserID: "u1", Password: PasswordReported, ReportedRun: run.ID},
		{Identity: "id:2", RunID: run.ID, Line: 3, State: Named},
	}
	for _, r := range rows {
		if err := j.SaveRow(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := j.Row(ctx, "id:1")
	if err != nil || !ok || got.Email != rows[1].Email || !slices.Equal(got.Groups, rows[1].Groups) || got.Password != PasswordReported || got.ReportedRun != run.ID {
		t.Errorf("Row(id:1) = %+v, %v, %v; want %+v", got, ok, err, rows[1])
	}
	if got, _, _ := j.Row(ctx, "id:2"); got.Password != PasswordNone || got.Groups != nil {
		t.Errorf("Row(id:2) = %+v, want no password state and no groups", got)
	}
	rows[2].State = Created
	j.SaveRow(ctx, rows[2])
	if got, _, _ := j.Row(ctx, "id:2"); got.State != Created {
		t.Errorf("Row(id:2) after update is %s, want creating", got.State)
	}

	var lines []int
	j.RunRows(ctx, run.ID, func(r Row, _ bool) error { lines = append(lines, r.Line); return nil })
	if !slices.Equal(lines, []int{2, 3, 4}) {
		t.Errorf("RunRows() lines = %v, want 2, 3, 4", lines)
	}
	counts, _ := j.CountStates(ctx)
	if counts[Done] != 1 || counts[Failed] != 1 || counts[Created] != 1 {
		t.Errorf("CountStates() = %v", counts)
	}

	if err := j.ResumeRun(ctx, run.ID, "f2", "patterns: y"); err != nil {
		t.Fatal(err)
	}
	if err := j.EndRun(ctx, run.ID, "1 failed"); err != nil {
		t.Fatal(err)
	}
	last, ok, _ := j.LastRun(ctx)
	if !ok || last.ID != run.ID || last.Invocations != 2 || !last.Finished() || last.Outcome != "1 failed" || last.Fingerprint != "f2" || last.InputHash != "abc" {
		t.Errorf("LastRun() = %+v", last)
	}
}

// TestJournal_ledgerSurvivesReopen runs naming.Reserver on the journal,
// closes it and reopens it, as a resumed job does: names and counters go on.
func TestJournal_ledgerSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	ctx := t.Context()
	patterns := []naming.Pattern{naming.MustParsePattern("[firstname].[lastname]"), naming.MustParsePattern("[firstname][lastname][#]")}
	john := naming.Fields{"firstname": "John", "lastname": "Smith"}
	reserve := func(j *Journal, owners ...string) []string {
		r := naming.NewReserver(naming.Options{Patterns: patterns, Ledger: j, Taken: naming.CheckerFunc(j.NameTaken)})
		var names []string
		for _, o := range owners {
			n, err := r.Reserve(ctx, o, john)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		return names
	}
	j, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	j.LoadSnapshot(ctx, "example.com", func(l *SnapshotLoader) error { return l.AddName(ctx, "johnsmith2", UserName) })
	first := reserve(j, "id:1", "id:2", "id:3")
	j.Close()

	j = openTest(t, path, Options{})
	second := reserve(j, "id:4")
	if got := append(first, second...); !slices.Equal(got, []string{"john.smith", "johnsmith1", "johnsmith3", "johnsmith4"}) {
		t.Errorf("names across a reopen = %q", got)
	}
	if names, _ := j.Reservations(ctx, "id:3"); !slices.Equal(names, []string{"johnsmith3"}) {
		t.Errorf("Reservations(id:3) = %q", names)
	}
	if owner, _ := j.Holder(ctx, "johnsmith1"); owner != "id:2" {
		t.Errorf("Holder(johnsmith1) = %q, want id:2", owner)
	}
	if err := j.Hold(ctx, "johnsmith1", "id:9"); err == nil {
		t.Error("Hold of a held name succeeded; reservations must be unique")
	}
}

func TestJournal_snapshot(t *testing.T) {
	j := openTest(t, filepath.Join(t.TempDir(), "job.journal"), Options{})
	ctx := t.Context()
	s, err := j.LoadSnapshot(ctx, "example.com", func(l *SnapshotLoader) error {
		for _, n := range []string{"ana.lima", "office", "ana.lima"} {
			if err := l.AddName(ctx, n, UserName); err != nil {
				return err
			}
		}
		l.AddExternalID(ctx, "organization:1001", "ana.lima@example.com")
		l.AddExternalID(ctx, "organization:1002", "bo@example.com")
		return l.AddExternalID(ctx, "organization:1002", "bo.2@example.com")
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Domain != "example.com" || s.Taken.IsZero() || s.Names != 2 || s.IDs != 3 {
		t.Errorf("LoadSnapshot() = %+v", s)
	}
	if taken, _ := j.NameTaken(ctx, "office"); !taken {
		t.Error("NameTaken(office) = false")
	}
	if taken, _ := j.NameTaken(ctx, "bea"); taken {
		t.Error("NameTaken(bea) = true")
	}
	if got, _ := j.AccountsWithID(ctx, "organization:1002"); !slices.Equal(got, []string{"bo.2@example.com", "bo@example.com"}) {
		t.Errorf("AccountsWithID(1002) = %q", got)
	}

	// An interrupted load leaves no snapshot that looks complete.
	boom := errors.New("connection reset")
	if _, err := j.LoadSnapshot(ctx, "example.com", func(l *SnapshotLoader) error {
		l.AddName(ctx, "x", UserName)
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("LoadSnapshot with a failing loader = %v", err)
	}
	if s, _ := j.Snapshot(ctx); !s.Taken.IsZero() {
		t.Errorf("Snapshot() after a failed load = %+v, want no complete snapshot", s)
	}
}

func TestJournal_closedJournalRefusesUse(t *testing.T) {
	j, err := Open(context.Background(), filepath.Join(t.TempDir(), "job.journal"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := j.Row(t.Context(), "id:1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Row after Close = %v, want ErrClosed", err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestJournal_leaseLostStopsQueuedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.journal")
	j := openTest(t, path, Options{})
	j.write(t.Context(), durable, func() error {
		_, err := j.exec(t.Context(), "UPDATE lease SET owner = 'someone-else'")
		return err
	})
	j.renew(t.Context())
	if err := j.Hold(t.Context(), "ana.lima", "id:1"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Hold after the lease was lost = %v, want ErrLeaseLost", err)
	}
	if err := j.SaveRow(t.Context(), Row{Identity: "id:1", RunID: 1, State: Pending}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("SaveRow after the lease was lost = %v, want ErrLeaseLost", err)
	}
}
