package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// Tests of what a new admin tries in the first hour (issue "Trust on day
// one"): each failed before the change that makes it pass.

// A Groups cell may not mint privileged groups, nor reach another domain:
// only groups of a template, or matching a createMissing pattern, are
// created.
func TestJob_groupsFromCellsAreConstrained(t *testing.T) {
	e := newEnv(t, emulator.Options{}, `firstname,lastname,id,groups
Ana,Lima,1,postmaster;class-of-2027
Bo,Li,2,admin
Cy,Ng,3,abuse@example.org
Di,Wu,4,admins@evil.example.com
Ed,Ho,5,class-of-2027;chess
Fay,Lu,6,partners@friends.example.net
`)
	e.cfg.Groups = GroupsConfig{
		Add:           []string{"grade-[id]"},
		CreateMissing: GroupCreation{Templates: true, Patterns: []string{"class-of-*"}},
		Domains:       []string{"friends.example.net"},
	}
	if err := e.emu.LoadState(strings.NewReader(`{"domain":"example.org","customerId":"C03az79cb","orgUnits":[{"path":"/","id":"id:root"}],
		"groups":[{"id":"g1","email":"partners@friends.example.net","name":"partners"}]}`)); err != nil {
		t.Fatal(err)
	}
	sum, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	runReport := reportByLine(t, e.report)
	wants := map[string]string{
		"2": "the group postmaster@example.org has a reserved name",
		"3": "the group admin@example.org has a reserved name",
		"4": "the group abuse@example.org has a reserved name",
		"5": "the group admins@evil.example.com is not in example.org",
		"6": "the group chess@example.org does not exist, and groups.createMissing does not let run create it",
	}
	for line, want := range wants {
		if r := runReport[line]; r[7] != report.StatusFailed || !strings.Contains(r[8], want) {
			t.Errorf("report line %s = %s %q, want failed with %q", line, r[7], r[8], want)
		}
	}
	if r := runReport["7"]; r[7] != report.StatusCreated {
		t.Errorf("report line 7 = %s %q, want created (a group in groups.domains)", r[7], r[8])
	}
	var groups []string
	for _, g := range e.emu.State().Groups {
		groups = append(groups, g.Email)
	}
	slices.Sort(groups)
	// Only the template's groups and the one matching class-of-* exist.
	want := []string{"class-of-2027@example.org", "grade-5@example.org", "grade-6@example.org", "partners@friends.example.net"}
	if !slices.Equal(groups, want) {
		t.Errorf("groups after the run = %v, want %v", groups, want)
	}
	if sum.Statuses[report.StatusCreated] != 1 || sum.Statuses[report.StatusFailed] != 5 {
		t.Errorf("statuses = %v, want 1 created and 5 failed", sum.Statuses)
	}
}

// reportByLine reads a report into its lines, keyed by the line column.
func reportByLine(t *testing.T, path string) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	for _, r := range readCSV(t, path)[1:] {
		m[r[0]] = r
	}
	return m
}

func TestConfig_groupsCreateMissing(t *testing.T) {
	tests := []struct {
		yaml    string
		want    GroupCreation
		wantErr string
	}{
		{"domain: example.org\ngroups: {createMissing: true}\n", GroupCreation{Templates: true}, ""},
		{"domain: example.org\ngroups: {createMissing: false}\n", GroupCreation{}, ""},
		{"domain: example.org\ngroups: {createMissing: [class-of-*, 'team-?']}\n", GroupCreation{Templates: true, Patterns: []string{"class-of-*", "team-?"}}, ""},
		{"domain: example.org\ngroups: {createMissing: yes-please}\n", GroupCreation{}, "true, false or a list"},
		{"domain: example.org\ngroups: {createMissing: ['[unclosed']}\n", GroupCreation{}, "is not a pattern of group names"},
		{"domain: example.org\ngroups: {add: [admin]}\n", GroupCreation{}, "admin is a reserved name"},
		{"domain: example.org\ngroups: {add: [staff@other.example.com]}\n", GroupCreation{}, "not in example.org or groups.domains"},
		{"domain: example.org\ngroups: {add: [staff@other.example.com], domains: [other.example.com]}\n", GroupCreation{}, ""},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte(tt.yaml), 0o600)
		c, err := LoadConfig(path)
		if err == nil {
			err = c.WithDefaults().Validate()
		}
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.yaml, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", tt.yaml, err, tt.wantErr)
		case tt.wantErr == "" && !slices.Equal(c.Groups.CreateMissing.Patterns, tt.want.Patterns) || tt.wantErr == "" && c.Groups.CreateMissing.Templates != tt.want.Templates:
			t.Errorf("%q: createMissing = %+v, want %+v", tt.yaml, c.Groups.CreateMissing, tt.want)
		}
	}
}

