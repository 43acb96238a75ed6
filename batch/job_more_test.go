package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// generatedCSV returns n rows of people, many with the same name, with a
// grade and a class group each.
func generatedCSV(n int) string {
	first := []string{"John", "Ana", "Björn", "Zoë", "Mehmet", "Li", "Sean", "Maria"}
	last := []string{"Smith", "Lima", "Ødegård", "O'Brien", "Yılmaz", "Wang", "Murphy", "García"}
	var b strings.Builder
	b.WriteString("firstname,lastname,id,grade,groups\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,%s,%d,%d,class-%d;club-%d\n", first[i%len(first)], last[(i/3)%len(last)], 5000+i, 5+i%4, i%5, i%3)
	}
	return b.String()
}

// checkDirectory checks the emulator against the input: every valid row
// has exactly one account, carrying its ID, in its org unit and exactly its
// groups; there is no other account made by the job.
func (e *env) checkDirectory(rows int) {
	e.t.Helper()
	st := e.emu.State()
	byID := map[string][]emulator.User{}
	for _, u := range st.Users {
		for _, id := range u.ExternalIDs {
			if id.Type == "organization" {
				byID[id.Value] = append(byID[id.Value], u)
			}
		}
	}
	members := map[string][]string{}
	for _, g := range st.Groups {
		for _, m := range g.Members {
			members[m.Email] = append(members[m.Email], g.Email)
		}
	}
	for i := range rows {
		id := fmt.Sprint(5000 + i)
		accounts := byID[id]
		if len(accounts) != 1 {
			e.t.Errorf("ID %s has %d accounts, want exactly 1", id, len(accounts))
			continue
		}
		u := accounts[0]
		if want := fmt.Sprintf("/Grade %d", 5+i%4); u.OrgUnitPath != want {
			e.t.Errorf("%s is in %s, want %s", u.PrimaryEmail, u.OrgUnitPath, want)
		}
		want := []string{fmt.Sprintf("class-%d@example.org", i%5), fmt.Sprintf("club-%d@example.org", i%3)}
		got := members[u.PrimaryEmail]
		slices.Sort(got)
		if !slices.Equal(got, want) {
			e.t.Errorf("%s is in groups %v, want %v", u.PrimaryEmail, got, want)
		}
	}
	if len(byID) != rows {
		e.t.Errorf("%d IDs have accounts, want %d", len(byID), rows)
	}
}

func TestJob_faults(t *testing.T) {
	const rows = 60
	e := newEnv(t, emulator.Options{Seed: 7, Faults: emulator.Faults{
		BackendError: 0.1, RateLimit403: 0.05, RateLimit429: 0.02, DropAfterSuccess: 0.05,
		NotComplete412: 0.2, CreationWindow: 300 * time.Millisecond, MemberNotFoundWindow: 200 * time.Millisecond,
	}}, generatedCSV(rows))
	e.cfg.OrgUnit.Default = "/Grade [grade]"
	sum, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Statuses[report.StatusCreated] != rows {
		t.Errorf("statuses = %v, want %d created", sum.Statuses, rows)
		for _, r := range readCSV(t, e.report) {
			if r[7] != report.StatusCreated {
				t.Log(r)
			}
		}
	}
	e.checkDirectory(rows)
	stats := e.emu.Stats()
	t.Logf("emulator: %+v; client: %+v", stats, sum.Directory)
}

// cancelAfter cancels a job once n rows are done.
type cancelAfter struct {
	n      int64
	done   atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Start(int) {}
func (c *cancelAfter) Done()     {}
func (c *cancelAfter) Row(string) {
	if c.done.Add(1) == c.n {
		c.cancel()
	}
}

func TestJob_resumeAfterInterruption(t *testing.T) {
	const rows = 40
	e := newEnv(t, emulator.Options{Seed: 3, Latency: map[string]emulator.Latency{"*": {Median: 5 * time.Millisecond, Jitter: 2 * time.Millisecond}}}, generatedCSV(rows))
	e.cfg.OrgUnit.Default = "/Grade [grade]"
	cfg := e.cfg.WithDefaults()
	for round := 0; ; round++ {
		ctx, cancel := context.WithCancel(t.Context())
		j, err := journal.Open(ctx, e.journal, journal.Options{})
		if err != nil {
			t.Fatal(err)
		}
		job := &Job{Config: cfg, InputPath: e.input, ReportPath: e.report, Journal: j, Directory: e.client, Target: e.target,
			Progress: &cancelAfter{n: 7, cancel: cancel}, Grace: 5 * time.Second}
		sum, err := job.Run(ctx)
		j.Close()
		cancel()
		if err == nil {
			if round == 0 {
				t.Fatal("the first run was not interrupted")
			}
			if sum.Statuses[report.StatusCreated] != rows || !sum.Resumed {
				t.Errorf("final invocation: %+v, want %d created over a resumed run", sum.Statuses, rows)
				for _, r := range readCSV(t, e.report) {
					if r[7] != report.StatusCreated {
						t.Log(r)
					}
				}
			}
			break
		}
		if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted Run = %v, want ErrInterrupted", err)
		}
		if round > rows {
			t.Fatal("the job never finished")
		}
	}
	e.checkDirectory(rows)
	// The report holds each row exactly once over all invocations.
	lines := map[string]int{}
	for _, r := range readCSV(t, e.report)[1:] {
		lines[r[0]]++
	}
	for l, n := range lines {
		if n != 1 {
			t.Errorf("line %s is in the report %d times", l, n)
		}
	}
	if len(lines) != rows {
		t.Errorf("the report has %d lines, want %d", len(lines), rows)
	}
}

