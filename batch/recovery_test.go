package batch

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// pwDir records the password each account really has (the emulator keeps none).
type pwDir struct {
	Directory
	mu sync.Mutex
	pw map[string]string
}

func (d *pwDir) set(k, p string)     { d.mu.Lock(); d.pw[k] = p; d.mu.Unlock() }
func (d *pwDir) get(k string) string { d.mu.Lock(); defer d.mu.Unlock(); return d.pw[k] }
func (d *pwDir) InsertUser(ctx context.Context, u *admin.User) (*admin.User, error) {
	c, err := d.Directory.InsertUser(ctx, u)
	if err == nil {
		d.set(u.PrimaryEmail, u.Password)
	}
	return c, err
}
func (d *pwDir) ResetPassword(ctx context.Context, key, p, h string, f directory.Freshness) error {
	err := d.Directory.ResetPassword(ctx, key, p, h, f)
	if err == nil {
		d.set(key, p)
	}
	return err
}

func (e *env) runWith(ctx context.Context, dir Directory, fp func(string)) (*Summary, error) {
	e.t.Helper()
	cfg := e.cfg.WithDefaults()
	j, err := journal.Open(ctx, e.journal, journal.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer j.Close()
	job := &Job{Config: cfg, InputPath: e.input, ReportPath: e.report, Journal: j, Directory: dir, Target: e.target, Failpoint: fp, Now: e.now}
	return job.Run(ctx)
}

// A: a reset done by an interrupted invocation is skipped on the next one,
// which still reports a freshly generated password that was never set.
func TestJob_lostPasswordResetTwice(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id,groups\nAna,Lima,1,chess\n")
	d := &pwDir{Directory: e.client, pw: map[string]string{}}
	for i := 0; i < 2; i++ { // 1: interrupt after create; 2: after the reset
		ctx, cancel := context.WithCancel(t.Context())
		var once sync.Once
		_, err := e.runWith(ctx, d, func(n string) {
			if n == "outcome" {
				once.Do(cancel)
			}
		})
		cancel()
		if err == nil {
			t.Fatalf("invocation %d was not interrupted", i+1)
		}
	}
	if _, err := e.runWith(t.Context(), d, nil); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, e.report)
	reported := rows[len(rows)-1][9]
	if real := d.get("analima@example.org"); reported != real {
		t.Errorf("report says password %q, the account has %q", reported, real)
	}
}