// A journal belongs to the directory it first worked on: a job for
// another stops before it changes anything.
func TestJob_journalOfAnotherDirectoryIsRefused(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id\nAna,Lima,1\n")
	trial := e.target
	trial.Kind, trial.Endpoint, trial.Customer = journal.EmulatorDirectory, "", "Ctrial"
	j, err := journal.Open(t.Context(), e.journal, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.BindDirectory(t.Context(), trial); err != nil {
		t.Fatal(err)
	}
	j.Close()
	_, err = e.run(t.Context(), Run)
	var wrong *journal.WrongDirectoryError
	if !errors.As(err, &wrong) {
		t.Fatalf("Run with a journal of the embedded emulator = %v, want a *journal.WrongDirectoryError", err)
	}
	if n := len(e.emu.State().Users); n != 0 {
		t.Errorf("the directory has %d accounts, want none", n)
	}
	if _, err := os.Stat(e.report); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a report was written: %v", err)
	}
}

// laggingDir is a directory whose listing has not caught up with some
// accounts yet, as Google's can lag for hours, and that counts password
// resets.
type laggingDir struct {
	Directory
	hidden map[string]bool // addresses the listing does not show
	resets atomic.Int32
}

func (d *laggingDir) SnapshotAccounts(ctx context.Context, schemas []string, sink func(directory.AccountBatch) error) error {
	return d.Directory.SnapshotAccounts(ctx, schemas, func(b directory.AccountBatch) error {
		b.Names = slices.DeleteFunc(b.Names, func(n directory.Name) bool { return d.hidden[strings.ToLower(n.Address)] })
		b.Accounts = slices.DeleteFunc(b.Accounts, func(a directory.Account) bool { return d.hidden[strings.ToLower(a.PrimaryEmail)] })
		return sink(b)
	})
}

func (d *laggingDir) ResetPassword(ctx context.Context, key, p, h string, f directory.Freshness) error {
	d.resets.Add(1)
	return d.Directory.ResetPassword(ctx, key, p, h, f)
}

