//go:build provisiontest

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
)

var (
	torture      = flag.Bool("torture", false, "run the full torture test (make torture) instead of its short version")
	tortureRows  = flag.Int("torture.rows", 1000, "rows of the full torture test")
	tortureKills = flag.Int("torture.kills", 30, "SIGKILLs of the full torture test")
)

// TestTorture runs `provision run` as a subprocess against an emulator with
// every kind of fault, kills it with SIGKILL again and again (at the
// job's failpoints, right after an intent is on disk or a change was
// applied, and at random moments), runs it again each time, and then checks
// the directory and the journal: every valid row has exactly one account
// with the right org unit and exactly its groups, no account lacks a
// journal row, every row is finished, the journal is sound, and no password
// appears anywhere but in a report. make test runs a short version;
// make torture the full one.
func TestTorture(t *testing.T) {
	// The short version keeps Google's member 404 window short, so that
	// make test stays quick; the full one has the 2 s of the design.
	rows, kills, memberWindow := 60, 6, 300*time.Millisecond
	if *torture {
		rows, kills, memberWindow = *tortureRows, *tortureKills, 2*time.Second
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "provision")
	if out, err := exec.Command("go", "build", "-tags", "provisiontest", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const existing = 300
	emu, err := emulator.New(emulator.Options{
		Domain: "school.example.org",
		Seed:   time.Now().UnixNano(),
		Latency: map[string]emulator.Latency{
			"*": {Median: 3 * time.Millisecond, Jitter: time.Millisecond},
		},
		Faults: emulator.Faults{
			BackendError: 0.10, RateLimit403: 0.05, RateLimit429: 0.02, DropAfterSuccess: 0.02,
			NotComplete412: 0.01, MemberNotFoundWindow: memberWindow,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Generate(existing); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()

	input := filepath.Join(dir, "students.csv")
	invalid := writeTortureCSV(t, input, rows)
	config := filepath.Join(dir, "students.yaml")
	os.WriteFile(config, []byte(`domain: school.example.org
patterns: ["[firstname].[lastname]", "[C1_firstname].[lastname]", "[firstname].[lastname][#]"]
orgUnit: {default: "/Students/Grade [grade]", createMissing: true}
groups: {add: ["grade-[grade]"], createMissing: ["class-*", "club-*"]}
concurrency: 16
quota: 1000000
`), 0o600)
	journalPath := filepath.Join(dir, "students.journal")
	report := filepath.Join(dir, "students.report.csv")

	seed := uint64(time.Now().UnixNano())
	rnd := rand.New(rand.NewPCG(seed, 2))
	// Every kind in turn: the effect protocol's points and the finishing
	// stage's first (the short version reaches those), then the row events
	// that journal a name, an account and the end of a row, and a timer.
	kinds := []string{"intent", "applied", "outcome", "reported", "named", "timer", "created", "finished", "seen"}
	killed := map[string]int{}
	var outputs bytes.Buffer
	start := time.Now()
	cycles, totalKills := 0, 0
	for finished := false; !finished; cycles++ {
		if cycles > 4*kills+100 {
			t.Fatalf("the job did not finish after %d invocations", cycles)
		}
		cmd := exec.Command(bin, "run", "--endpoint", srv.URL+"/", "--config", config, "--yes",
			"--log-format", "json", "--journal", journalPath, input)
		cmd.Env = os.Environ()
		kind := ""
		if totalKills < kills {
			kind = kinds[totalKills%len(kinds)] // every kind, in turn
			if kind != "timer" {
				cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%s:%d", failpointEnv, kind, 1+rnd.IntN(8)))
			}
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var timer <-chan time.Time
		if kind == "timer" {
			timer = time.After(time.Duration(100+rnd.IntN(1500)) * time.Millisecond)
		}
		var err error
		select {
		case err = <-done:
		case <-timer:
			cmd.Process.Signal(syscall.SIGKILL)
			err = <-done
		}
		outputs.Write(out.Bytes())
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled():
			killed[kind]++
			totalKills++
		case err == nil, errors.As(err, &exit) && exit.ExitCode() == exitRowsFailed:
			finished = true // the invalid rows fail: exit 1 is the end
		default:
			t.Fatalf("invocation %d: %v\n%s", cycles, err, out.String())
		}
	}
	elapsed := time.Since(start)

	checkTortureDirectory(t, emu, rows, invalid, existing)
	checkTortureJournal(t, journalPath, emu)
	passwords := checkTortureReports(t, report, rows, invalid)
	for _, p := range passwords {
		if bytes.Contains(outputs.Bytes(), []byte(p)) {
			t.Errorf("a password appears in the output of provision run")
		}
		files, _ := filepath.Glob(journalPath + "*")
		for _, f := range files {
			if data, _ := os.ReadFile(f); bytes.Contains(data, []byte(p)) {
				t.Errorf("a password appears in %s", filepath.Base(f))
			}
		}
	}
	stats := emu.Stats()
	t.Logf("torture: %d rows (%d invalid), %d invocations, %d SIGKILLs (%v), %s, %d requests, %d injected faults, 0 duplicate accounts, seed %d",
		rows, len(invalid), cycles, totalKills, killed, elapsed.Round(time.Second), stats.Requests, sumFaults(stats), seed)
	if totalKills < kills {
		t.Errorf("only %d of %d kills happened before the job finished", totalKills, kills)
	}
}

// writeTortureCSV writes rows students, every fiftieth without a first
// name, and returns the IDs of the invalid ones.
func writeTortureCSV(t *testing.T, path string, rows int) map[string]bool {
	first := []string{"John", "Ana", "Björn", "Zoë", "Mehmet", "Li", "Seán", "María", "Olga", "Yūki"}
	last := []string{"Smith", "Lima", "Ødegård", "O'Brien", "Yılmaz", "Wang", "Murphy", "García"}
	invalid := map[string]bool{}
	var b strings.Builder
	b.WriteString("First Name,Last Name,Student ID,Grade,Groups\n")
	for i := range rows {
		id := fmt.Sprintf("S%05d", i)
		name := first[i%len(first)]
		if i%50 == 49 {
			name, invalid[id] = "", true
		}
		fmt.Fprintf(&b, "%s,%s,%s,%d,class-%d;club-%d\n", name, last[(i/7)%len(last)], id, 6+i%4, i%9, i%4)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return invalid
}

func checkTortureDirectory(t *testing.T, emu *emulator.Server, rows int, invalid map[string]bool, existing int) {
	t.Helper()
	st := emu.State()
	groups := map[string][]string{}
	for _, g := range st.Groups {
		for _, m := range g.Members {
			groups[m.Email] = append(groups[m.Email], g.Email)
		}
	}
	byID := map[string][]emulator.User{}
	for _, u := range st.Users {
		for _, id := range u.ExternalIDs {
			if strings.HasPrefix(id.Value, "S") && id.Type == "organization" {
				byID[id.Value] = append(byID[id.Value], u)
			}
		}
	}
	for i := range rows {
		id := fmt.Sprintf("S%05d", i)
		accounts := byID[id]
		if invalid[id] {
			if len(accounts) != 0 {
				t.Errorf("invalid row %s has an account", id)
			}
			continue
		}
		if len(accounts) != 1 {
			t.Errorf("row %s has %d accounts, want exactly 1", id, len(accounts))
			continue
		}
		u := accounts[0]
		grade := 6 + i%4
		if want := fmt.Sprintf("/Students/Grade %d", grade); u.OrgUnitPath != want {
			t.Errorf("%s is in %s, want %s", u.PrimaryEmail, u.OrgUnitPath, want)
		}
		want := []string{fmt.Sprintf("class-%d@school.example.org", i%9), fmt.Sprintf("club-%d@school.example.org", i%4), fmt.Sprintf("grade-%d@school.example.org", grade)}
		slices.Sort(want)
		got := groups[u.PrimaryEmail]
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s is in %v, want exactly %v", u.PrimaryEmail, got, want)
		}
	}
	if want := existing + rows - len(invalid); len(st.Users) != want {
		t.Errorf("the directory holds %d accounts, want %d existing + %d created", len(st.Users), existing, rows-len(invalid))
	}
}

func checkTortureJournal(t *testing.T, path string, emu *emulator.Server) {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, u := range emu.State().Users {
		for _, id := range u.ExternalIDs {
			if !strings.HasPrefix(id.Value, "S") {
				continue
			}
			row, found, err := j.Row(ctx, "id:"+id.Value)
			if err != nil || !found || row.Email != u.PrimaryEmail || row.UserID != u.ID {
				t.Errorf("account %s (%s) is not the journal's: %+v, %v, %v", u.PrimaryEmail, id.Value, row, found, err)
			}
		}
	}
	counts, err := j.CountStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for state, n := range counts {
		if !state.Terminal() {
			t.Errorf("%d rows are still %s", n, state)
		}
	}
	if inflight, _ := j.InFlight(ctx); len(inflight) > 0 {
		t.Errorf("%d side effects are still in flight", len(inflight))
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v", check, err)
	}
}

// checkTortureReports checks that every valid row has a created line with
// a password in a report (the current one or one kept from an earlier
// run), and every invalid row a failed line; it returns the passwords.
func checkTortureReports(t *testing.T, report string, rows int, invalid map[string]bool) []string {
	t.Helper()
	files, _ := filepath.Glob(strings.TrimSuffix(report, ".csv") + "*.csv")
	created, failed := map[string]bool{}, map[string]bool{}
	var passwords []string
	for _, f := range files {
		for _, r := range readReport(t, f) {
			switch r[7] {
			case "created":
				if created[r[1]] {
					// A second line would mean a password reset after the
					// first line reached the disk: the first one is wrong.
					t.Errorf("%s: row %s reported created twice", filepath.Base(f), r[1])
				}
				created[r[1]] = true
				if len(r[9]) != 16 {
					t.Errorf("%s: created without a password: %q", filepath.Base(f), r)
				}
				passwords = append(passwords, r[9])
			case "failed":
				failed[r[1]] = true
				if !invalid[r[1]] {
					t.Errorf("%s: valid row failed: %q", filepath.Base(f), r)
				}
			}
		}
	}
	if len(created) != rows-len(invalid) || len(failed) != len(invalid) {
		t.Errorf("reports: %d created, %d failed; want %d and %d", len(created), len(failed), rows-len(invalid), len(invalid))
	}
	return passwords
}

func sumFaults(s emulator.Stats) int64 {
	var n int64
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// readReport returns the lines of a report after its header.
func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs[1:]
}