// B: a duplicate ID is not rejected when its first row takes a path of
// prepare that does not save the row (here: named in an earlier run); both
// rows are worked, and after a 409 both rename: two accounts for one ID.
func TestJob_duplicateIDAfterEarlierRun(t *testing.T) {
	e := newEnv(t, emulator.Options{Latency: map[string]emulator.Latency{"directory.orgunits.get": {Median: 100 * time.Millisecond}}},
		"firstname,lastname,id,orgunit\nAna,Lima,1,/Missing\n")
	e.cfg.OrgUnit.CreateMissing = false
	if sum, err := e.run(t.Context(), Run); err != nil || sum.Failed() != 1 {
		t.Fatalf("run 1 = %+v, %v", sum, err)
	}
	ctx := t.Context()
	if err := e.client.EnsureOrgUnit(ctx, "/Students", directory.CreateParents); err != nil {
		t.Fatal(err)
	}
	// Someone takes the name run 1 gave the row.
	if _, err := e.client.InsertUser(ctx, &admin.User{PrimaryEmail: "analima@example.org", Password: "correct horse battery",
		Name: &admin.UserName{GivenName: "Ana", FamilyName: "Lima"}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(e.input, []byte("firstname,lastname,id,orgunit\nAna,Lima,1,/Students\nAna,Lima,1,/Students\n"), 0o600)
	sum, err := e.run(ctx, Run)
	if err != nil {
		t.Fatal(err)
	}
	var withID []string
	for _, u := range e.emu.State().Users {
		for _, id := range u.ExternalIDs {
			if id.Value == "1" {
				withID = append(withID, u.PrimaryEmail)
			}
		}
	}
	if len(withID) != 1 || sum.Failed() != 1 {
		t.Errorf("accounts with ID 1: %v; statuses %v; report %v", withID, sum.Statuses, readCSV(t, e.report))
	}
}

// flaky: the first insert lands but its answer is lost, and the point read
// that should settle it fails too.
type flaky struct {
	*pwDir
	n int
}

func (d *flaky) InsertUser(ctx context.Context, u *admin.User) (*admin.User, error) {
	c, err := d.pwDir.InsertUser(ctx, u)
	if err == nil && d.n == 0 {
		d.n = 1
		return nil, &directory.OutcomeUnknownError{Op: "users.insert", Err: context.DeadlineExceeded}
	}
	return c, err
}
func (d *flaky) GetUser(ctx context.Context, key string) (*admin.User, error) {
	if d.n == 1 {
		d.n = 2
		return nil, &googleapi.Error{Code: 503, Message: "backend error"}
	}
	return d.pwDir.GetUser(ctx, key)
}

// C: an unknown outcome that the point read cannot settle is journaled as
// refused; the row is reported failed while the account exists, and the
// rerun adopts it via 409 reporting "created" with a password never set.
func TestJob_unsettledCreateIsSettledNextRun(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id\nAna,Lima,1\n")
	d := &flaky{pwDir: &pwDir{Directory: e.client, pw: map[string]string{}}}
	sum, err := e.runWith(t.Context(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, exists := e.user("analima@example.org")
	t.Logf("run 1: %v, account exists: %v", sum.Statuses, exists)
	sum, err = e.runWith(t.Context(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, e.report)
	reported := rows[len(rows)-1][9]
	if real := d.get("analima@example.org"); reported != real {
		t.Errorf("run 2 %v reports password %q, the account has %q", sum.Statuses, reported, real)
	}
}

// TestJob_explicitAddressChangedBeforeCreate checks that a row named by
// its explicit address in a run that failed takes its new address when the
// file changes it.
func TestJob_explicitAddressChangedBeforeCreate(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id,email,orgunit\nAna,Lima,1,a.lima@example.org,/Missing\n")
	e.cfg.OrgUnit.CreateMissing = false
	if s, err := e.run(t.Context(), Run); err != nil || s.Failed() != 1 {
		t.Fatalf("first run = %+v, %v", s, err)
	}
	os.WriteFile(e.input, []byte("firstname,lastname,id,email,orgunit\nAna,Lima,1,ana@example.org,/\n"), 0o600)
	if s, err := e.run(t.Context(), Run); err != nil || s.Statuses[report.StatusCreated] != 1 {
		t.Fatalf("second run = %+v, %v", s, err)
	}
	if _, ok := e.user("ana@example.org"); !ok {
		t.Errorf("no account ana@example.org; users: %+v", e.emu.State().Users)
	}
}

// TestJob_heldNameOfAnUnsavedRow checks that a name held for a row whose
// row record was lost (the process stopped between the two writes) is the
// name the row gets on resume, as file order gave it.
func TestJob_heldNameOfAnUnsavedRow(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id\nAna,Lima,1\n")
	j, err := journal.Open(t.Context(), e.journal, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// What a crash can leave: the row's pending record and the name held
	// for it are on disk, the row's named record is not.
	run, err := j.StartRun(t.Context(), journal.Run{InputPath: e.input})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.SaveRow(t.Context(), journal.Row{Identity: "id:1", RunID: run.ID, Line: 2, State: journal.Pending}); err != nil {
		t.Fatal(err)
	}
	if err := j.Hold(t.Context(), "ana.lima", "id:1"); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if s, err := e.run(t.Context(), Run); err != nil || s.Statuses[report.StatusCreated] != 1 {
		t.Fatalf("run = %+v, %v", s, err)
	}
	if _, ok := e.user("ana.lima@example.org"); !ok {
		t.Errorf("the row did not get the name held for it; users: %+v", e.emu.State().Users)
	}
}

// TestJob_abandonedRunIsReported checks that starting a new run while an
// earlier one is unfinished says how many of its rows are left.
func TestJob_abandonedRunIsReported(t *testing.T) {
	e := newEnv(t, emulator.Options{Latency: map[string]emulator.Latency{"*": {Median: 5 * time.Millisecond}}}, generatedCSV(20))
	ctx, cancel := context.WithCancel(t.Context())
	j, err := journal.Open(ctx, e.journal, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := &Job{Config: e.cfg.WithDefaults(), InputPath: e.input, ReportPath: e.report, Journal: j, Directory: e.client, Target: e.target,
		Progress: &cancelAfter{n: 3, cancel: cancel}}
	if _, err := job.Run(ctx); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("first run = %v, want interrupted", err)
	}
	j.Close()
	os.WriteFile(e.input, []byte("firstname,lastname,id\nBo,Li,99\n"), 0o600)
	s, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatal(err)
	}
	if s.Abandoned == nil || s.Abandoned.Rows == 0 || s.Abandoned.Rows > 17 {
		t.Errorf("Abandoned = %+v, want the unfinished rows of the first run", s.Abandoned)
	}
}