// Tonight's export has another name than last night's. With two journals
// and a listing that lags (the documented limit), a 409 that shows an
// account carrying the row's ID is adopted: never created again, never
// reported created, its password never reset; and the account a 409 shows
// for another row's ID is remembered, so that row is adopted too.
func TestJob_accountFoundBy409IsAdopted(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id\nJohn,Smith,E1\nMary,Jones,E2\n")
	e.cfg.Concurrency = 1
	if _, err := e.run(t.Context(), Run); err != nil {
		t.Fatal(err)
	}
	// The next night, from a journal that never saw those accounts.
	e.journal = filepath.Join(e.dir, "another.journal")
	e.report = filepath.Join(e.dir, "export-0902.report.csv")
	os.WriteFile(e.input, []byte("firstname,lastname,id\nJohn,Smith,E9\nJohn,Smith,E1\nMary,Jones,E2\n"), 0o600)
	dir := &laggingDir{Directory: e.client, hidden: map[string]bool{"johnsmith@example.org": true, "maryjones@example.org": true}}
	sum, err := e.runWith(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	runReport := reportByLine(t, e.report)
	for line, want := range map[string]string{"2": report.StatusCreated, "3": report.StatusConverged, "4": report.StatusConverged} {
		if r := runReport[line]; r[7] != want {
			t.Errorf("report line %s = %v, want %s", line, r, want)
		}
	}
	for _, line := range []string{"3", "4"} {
		if p := runReport[line][9]; p != "" {
			t.Errorf("report line %s holds a password for an adopted account", line)
		}
	}
	if n := dir.resets.Load(); n != 0 {
		t.Errorf("%d passwords were reset, want none", n)
	}
	owners := map[string][]string{}
	for _, u := range e.emu.State().Users {
		for _, id := range u.ExternalIDs {
			owners[id.Value] = append(owners[id.Value], u.PrimaryEmail)
		}
	}
	for id, emails := range owners {
		if len(emails) != 1 {
			t.Errorf("ID %s has %d accounts: %v", id, len(emails), emails)
		}
	}
	if sum.Statuses[report.StatusCreated] != 1 || sum.Statuses[report.StatusConverged] != 2 {
		t.Errorf("statuses = %v, want 1 created and 2 converged", sum.Statuses)
	}
}

// A typo in a pattern is said before the first row; --strict stops the
// job before it changes anything.
func TestJob_patternNamingAMissingField(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,Student ID,grade\nAna,Lima,1001,5\n")
	e.cfg.Patterns = []string{"[fristname].[lastname]", "s[id]"}
	e.cfg.OrgUnit.Default = "/Students/[grde]"
	sum, err := e.run(t.Context(), Plan)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`pattern 1 "[fristname].[lastname]" names the field fristname, which no column of people.csv provides`,
		`orgUnit.default "/Students/[grde]" names the field grde, which no column of people.csv provides: every row will fail`,
	}
	if len(sum.Warnings) != len(want) {
		t.Fatalf("warnings = %q, want %d", sum.Warnings, len(want))
	}
	for i, w := range want {
		if !strings.Contains(sum.Warnings[i], w) {
			t.Errorf("warning %d = %q, want it to contain %q", i, sum.Warnings[i], w)
		}
	}

	e.cfg.OrgUnit.Default = "/Students/[grade]"
	j, err := journal.Open(t.Context(), e.journal, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := &Job{Config: e.cfg.WithDefaults(), InputPath: e.input, ReportPath: e.report, Journal: j, Directory: e.client, Target: e.target, Strict: true}
	_, err = job.Run(t.Context())
	j.Close()
	var unknown *UnknownFieldsError
	if !errors.As(err, &unknown) || len(unknown.Problems) != 1 {
		t.Fatalf("strict Run = %v, want an *UnknownFieldsError with one problem", err)
	}
	if n := len(e.emu.State().Users); n != 0 {
		t.Errorf("a strict run that stopped created %d accounts", n)
	}

	// Without the typo, [id] names the ID column.
	e.cfg.Patterns = []string{"s[id]"}
	if _, err := e.run(t.Context(), Run); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.user("s1001@example.org"); !ok {
		t.Errorf("no account s1001@example.org from the pattern s[id]")
	}
}

// An ESC sequence or a bidi override in an org unit, a title or a custom
// column never reaches the directory, the plan or the report.
func TestJob_hiddenCharactersNeverReachAnything(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id,orgunit,title,region\n"+
		"Ana,Lima,1,/Students/\x1b[31mRed\x1b[0m,,Nord\n"+
		"Bo,Li,2,/Students,Head\u202eteacher,Nord\n"+
		"Cy,Ng,3,/Students,,No\u200brd\n"+
		"Di,Wu,4,/Students,,Nord\n")
	e.cfg.OrgUnit.Default = "/Students/[region]"
	sum, err := e.run(t.Context(), Plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sum.OrgUnitsToCreate, " "); got != "/Students" {
		t.Errorf("plan would create org units %q, want only /Students", got)
	}
	data, err := os.ReadFile(e.report)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(string(data), "\x1b\u202e\u200b") {
		t.Errorf("the plan report holds a hidden character:\n%q", data)
	}
	runReport := reportByLine(t, e.report)
	for line, want := range map[string]string{
		"2": "orgunit contains a control character (U+001B)",
		"3": "title contains the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE)",
		"4": "region contains the invisible character U+200B (ZERO WIDTH SPACE)",
	} {
		if r := runReport[line]; r[7] != report.StatusFailed || !strings.Contains(r[8], want) {
			t.Errorf("plan report line %s = %s %q, want failed with %q", line, r[7], r[8], want)
		}
	}
	if r := runReport["5"]; r[7] != report.StatusPlanned {
		t.Errorf("plan report line 5 = %v, want planned", r)
	}
}

// A missing delegation scope answers every write 403 "Not Authorized":
// the job stops at once instead of failing every row one by one; nothing
// changed, rows stay pending, and a rerun after the fix does the rest.
func TestJob_systemicRefusalStopsTheJob(t *testing.T) {
	e := newEnv(t, emulator.Options{}, generatedCSV(60))
	e.cfg.Concurrency = 4
	e.emu.SetFaults(emulator.Faults{Forbidden: emulator.Scope("writes")})
	sum, err := e.run(t.Context(), Run)
	var stopped *DirectoryStoppedError
	var nothing *NothingChangedError
	if !errors.As(err, &stopped) || !errors.As(err, &nothing) {
		t.Fatalf("Run = %v, want a *DirectoryStoppedError inside a *NothingChangedError", err)
	}
	if sum == nil || sum.Failed() != 0 || sum.Halted == nil {
		t.Fatalf("summary = %+v, want no failed row and the refusal", sum)
	}
	// At most two tries of each row in flight, not one per row.
	if inserts := e.emu.Stats().Methods["directory.users.insert"]; inserts > 2*int64(e.cfg.Concurrency) {
		t.Errorf("%d inserts before the job stopped, want at most %d", inserts, 2*e.cfg.Concurrency)
	}
	j, err := journal.Open(t.Context(), e.journal, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	states, err := j.CountStates(t.Context())
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	if states[journal.Failed] != 0 || states[journal.Done] != 0 {
		t.Errorf("row states = %v, want none failed or done", states)
	}

	// The admin fixes the scope and runs the same command.
	e.emu.SetFaults(emulator.Faults{})
	sum, err = e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("Run after the fix: %v", err)
	}
	if sum.Statuses[report.StatusCreated] != 60 || sum.Failed() != 0 {
		t.Errorf("statuses after the fix = %v, want 60 created", sum.Statuses)
	}
}

