package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// startServe runs provision serve in-process on a free port of 127.0.0.1
// and returns its URL, and a channel that receives its exit code when ctx
// ends. Its stderr is collected in log.
func startServe(ctx context.Context, t *testing.T, log *strings.Builder, args ...string) (string, <-chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	exited := make(chan int, 1)
	go func() {
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...), strings.NewReader(""), io.Discard, pw)
		code := exitCode(err, pw)
		pw.Close()
		exited <- code
	}()
	serving := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)/`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if m := serving.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return m[1], exited
		}
	}
	t.Fatalf("provision serve did not start:\n%s", log)
	return "", nil
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestServe runs suggest → select → create → suggest against provision
// serve with its embedded emulator, stops it as SIGTERM would, and starts
// it again on the same journal.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "serve.journal")
	args := []string{"--domain", "example.com", "--journal", journal, "--emulator-users", "5", "--hold", "90s"}
	ctx, stop := context.WithCancel(t.Context())
	var log strings.Builder
	url, exited := startServe(ctx, t, &log, args...)

	status, body := post(t, url+"/rest/config", "")
	if status != 200 || body != `{"domain":"example.com","numberOfSuggestions":3,"suggestedUsernamesTimeout":90,"fields":[]}`+"\n" {
		t.Errorf("config = %d %s", status, body)
	}
	status, body = post(t, url+"/rest/suggest", `{"firstname":"Zoë","lastname":"O'Brien"}`)
	var names []string
	if status != 200 || json.Unmarshal([]byte(body), &names) != nil || len(names) != 3 {
		t.Fatalf("suggest = %d %s", status, body)
	}
	if status, body = post(t, url+"/rest/select", `{"username":"`+names[0]+`","suggestions":`+body+`}`); status != 200 {
		t.Fatalf("select = %d %s", status, body)
	}
	create := `{"username":"` + names[0] + `","firstname":"Zoë","lastname":"O'Brien","password":"correct horse battery"}`
	if status, body = post(t, url+"/rest/create", create); status != 200 || !strings.Contains(body, names[0]+"@example.com") {
		t.Fatalf("create = %d %s", status, body)
	}
	if status, _ = post(t, url+"/rest/create", create); status != http.StatusConflict {
		t.Errorf("second create = %d, want 409", status)
	}

	// A second service on the same journal refuses to start.
	code, stderr := runCLI(t.Context(), t, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	if code != exitUsage || !strings.Contains(stderr, "in use by another process") {
		t.Errorf("a second serve on the journal exited %d: %s", code, stderr)
	}

	stop() // as SIGTERM does
	if code := <-exited; code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM:\n%s", code, log.String())
	}
	if strings.Contains(log.String(), "correct horse") {
		t.Error("the log holds the password")
	}

	// Started again: the created name, kept in the journal and in the
	// emulator's saved directory, is never suggested again.
	ctx2, stop2 := context.WithCancel(t.Context())
	defer stop2()
	var log3 strings.Builder
	url, exited = startServe(ctx2, t, &log3, args...)
	_, body = post(t, url+"/rest/suggest", `{"firstname":"Zoë","lastname":"O'Brien"}`)
	var again []string
	if err := json.Unmarshal([]byte(body), &again); err != nil || slices.Contains(again, names[0]) {
		t.Errorf("after a restart, suggest = %s; %s was created", body, names[0])
	}
	stop2()
	<-exited
}