func TestJob_convergesExistingAccount(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id,groups\nAna,Lima,77,chess\n")
	e.cfg.OrgUnit.Default = "/Students"
	// An account from before, made by hand, carrying the row's ID.
	ctx := t.Context()
	if err := e.client.EnsureOrgUnit(ctx, "/Staff", directory.CreateParents); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.InsertUser(ctx, &admin.User{PrimaryEmail: "a.lima@example.org", Password: "correct horse battery",
		Name: &admin.UserName{GivenName: "Ana", FamilyName: "Lima"}, OrgUnitPath: "/Staff",
		ExternalIds: []directory.ExternalID{{Type: "organization", Value: "77"}}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.run(ctx, Run)
	if err != nil || sum.Statuses[report.StatusConverged] != 1 {
		t.Fatalf("Run = %+v, %v; want 1 converged", sum, err)
	}
	u, _ := e.user("a.lima@example.org")
	if u.OrgUnitPath != "/Students" || !slices.Equal(e.groupsOf("a.lima@example.org"), []string{"chess@example.org"}) {
		t.Errorf("converged account: %+v in groups %v", u, e.groupsOf("a.lima@example.org"))
	}
	if n := len(e.emu.State().Users); n != 1 {
		t.Errorf("%d accounts, want the existing one only", n)
	}
	if r := readCSV(t, e.report); r[1][9] != "" {
		t.Errorf("converged row reports a password %q", r[1][9])
	}
}

func TestJob_renamesWhenNameTakenAfterSnapshot(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id\nAna,Lima,1\n")
	e.cfg.Patterns = []string{"[firstname].[lastname]", "[C1_firstname].[lastname]"}
	ctx := t.Context()
	// A first run on another file takes the snapshot; then someone takes
	// ana.lima behind the job's back, and the snapshot does not know.
	other := filepath.Join(e.dir, "other.csv")
	os.WriteFile(other, []byte("firstname,lastname,id\nBo,Li,2\n"), 0o600)
	input := e.input
	e.input = other
	if _, err := e.run(ctx, Run); err != nil {
		t.Fatal(err)
	}
	e.input = input
	if _, err := e.client.InsertUser(ctx, &admin.User{PrimaryEmail: "ana.lima@example.org", Password: "correct horse battery",
		Name: &admin.UserName{GivenName: "Ana", FamilyName: "Lima"}}); err != nil {
		t.Fatal(err)
	}
	sum, err := e.run(ctx, Run)
	if err != nil || sum.Statuses[report.StatusCreated] != 1 {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	if _, ok := e.user("a.lima@example.org"); !ok {
		t.Errorf("the row was not renamed to a.lima after a 409 on ana.lima; users: %v", e.emu.State().Users)
	}
}

func TestJob_planShowsTheNamesRunUses(t *testing.T) {
	e := newEnv(t, emulator.Options{Seed: 11}, generatedCSV(30))
	if err := e.emu.Generate(300); err != nil {
		t.Fatal(err)
	}
	e.cfg.OrgUnit.Default = "/Grade [grade]"
	e.cfg.OrgUnit.CreateMissing = true
	planReport := filepath.Join(e.dir, "plan.csv")
	runReport := e.report
	e.report = planReport
	sum, err := e.run(t.Context(), Plan)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Statuses[report.StatusPlanned] != 30 || len(sum.OrgUnitsToCreate) != 4 || len(sum.GroupsToCreate) != 8 {
		t.Errorf("plan = %+v", sum)
	}
	users := len(e.emu.State().Users)
	if writes := writeRequests(e.emu.Stats()); users != 300 || writes != 0 {
		t.Fatalf("plan changed the directory: %d users, %d writes", users, writes)
	}
	// plan ran on a copy of the journal: run names from scratch, and
	// must arrive at the same names.
	os.Remove(e.journal)
	e.report = runReport
	if _, err := e.run(t.Context(), Run); err != nil {
		t.Fatal(err)
	}
	planned := emailsByLine(readCSV(t, planReport))
	created := emailsByLine(readCSV(t, runReport))
	if len(planned) != 30 || !mapsEqual(planned, created) {
		t.Errorf("plan named %v\nrun named %v", planned, created)
	}
}

// writeRequests counts the requests that could change the directory.
func writeRequests(s emulator.Stats) int64 {
	var n int64
	for method, count := range s.Methods {
		for _, verb := range []string{".insert", ".update", ".patch", ".delete"} {
			if strings.HasSuffix(method, verb) {
				n += count
			}
		}
	}
	return n
}

func emailsByLine(rows [][]string) map[string]string {
	m := map[string]string{}
	for _, r := range rows[1:] {
		m[r[0]] = r[4]
	}
	return m
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestJob_noSecretsOutsideTheReport checks that generated and given
// passwords reach no file but the report, and no log.
func TestJob_noSecretsOutsideTheReport(t *testing.T) {
	const given = "Given-Passw0rd-From-CSV"
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id,password\nAna,Lima,1,\nBo,Li,2,"+given+"\n")
	var logs bytes.Buffer
	cfg := e.cfg.WithDefaults()
	j, err := journal.Open(t.Context(), e.journal, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := &Job{Config: cfg, InputPath: e.input, ReportPath: e.report, Journal: j, Directory: e.client, Target: e.target,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if _, err := job.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	j.Close()
	runReport := readCSV(t, e.report)
	var generated string
	for _, r := range runReport[1:] {
		if r[1] == "1" {
			generated = r[9]
		}
		if r[1] == "2" && r[9] != "" {
			t.Errorf("the report shows the password the CSV gave: %q", r[9])
		}
	}
	if len(generated) != 16 {
		t.Fatalf("generated password in the report = %q", generated)
	}
	files, _ := filepath.Glob(e.journal + "*")
	for _, secret := range []string{generated, given} {
		for _, f := range files {
			data, _ := os.ReadFile(f)
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds a password", filepath.Base(f))
			}
		}
		if bytes.Contains(logs.Bytes(), []byte(secret)) {
			t.Error("the log holds a password")
		}
	}
}

// TestJob_groupAddressesHeldInFileOrder checks that a group the job will
// create keeps its address from a later row's username, whatever the
// concurrency.
func TestJob_groupAddressesHeldInFileOrder(t *testing.T) {
	for _, concurrency := range []int{1, 16} {
		t.Run(fmt.Sprint("concurrency=", concurrency), func(t *testing.T) {
			e := newEnv(t, emulator.Options{}, "firstname,lastname,id,groups\nAda,Lovelace,1,gracehopper\nGrace,Hopper,2,\n")
			e.cfg.Patterns = []string{"[firstname][lastname]", "[firstname].[lastname]"}
			e.cfg.Concurrency = concurrency
			if sum, err := e.run(t.Context(), Run); err != nil || sum.Statuses[report.StatusCreated] != 2 {
				t.Fatalf("Run = %+v, %v", sum, err)
			}
			if _, ok := e.user("grace.hopper@example.org"); !ok {
				t.Errorf("Grace Hopper was not named grace.hopper; users: %+v", e.emu.State().Users)
			}
			if got := e.groupsOf("adalovelace@example.org"); !slices.Equal(got, []string{"gracehopper@example.org"}) {
				t.Errorf("Ada is in %v, want gracehopper@example.org", got)
			}
		})
	}
}

// TestJob_rejectKeepsTheAccountOnRecord checks that a row rejected in a
// later run (here: its org unit template lacks a field) does not make the
// journal forget the account an earlier run created; fixed, the account
// is updated: moved to the org unit the row now gives.
func TestJob_rejectKeepsTheAccountOnRecord(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id,grade\nAna,Lima,1,5\n")
	e.cfg.OrgUnit.Default = "/Grade [grade]"
	if sum, err := e.run(t.Context(), Run); err != nil || sum.Statuses[report.StatusCreated] != 1 {
		t.Fatalf("first run = %+v, %v", sum, err)
	}
	os.WriteFile(e.input, []byte("firstname,lastname,id,grade\nAna,Lima,1,\n"), 0o600)
	if sum, err := e.run(t.Context(), Run); err != nil || sum.Statuses[report.StatusFailed] != 1 {
		t.Fatalf("second run = %+v, %v", sum, err)
	}
	os.WriteFile(e.input, []byte("firstname,lastname,id,grade\nAna,Lima,1,6\n"), 0o600)
	sum, err := e.run(t.Context(), Run)
	if err != nil || sum.Statuses[report.StatusUpdated] != 1 {
		t.Fatalf("third run = %+v, %v; want 1 updated", sum, err)
	}
	if n := len(e.emu.State().Users); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
	if u, _ := e.user("analima@example.org"); u.OrgUnitPath != "/Grade 6" {
		t.Errorf("account in %s, want /Grade 6", u.OrgUnitPath)
	}
}
