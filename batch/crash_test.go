package batch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
)

// crashChildEnv makes the test binary run one job invocation and exit,
// for TestJob_survivesSIGKILL to kill.
const crashChildEnv = "PROVISION_TEST_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// crashChild runs the job described by its environment once.
func crashChild() int {
	ctx := context.Background()
	client, err := directory.New(ctx, directory.Config{
		Endpoint:       os.Getenv("CRASH_ENDPOINT"),
		Domain:         "example.org",
		Groups:         directory.GroupCreate,
		QuotaPerMinute: 1_000_000,
		Retry:          directory.RetryPolicy{Initial: 2 * time.Millisecond, Max: 50 * time.Millisecond, ConsistencyWindow: 20 * time.Second},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	j, err := journal.Open(ctx, os.Getenv("CRASH_JOURNAL"), journal.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	defer j.Close()
	cfg := Config{Domain: "example.org", OrgUnit: OrgUnitConfig{Default: "/Grade [grade]", CreateMissing: true},
		Groups: GroupsConfig{CreateMissing: true}}.WithDefaults()
	job := &Job{Config: cfg, InputPath: os.Getenv("CRASH_INPUT"), ReportPath: os.Getenv("CRASH_REPORT"), Journal: j, Directory: client}
	if _, err := job.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestJob_survivesSIGKILL runs the job in a child process against an
// emulator with every kind of fault, kills it with SIGKILL at random
// moments, runs it again each time, and then checks the directory: every
// row exactly one account, in its org unit, with exactly its groups; no
// account the journal does not know; a sound journal.
func TestJob_survivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	rows, kills := 60, 12
	if v, _ := strconv.Atoi(os.Getenv("PROVISION_CRASH_KILLS")); v > 0 {
		kills = v
	}
	if v, _ := strconv.Atoi(os.Getenv("PROVISION_CRASH_ROWS")); v > 0 {
		rows = v
	}
	e := newEnv(t, emulator.Options{Seed: 5,
		Latency: map[string]emulator.Latency{"*": {Median: 8 * time.Millisecond, Jitter: 4 * time.Millisecond}},
		Faults: emulator.Faults{BackendError: 0.1, RateLimit403: 0.05, RateLimit429: 0.02, DropAfterSuccess: 0.02,
			NotComplete412: 0.01, MemberNotFoundWindow: 300 * time.Millisecond},
	}, generatedCSV(rows))
	srv := httptest.NewServer(e.emu)
	t.Cleanup(srv.Close)
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	killed, finished := 0, false
	for cycle := 0; !finished; cycle++ {
		if cycle > 10*kills+50 {
			t.Fatalf("the job did not finish after %d invocations", cycle)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"=1", "CRASH_ENDPOINT="+srv.URL+"/", "CRASH_JOURNAL="+e.journal,
			"CRASH_INPUT="+e.input, "CRASH_REPORT="+e.report)
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var wait <-chan time.Time
		if killed < kills {
			wait = time.After(time.Duration(20+rnd.IntN(400)) * time.Millisecond)
		}
		select {
		case err := <-done:
			var exit *exec.ExitError
			switch {
			case err == nil:
				finished = true
			case errors.As(err, &exit) && exit.ExitCode() == 4:
				// The previous child's lease is still being taken over.
			default:
				t.Fatalf("invocation %d failed: %v\n%s", cycle, err, out.String())
			}
		case <-wait:
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed++
		}
	}
	t.Logf("%d rows survived %d SIGKILLs", rows, killed)
	if killed < kills {
		t.Errorf("only %d of %d kills happened before the job finished", killed, kills)
	}
	e.checkDirectory(rows)

	// Every account with an ID is known to the journal, under its address.
	j, err := journal.Open(t.Context(), e.journal, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, u := range e.emu.State().Users {
		for _, id := range u.ExternalIDs {
			row, found, err := j.Row(t.Context(), "id:"+id.Value)
			if err != nil || !found || row.Email != u.PrimaryEmail || row.UserID != u.ID || row.State != journal.Done {
				t.Errorf("account %s (ID %s) is not the journal's: %+v, %v, %v", u.PrimaryEmail, id.Value, row, found, err)
			}
		}
	}
	if inflight, _ := j.InFlight(t.Context()); len(inflight) != 0 {
		t.Errorf("%d effects still in flight after the job finished", len(inflight))
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.ToSlash(e.journal)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v", check, err)
	}
	// Each row has a created line with its password in a report: the
	// current one, or an earlier one kept aside when a child was killed
	// after the run's end and the next child started a new run.
	reports, _ := filepath.Glob(strings.TrimSuffix(e.report, ".csv") + "*.csv")
	created := map[string]bool{}
	for _, path := range reports {
		for _, r := range readCSV(t, path)[1:] {
			switch r[7] {
			case StatusCreated:
				if len(r[9]) != 16 {
					t.Errorf("%s: created line %q has no password", filepath.Base(path), r)
				}
				created[r[1]] = true
			case StatusFailed:
				t.Errorf("%s: failed line %q", filepath.Base(path), r)
			}
		}
	}
	if len(created) != rows {
		t.Errorf("%d rows have a created line in the reports, want %d", len(created), rows)
	}
}
