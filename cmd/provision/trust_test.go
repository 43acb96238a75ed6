package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
)

// plan works on a journal another process holds for its run: it reads a
// copy and writes nothing to the journal.
func TestRunPlan_whileAnotherProcessRuns(t *testing.T) {
	path := writeCSV(t, 3)
	if code, stderr := runCLI(t.Context(), t, "run", "--domain", "example.org", "--emulator-users", "0", "--quota", "100000", path); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	journalPath := defaultJournalPath(testState(t), journal.Directory{Kind: journal.EmulatorDirectory, Domain: "example.org"})
	held, err := journal.Open(t.Context(), journalPath, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	before, _ := os.ReadFile(journalPath)
	code, stderr := runCLI(t.Context(), t, "plan", "--domain", "example.org", path)
	if code != exitOK {
		t.Fatalf("plan while the journal is held: exit %d\n%s", code, stderr)
	}
	if after, _ := os.ReadFile(journalPath); string(after) != string(before) {
		t.Error("plan changed the journal")
	}
	// run, by contrast, waits its turn.
	if code, _ := runCLI(t.Context(), t, "run", "--domain", "example.org", path); code != exitLocked {
		t.Errorf("run while the journal is held: exit %d, want %d", code, exitLocked)
	}
}

// A damaged journal stops the job before anything, with exit 2.
func TestRunJob_damagedJournal(t *testing.T) {
	path := writeCSV(t, 2)
	journalPath := filepath.Join(t.TempDir(), "damaged.journal")
	j, err := journal.Open(t.Context(), journalPath, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	data, _ := os.ReadFile(journalPath)
	for i := 100; i < len(data); i++ {
		data[i] ^= 0x5A
	}
	os.WriteFile(journalPath, data, 0o600)
	code, stderr := runCLI(t.Context(), t, "run", "--domain", "example.org", "--journal", journalPath, path)
	if code != exitUsage || !strings.Contains(stderr, "cannot use the journal") {
		t.Errorf("run with a damaged journal: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
}

// status tells a live holder from a process that is gone and from a
// lease that lapsed.
func TestHolderState(t *testing.T) {
	host, _ := os.Hostname()
	now := time.Now()
	live := journal.Owner{Host: host, PID: os.Getpid(), Acquired: now, Heartbeat: now, Expires: now.Add(time.Minute)}
	gone := live
	gone.PID = 1 << 30 // no such process
	lapsed := live
	lapsed.Host, lapsed.Expires = "another-host", now.Add(-time.Minute)
	tests := []struct {
		name  string
		owner journal.Owner
		held  bool
		want  string
	}{
		{"nobody", journal.Owner{}, false, "nobody"},
		{"live", live, true, "process " + strconv.Itoa(os.Getpid()) + " on " + host + " since"},
		{"gone", gone, true, "is gone; it stopped without releasing the journal"},
		{"lapsed", lapsed, true, "lapsed at"},
	}
	for _, tt := range tests {
		if got := holderState(tt.owner, tt.held, now); !strings.Contains(got, tt.want) {
			t.Errorf("%s: holderState = %q, want it to contain %q", tt.name, got, tt.want)
		}
	}
}

// A systemic refusal exits 2 when nothing changed, 5 when the job had
// begun to change the directory.
func TestRunJob_systemicRefusalExitCodes(t *testing.T) {
	tests := []struct {
		faults string
		want   int
	}{
		{"forbidden=writes", exitUsage},
		{"accessNotConfigured", exitUsage},
		{"userLimit=2", exitStopped},
	}
	for _, tt := range tests {
		t.Run(tt.faults, func(t *testing.T) {
			emu, err := emulator.New(emulator.Options{Domain: "example.org"})
			if err != nil {
				t.Fatal(err)
			}
			f, err := emulator.ParseFaults(tt.faults)
			if err != nil {
				t.Fatal(err)
			}
			emu.SetFaults(f)
			srv := httptest.NewServer(emu)
			defer srv.Close()
			code, stderr := runCLI(t.Context(), t, "run", "--endpoint", srv.URL+"/", "--domain", "example.org", "--yes", "--quota", "100000", writeCSV(t, 8))
			if code != tt.want || !strings.Contains(stderr, "provision: hint:") {
				t.Errorf("exit %d, want %d with a hint\n%s", code, tt.want, stderr)
			}
		})
	}
}