// When the refusal comes part-way, after accounts were created, the job
// says so with its own error: the directory changed.
func TestJob_systemicRefusalPartWay(t *testing.T) {
	e := newEnv(t, emulator.Options{}, generatedCSV(30))
	e.cfg.Concurrency = 2
	e.emu.SetFaults(emulator.Faults{UserLimit: 10})
	_, err := e.run(t.Context(), Run)
	var stopped *DirectoryStoppedError
	if !errors.As(err, &stopped) || errors.As(err, new(*NothingChangedError)) {
		t.Fatalf("Run = %v, want a *DirectoryStoppedError after changes", err)
	}
	if stopped.Err.Kind != directory.UserLimit {
		t.Errorf("refusal = %v, want the user limit", stopped.Err.Kind)
	}
	if n := len(e.emu.State().Users); n != 10 {
		t.Errorf("%d accounts, want the 10 the limit allows", n)
	}
	e.emu.SetFaults(emulator.Faults{})
	sum, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("Run after the fix: %v", err)
	}
	if n := len(e.emu.State().Users); n != 30 || sum.Failed() != 0 {
		t.Errorf("after the fix: %d accounts and %v, want 30 and no failure", n, sum.Statuses)
	}
}

// A new file replaces an unfinished run's file: the summary counts every
// row of the old file the new one did not finish, read or not; exactly when
// the old file is still there, at most when it is not.
func TestJob_abandonedRunCountsEveryRow(t *testing.T) {
	for _, replaced := range []bool{false, true} {
		name := "old file kept"
		if replaced {
			name = "old file replaced"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, emulator.Options{Latency: map[string]emulator.Latency{"*": {Median: 2 * time.Millisecond}}}, generatedCSV(20))
			e.cfg.Concurrency = 1
			ctx, cancel := context.WithCancel(t.Context())
			j, err := journal.Open(ctx, e.journal, journal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			job := &Job{Config: e.cfg.WithDefaults(), InputPath: e.input, ReportPath: e.report, Journal: j, Directory: e.client, Target: e.target,
				Progress: &cancelAfter{n: 3, cancel: cancel}}
			first, err := job.Run(ctx)
			j.Close()
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("first run = %v, want interrupted", err)
			}
			finished := first.Total()

			// Tonight's file: the first 8 rows of the old one, and a new person.
			lines := strings.SplitAfter(generatedCSV(20), "\n")
			tonight := strings.Join(lines[:9], "") + "Bo,Li,99,5,\n"
			if replaced {
				os.WriteFile(e.input, []byte(tonight), 0o600)
			} else {
				e.input = filepath.Join(e.dir, "tonight.csv")
				e.report = filepath.Join(e.dir, "tonight.report.csv")
				os.WriteFile(e.input, []byte(tonight), 0o600)
			}
			s, err := e.run(t.Context(), Run)
			if err != nil {
				t.Fatal(err)
			}
			a := s.Abandoned
			if a == nil {
				t.Fatalf("no abandoned run in the summary")
			}
			// The 8 rows tonight's file holds are finished now; the other
			// 12 of the old file are not.
			if !replaced && (a.Rows != 12 || !a.Exact) {
				t.Errorf("Abandoned = %+v, want exactly 12 rows", a)
			}
			// Without the old file, the rows it never reached are counted
			// whether or not tonight's file held them: at most.
			if replaced && (a.Rows < 12 || a.Rows > 20-finished || a.Exact || a.Rows != a.Read+a.NotReached) {
				t.Errorf("Abandoned = %+v (first run finished %d), want between 12 and %d rows, not exact", a, finished, 20-finished)
			}
		})
	}
}
