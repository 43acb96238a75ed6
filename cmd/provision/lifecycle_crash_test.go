//go:build provisiontest

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// A leaver's suspension is a journaled effect like a create: killed
// between its intent and its outcome (before the call, after Google
// applied it, after the outcome), the next run settles it by a point read
// and finishes the night, suspending each leaver once, removing it from
// its group, and touching nobody else.
func TestLeaverSuspensionSurvivesSIGKILL(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "provision")
	if out, err := exec.Command("go", "build", "-tags", "provisiontest", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	people := []string{"Ann,Adams,E1", "Ben,Brown,E2", "Cy,Cole,E3", "Di,Dean,E4", "Ed,Eady,E5", "Flo,Ford,E6"}
	csv := func(ps []string) string {
		return "firstname,lastname,id,groups\n" + strings.Join(ps, ",club-a\n") + ",club-a\n"
	}
	for _, failpoint := range []string{"intent:1", "applied:1", "outcome:1", "intent:2", "applied:3"} {
		t.Run(failpoint, func(t *testing.T) {
			emu, err := emulator.New(emulator.Options{Domain: "example.org"})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(emu)
			defer srv.Close()
			dir := t.TempDir()
			config := filepath.Join(dir, "people.yaml")
			os.WriteFile(config, []byte("domain: example.org\ngroups: {createMissing: [\"club-*\"]}\nleavers: {full: true, maxCount: 2, maxPercent: 50}\n"), 0o600)
			run := func(name, content, failpoint string) (string, error) {
				input := filepath.Join(dir, name)
				if err := os.WriteFile(input, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(bin, "run", "--endpoint", srv.URL+"/", "--config", config, "--yes",
					"--log-format", "json", "--state-dir", filepath.Join(dir, "state"), input)
				cmd.Env = os.Environ()
				if failpoint != "" {
					cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%s", failpointEnv, failpoint))
				}
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				return out.String(), err
			}
			if out, err := run("night1.csv", csv(people), ""); err != nil {
				t.Fatalf("night 1: %v\n%s", err, out)
			}
			night2 := csv(people[:4])
			out, err := run("night2.csv", night2, failpoint)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() {
				t.Fatalf("night 2 with %s = %v, want killed\n%s", failpoint, err, out)
			}
			if out, err = run("night2.csv", night2, ""); err != nil {
				t.Fatalf("night 2 again: %v\n%s", err, out)
			}
			suspended := 0
			for _, u := range emu.State().Users {
				leaver := strings.HasPrefix(u.PrimaryEmail, "ed") || strings.HasPrefix(u.PrimaryEmail, "flo")
				if u.Suspended != leaver {
					t.Errorf("%s suspended = %v, want %v", u.PrimaryEmail, u.Suspended, leaver)
				}
				if u.Suspended {
					suspended++
				}
			}
			if suspended != 2 || len(emu.State().Users) != 6 {
				t.Errorf("%d of %d accounts suspended, want 2 of 6", suspended, len(emu.State().Users))
			}
			for _, g := range emu.State().Groups {
				if len(g.Members) != 4 {
					t.Errorf("%s has %d members, want the 4 who stay", g.Email, len(g.Members))
				}
			}
			// Each leaver has a suspended line. A kill after a line reached
			// the disk and before the journal recorded it may leave the
			// line twice: lines are written at least once, and only a
			// line with a password (created) is matched up on resume.
			report, _ := os.ReadFile(filepath.Join(dir, "night2.report.csv"))
			suspendedIDs := map[string]bool{}
			for _, line := range strings.Split(string(report), "\n") {
				if f := strings.Split(line, ","); len(f) > 7 && f[7] == "suspended" {
					suspendedIDs[f[1]] = true
				}
			}
			if len(suspendedIDs) != 2 || !suspendedIDs["E5"] || !suspendedIDs["E6"] {
				t.Errorf("the report has suspended lines for %v, want E5 and E6:\n%s", suspendedIDs, report)
			}
		})
	}
}
