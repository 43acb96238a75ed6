package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/journal"
)

// runCLI runs provision in-process and returns its exit code and stderr.
// Its journals are kept in the test's own state folder (see testState),
// unless args say otherwise.
func runCLI(ctx context.Context, t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	keepsJournals := len(args) > 0 && slices.Contains([]string{"run", "plan", "status", "report"}, args[0])
	if keepsJournals && !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--state-dir") }) {
		args = append([]string{args[0], "--state-dir", testState(t)}, args[1:]...)
	}
	err := run(ctx, args, strings.NewReader(""), &stdout, &stderr)
	code := exitCode(err, &stderr)
	return code, stderr.String()
}

var testStates sync.Map // *testing.T → its state folder

// testState returns the state folder of a test: the same for every call
// of one test, so that a second run finds the journal of the first.
func testState(t *testing.T) string {
	t.Helper()
	if dir, ok := testStates.Load(t); ok {
		return dir.(string)
	}
	dir := t.TempDir()
	testStates.Store(t, dir)
	t.Cleanup(func() { testStates.Delete(t) })
	return dir
}

func writeCSV(t *testing.T, rows int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("firstname,lastname,id\n")
	for i := range rows {
		fmt.Fprintf(&b, "Ana,Lima,%d\n", i+1)
	}
	path := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunJob_exitCodes(t *testing.T) {
	t.Run("rows failed", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bad.csv")
		os.WriteFile(path, []byte("firstname,lastname,id\nAna,Lima,1\n,Lima,2\n"), 0o600)
		if code, stderr := runCLI(t.Context(), t, "run", "--domain", "example.org", "--emulator-users", "0", path); code != exitRowsFailed {
			t.Errorf("exit %d, want %d\n%s", code, exitRowsFailed, stderr)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if code, _ := runCLI(t.Context(), t, "run", "--domain", "example.org"); code != exitUsage {
			t.Errorf("exit %d, want %d", code, exitUsage)
		}
	})
	t.Run("journal held", func(t *testing.T) {
		path := writeCSV(t, 2)
		journalPath := defaultJournalPath(testState(t), journal.Directory{Kind: journal.EmulatorDirectory, Domain: "example.org"})
		j, err := journal.Open(t.Context(), journalPath, journal.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		code, stderr := runCLI(t.Context(), t, "run", "--domain", "example.org", path)
		if code != exitLocked || !strings.Contains(stderr, "is in use by process") || !strings.Contains(stderr, "provision: hint:") {
			t.Errorf("exit %d, want %d, naming the holder\n%s", code, exitLocked, stderr)
		}
	})
	t.Run("interrupted, then resumed", func(t *testing.T) {
		path := writeCSV(t, 300)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(1500*time.Millisecond, cancel) // as SIGINT does
		code, stderr := runCLI(ctx, t, "run", "--domain", "example.org", "--emulator-users", "0", path)
		if code != exitInterrupted || !strings.Contains(stderr, "run the same command again to resume") {
			t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, stderr)
		}
		code, stderr = runCLI(t.Context(), t, "run", "--domain", "example.org", "--quota", "100000", path)
		if code != exitOK || !strings.Contains(stderr, ", resumed") {
			t.Errorf("resumed: exit %d, want %d\n%s", code, exitOK, stderr)
		}
	})
}
