package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// countingServer counts the requests it answers, on 127.0.0.1.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newCountingServer(t *testing.T, h http.Handler) *countingServer {
	cs := &countingServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

// writeServiceAccountKey writes a service account key whose token endpoint
// is tokenURL, as Google's key files name theirs.
func writeServiceAccountKey(t *testing.T, tokenURL string) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(map[string]string{
		"type":         "service_account",
		"project_id":   "project",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "provision@project.iam.gserviceaccount.com",
		"client_id":    "1234567890",
		"token_uri":    tokenURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func tokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"a-token","token_type":"Bearer","expires_in":3600}`)
	})
}

// TestRun_plainHTTPEndpointRefused: credentials and an http endpoint off
// this machine stop the job with exit 2 before a token is fetched or a
// request sent. 0.0.0.0 is not loopback, yet Linux connects it to this
// machine: had the endpoint been used, the servers here would count it.
func TestRun_plainHTTPEndpointRefused(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	tokens := newCountingServer(t, tokenHandler())
	api := newCountingServer(t, http.NotFoundHandler())
	port := api.Listener.Addr().(*net.TCPAddr).Port
	endpoint := fmt.Sprintf("http://0.0.0.0:%d/", port)
	key := writeServiceAccountKey(t, tokens.URL+"/token")
	path := writeCSV(t, 3)

	for _, args := range [][]string{
		{"run", "--yes", "--credentials", key, "--subject", "admin@example.org"},
		{"plan", "--credentials", key},
		{"suggest", "--pattern", "[firstname].[lastname]", "--subject", "admin@example.org"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", key)
			args = append(args, "--domain", "example.org", "--endpoint", endpoint)
			if args[0] == "suggest" {
				args = append(args, "firstname=Ana", "lastname=Lima")
			} else {
				args = append(args, path)
			}
			code, stderr := runCLI(t.Context(), t, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, stderr)
			}
			if entries, _ := os.ReadDir(testState(t)); len(entries) != 0 {
				t.Errorf("the state folder holds %v, want nothing written", entries)
			}
			for _, want := range []string{
				"provision: error: endpoint " + endpoint + ": plain http is accepted only on this machine: credentials travel only over TLS; nothing was sent",
				"provision: hint: use https://, or a loopback address",
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
	if tokens.hits.Load() != 0 || api.hits.Load() != 0 {
		t.Errorf("token endpoint saw %d requests, the endpoint %d; want none", tokens.hits.Load(), api.hits.Load())
	}
}

// TestRun_loopbackIgnoresCredentials: an endpoint on this machine is
// reached without credentials, and the run says which flags it ignored.
func TestRun_loopbackIgnoresCredentials(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	tokens := newCountingServer(t, tokenHandler())
	emu, err := emulator.New(emulator.Options{Domain: "example.org"})
	if err != nil {
		t.Fatal(err)
	}
	api := newCountingServer(t, emu)
	key := writeServiceAccountKey(t, tokens.URL+"/token")
	endpoint := api.URL + "/"

	tests := []struct {
		name  string
		flags []string
		note  string // "" means none
	}{
		{"no credential flags", nil, ""},
		{"key and subject", []string{"--credentials", key, "--subject", "admin@example.org"},
			"provision: note: --credentials and --subject are ignored: " + endpoint + " is on this machine and is reached without credentials\n"},
		{"impersonation", []string{"--impersonate", "provisioner@project.iam.gserviceaccount.com"},
			"provision: note: --impersonate is ignored: " + endpoint + " is on this machine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--yes", "--domain", "example.org", "--endpoint", endpoint}, tt.flags...)
			code, stderr := runCLI(t.Context(), t, append(args, writeCSV(t, 2))...)
			if code != exitOK {
				t.Fatalf("exit %d, want %d\n%s", code, exitOK, stderr)
			}
			if got := strings.Contains(stderr, "provision: note: --"); got != (tt.note != "") || !strings.Contains(stderr, tt.note) {
				t.Errorf("stderr = %q, want note %q", stderr, tt.note)
			}
		})
	}
	if n := tokens.hits.Load(); n != 0 {
		t.Errorf("token endpoint saw %d requests, want none", n)
	}

	// The embedded emulator is named as such.
	code, stderr := runCLI(t.Context(), t, "run", "--emulator", "--emulator-users", "0", "--domain", "example.org",
		"--subject", "admin@example.org", writeCSV(t, 1))
	if want := "provision: note: --subject is ignored: the embedded emulator is on this machine"; code != exitOK || !strings.Contains(stderr, want) {
		t.Errorf("--emulator --subject: exit %d, stderr lacks %q:\n%s", code, want, stderr)
	}
}

// TestRunSuggest_systemicRefusal: a directory that refuses the setup stops
// suggest with exit 2 and the fix, as nothing was changed.
func TestRunSuggest_systemicRefusal(t *testing.T) {
	emu, err := emulator.New(emulator.Options{Domain: "example.org", Faults: emulator.Faults{DomainNotFound: emulator.ScopeAll}})
	if err != nil {
		t.Fatal(err)
	}
	api := newCountingServer(t, emu)
	code, stderr := runCLI(t.Context(), t, "suggest", "--domain", "example.org", "--endpoint", api.URL+"/",
		"--pattern", "[firstname].[lastname]", "firstname=Ana", "lastname=Lima")
	for _, want := range []string{
		"provision: error: suggest: ",
		"the directory refuses users.get: the domain is not in the account (404 notFound: Domain not found.)",
		"provision: hint: Google finds no domain example.org in the account",
	} {
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, want %d, with %q:\n%s", code, exitUsage, want, stderr)
		}
	}
	if n := api.hits.Load(); n != 2 {
		t.Errorf("the directory saw %d requests, want 2 (the refusal and its confirmation)", n)
	}
}
