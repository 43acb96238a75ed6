package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// startEmulatorCommand runs provision emulator in-process and returns the
// base URL it prints, its stderr, and a function that stops it and returns
// its error.
func startEmulatorCommand(t *testing.T, args ...string) (url string, stderr *bytes.Buffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, w := io.Pipe()
	stderr = &bytes.Buffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, args...), nil, w, stderr)
		w.CloseWithError(io.EOF)
		done <- err
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("provision emulator %v printed %q, %v; stderr:\n%s", args, line, err, <-done)
	}
	m := regexp.MustCompile(`^emulator: serving example\.com at (http://127\.0\.0\.1:[0-9]+/) \(([0-9]+) users\)\n$`).FindStringSubmatch(line)
	if m == nil {
		cancel()
		t.Fatalf("provision emulator printed %q, want the URL line", line)
	}
	go io.Copy(io.Discard, out)
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return m[1], stderr, stop
}

func TestRunEmulator(t *testing.T) {
	state := filepath.Join(t.TempDir(), "directory.json")
	url, _, stop := startEmulatorCommand(t, "--users", "40", "--seed", "3", "--state", state,
		"--latency", "users.get=2ms~1ms,*=1ms", "--faults", "member404=1s")
	svc, err := admin.NewService(t.Context(), option.WithEndpoint(url), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Users.List().Customer("my_customer").MaxResults(500).Do()
	if err != nil || len(r.Users) != 40 {
		t.Fatalf("Users.List = %v, %v; want the 40 generated users", r, err)
	}
	_, err = svc.Users.Insert(&admin.User{
		PrimaryEmail: "ada@example.com",
		Name:         &admin.UserName{GivenName: "Ada", FamilyName: "Lovelace"},
		Password:     "correct horse",
	}).Do()
	if err != nil {
		t.Fatalf("Users.Insert = %v", err)
	}
	_, err = svc.Members.Insert("staff@example.com", &admin.Member{Email: "ada@example.com"}).Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 404 || ge.Message != "Resource Not Found: memberKey" {
		t.Errorf("Members.Insert of a new user = %v, want 404 memberKey from --faults member404=1s", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("provision emulator stopped with %v, want nil", err)
	}

	info, err := os.Stat(state)
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode %v, want 0600", perm)
	}
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var saved struct {
		Users []struct{ PrimaryEmail string }
	}
	if err := json.Unmarshal(b, &saved); err != nil || len(saved.Users) != 41 {
		t.Fatalf("state file holds %d users, %v; want 41", len(saved.Users), err)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(state), "*.tmp*"))
	if len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}

	// A restart loads the saved directory and does not generate again.
	url, stderr, stop := startEmulatorCommand(t, "--users", "40", "--state", state)
	svc, err = admin.NewService(t.Context(), option.WithEndpoint(url), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Users.Get("ada@example.com").Do(); err != nil {
		t.Errorf("Users.Get after a restart = %v, want the saved user", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "--users not generated") {
		t.Errorf("stderr = %q, want a note that --users was not generated", stderr)
	}
}

func TestRunEmulator_usage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--faults", "503=2"}, "emulator: --faults: fault 503=2: want a fraction between 0 and 1"},
		{[]string{"--latency", "users.teleport=1s"}, `emulator: --latency: latency "users.teleport=1s": unknown method`},
		{[]string{"--users", "-1"}, "emulator: --users -1 is negative"},
		{[]string{"--domain", "not a domain"}, `invalid domain "not a domain"`},
		{[]string{"--log-format", "xml"}, `emulator: --log-format "xml": want text or json`},
		{[]string{"extra"}, `emulator: unexpected argument "extra"`},
		{[]string{"--state", bad}, "emulator: " + bad},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append([]string{"emulator", "--addr", "127.0.0.1:0"}, tt.args...), nil, &stdout, &stderr)
			if code := exitCode(err, &stderr); code != exitUsage {
				t.Errorf("provision emulator %v exited %d (%v), want %d", tt.args, code, err, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("provision emulator %v: stderr %q, want %q", tt.args, stderr.String(), tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("provision emulator %v printed %q, want nothing", tt.args, stdout.String())
			}
		})
	}
}
