package batch

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// env is a job's world in a test: an emulator on 127.0.0.1, a client, a
// journal file and an input file.
type env struct {
	t       *testing.T
	emu     *emulator.Server
	client  *directory.Client
	dir     string
	input   string
	journal string
	report  string
	cfg     Config
	target  journal.Directory // the emulator, as the journal records it
	now     func() time.Time  // the jobs' clock; nil for time.Now
}

func newEnv(t *testing.T, opts emulator.Options, csv string) *env {
	t.Helper()
	if opts.Domain == "" {
		opts.Domain = "example.org"
	}
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := directory.New(t.Context(), directory.Config{
		Endpoint:       srv.URL + "/",
		Domain:         opts.Domain,
		Groups:         directory.GroupCreate,
		Retry:          directory.RetryPolicy{Initial: time.Millisecond, Max: 20 * time.Millisecond, ConsistencyWindow: 5 * time.Second},
		QuotaPerMinute: 1_000_000,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e := &env{t: t, emu: emu, client: client, dir: dir,
		input:   filepath.Join(dir, "people.csv"),
		journal: filepath.Join(dir, "people.journal"),
		report:  filepath.Join(dir, "people.report.csv"),
		cfg:     Config{Domain: opts.Domain, OrgUnit: OrgUnitConfig{CreateMissing: true}, Groups: GroupsConfig{CreateMissing: createAnyGroup}},
		target:  journal.Directory{Kind: journal.EndpointDirectory, Endpoint: srv.URL + "/", Domain: opts.Domain},
	}
	if err := os.WriteFile(e.input, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// createAnyGroup lets a test job create every missing group, as a config
// with groups.createMissing: ["*"] does.
var createAnyGroup = GroupCreation{Templates: true, Patterns: []string{"*"}}

// run runs the job once with a fresh journal handle, as a new process does.
func (e *env) run(ctx context.Context, mode Mode) (*Summary, error) {
	e.t.Helper()
	cfg := e.cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		e.t.Fatal(err)
	}
	j, err := journal.Open(ctx, e.journal, journal.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer j.Close()
	job := &Job{Config: cfg, InputPath: e.input, ReportPath: e.report, Journal: j, Directory: e.client, Target: e.target, Mode: mode, Stats: e.client.Stats}
	return job.Run(ctx)
}

// user returns the emulator's account with the address, if any.
func (e *env) user(email string) (emulator.User, bool) {
	for _, u := range e.emu.State().Users {
		if u.PrimaryEmail == email {
			return u, true
		}
	}
	return emulator.User{}, false
}

// groupsOf returns the groups the address is a direct member of.
func (e *env) groupsOf(email string) []string {
	var out []string
	for _, g := range e.emu.State().Groups {
		for _, m := range g.Members {
			if m.Email == email {
				out = append(out, g.Email)
			}
		}
	}
	slices.Sort(out)
	return out
}

const smallCSV = `First Name,Last Name,Student ID,grade,groups
Ana,Lima,1001,5,chess
Bea,Lima,1002,5,
Ana,Lima,1003,6,chess;drama
Carlos,Álvarez,1004,6,
,Nobody,1005,6,
Dup,Person,1001,5,
`

func TestJob_run(t *testing.T) {
	e := newEnv(t, emulator.Options{}, smallCSV)
	e.cfg.OrgUnit.Default = "/Students/Grade [grade]"
	e.cfg.Groups.Add = []string{"grade-[grade]"}
	sum, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Statuses[report.StatusCreated] != 4 || sum.Statuses[report.StatusFailed] != 2 {
		t.Errorf("statuses = %v, want 4 created, 2 failed", sum.Statuses)
	}
	want := map[string]struct {
		ou     string
		groups []string
	}{
		"analima@example.org":       {"/Students/Grade 5", []string{"chess@example.org", "grade-5@example.org"}},
		"bealima@example.org":       {"/Students/Grade 5", []string{"grade-5@example.org"}},
		"ana.lima@example.org":      {"/Students/Grade 6", []string{"chess@example.org", "drama@example.org", "grade-6@example.org"}},
		"carlosalvarez@example.org": {"/Students/Grade 6", []string{"grade-6@example.org"}},
	}
	for email, w := range want {
		u, ok := e.user(email)
		if !ok {
			t.Errorf("no account %s", email)
			continue
		}
		if u.OrgUnitPath != w.ou {
			t.Errorf("%s is in %s, want %s", email, u.OrgUnitPath, w.ou)
		}
		if got := e.groupsOf(email); !slices.Equal(got, w.groups) {
			t.Errorf("%s is in groups %v, want %v", email, got, w.groups)
		}
	}
	if n := len(e.emu.State().Users); n != 4 {
		t.Errorf("%d accounts, want 4", n)
	}
	runReport := readCSV(t, e.report)
	if len(runReport) != 7 {
		t.Fatalf("report has %d lines, want a header and 6 rows", len(runReport))
	}
	text := strings.Join(flatten(runReport), "\n")
	for _, s := range []string{"line 6: First Name is empty", "line 7: the same ID \"1001\" as line 2"} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q:\n%s", s, text)
		}
	}

	// A second run creates nobody.
	sum, err = e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if sum.Statuses[report.StatusSkipped] != 4 || sum.Statuses[report.StatusCreated] != 0 {
		t.Errorf("second run statuses = %v, want 4 skipped", sum.Statuses)
	}
	if n := len(e.emu.State().Users); n != 4 {
		t.Errorf("%d accounts after a second run, want 4", n)
	}
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, ","))
	}
	return out
}

// readCSV reads a whole report.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// A plan refuses a duplicate as run does, naming the same earlier line,
// though it keeps its rows in memory rather than in its journal.
func TestJob_planRefusesDuplicatesAsRunDoes(t *testing.T) {
	e := newEnv(t, emulator.Options{}, smallCSV)
	sum, err := e.run(t.Context(), Plan)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if sum.Statuses[report.StatusPlanned] != 4 || sum.Statuses[report.StatusFailed] != 2 {
		t.Errorf("statuses = %v, want 4 planned, 2 failed", sum.Statuses)
	}
	text := strings.Join(flatten(readCSV(t, e.report)), "\n")
	if want := "line 7: the same ID \"1001\" as line 2"; !strings.Contains(text, want) {
		t.Errorf("plan report lacks %q:\n%s", want, text)
	}
}

// A plan refuses a duplicate of a row it finished without recording it
// (skipped: done in an earlier run) as run does, however far apart the two
// lines are: the finisher has long finished the first when the second
// comes.
func TestJob_planRefusesADuplicateOfASkippedRow(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "First Name,Last Name,Student ID\nAna,Lima,1001\n")
	if _, err := e.run(t.Context(), Run); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("First Name,Last Name,Student ID\nAna,Lima,1001\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "Person,Number%d,%d\n", i, 2000+i)
	}
	b.WriteString("Ana,Lima,1001\n")
	if err := os.WriteFile(e.input, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{Plan, Run} {
		name := map[Mode]string{Plan: "plan", Run: "run"}[mode]
		e.report = filepath.Join(e.dir, name+".report.csv")
		sum, err := e.run(t.Context(), mode)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Statuses[report.StatusSkipped] != 1 || sum.Statuses[report.StatusFailed] != 1 {
			t.Errorf("%s: statuses = %v, want 1 skipped and 1 failed (the duplicate)", name, sum.Statuses)
		}
		text := strings.Join(flatten(readCSV(t, e.report)), "\n")
		if want := `line 3003: the same ID "1001" as line 2`; !strings.Contains(text, want) {
			t.Errorf("%s: report lacks %q", name, want)
		}
	}
}
