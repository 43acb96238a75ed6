package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The release binary (built without the provisiontest tag, as make build,
// make demo and the Dockerfile build it) has no test machinery: no bench
// command, and no failpoint that makes it kill itself.
func TestReleaseBinaryHasNoTestMachinery(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "provision")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	if strings.Contains(string(help), "bench") {
		t.Errorf("the release binary's --help lists bench:\n%s", help)
	}
	out, err := exec.Command(bin, "bench").CombinedOutput()
	if code := exitOf(err); code != exitUsage || !strings.Contains(string(out), `unknown command "bench"`) {
		t.Errorf("provision bench: exit %d, want %d as an unknown command\n%s", code, exitUsage, out)
	}

	csv := filepath.Join(dir, "people.csv")
	os.WriteFile(csv, []byte("firstname,lastname,id\nAna,Lima,1\n"), 0o600)
	cmd := exec.Command(bin, "run", "--domain", "example.org", "--emulator-users", "0", "--state-dir", filepath.Join(dir, "state"), csv)
	cmd.Env = append(os.Environ(), failpointEnvName+"=intent:1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("run with %s set: %v (the release binary must ignore it)\n%s", failpointEnvName, err, out)
	}
}

// failpointEnvName is failpointEnv, which only test builds define.
const failpointEnvName = "PROVISION_FAILPOINT"

func exitOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
