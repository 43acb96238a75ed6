package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// googleBody reads one of Google's error bodies kept under testdata/google
// (see its README for where each comes from), decoded for comparison.
func googleBody(t *testing.T, name string) any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "google", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// rawCall sends one request to srv and returns the status and the decoded
// body.
func rawCall(t *testing.T, srv *httptest.Server, method, path, body string) (int, any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+apiPrefix+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, v
}

const adaJSON = `{"primaryEmail":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},"password":"correct horse battery"}`

// TestServer_refusals: each systemic refusal answers the requests in its
// scope, every time, with Google's body, applies nothing, and goes away
// when switched off.
func TestServer_refusals(t *testing.T) {
	tests := []struct {
		name        string
		faults      Faults
		body        string // under testdata/google
		kind        string // in Stats.Faults
		read, write bool   // refused
	}{
		{"forbidden writes", Faults{Forbidden: ScopeWrites}, "forbidden", faultForbidden, false, true},
		{"forbidden all", Faults{Forbidden: ScopeAll}, "forbidden", faultForbidden, true, true},
		{"forbidden one method", Faults{Forbidden: "users.insert"}, "forbidden", faultForbidden, false, true},
		{"forbidden another method", Faults{Forbidden: "directory.members.insert"}, "forbidden", faultForbidden, false, false},
		{"access not configured", Faults{AccessNotConfigured: ScopeAll}, "accessNotConfigured", faultAccessNotConfigured, true, true},
		{"unauthorized", Faults{Unauthorized: ScopeAll}, "unauthorized", faultUnauthorized, true, true},
		{"domain not found", Faults{DomainNotFound: ScopeAll}, "domainNotFound", faultDomainNotFound, true, true},
		{"the token before the rest", Faults{Unauthorized: ScopeAll, Forbidden: ScopeAll, DomainNotFound: ScopeAll}, "unauthorized", faultUnauthorized, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Faults: tt.faults}
			if tt.read && tt.write {
				// Refusals come before the quota and use none of it.
				opts.QuotaPerMinute = 1
			}
			s, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s)
			t.Cleanup(srv.Close)
			want := googleBody(t, tt.body)
			wantCode := int(want.(map[string]any)["error"].(map[string]any)["code"].(float64))

			var refused int64
			for range 3 { // every time
				code, body := rawCall(t, srv, "GET", "users/ada@example.com", "")
				if tt.read {
					refused++
					if code != wantCode || !reflect.DeepEqual(body, want) {
						t.Errorf("users.get = %d %v, want %d %v", code, body, wantCode, want)
					}
				}
				code, body = rawCall(t, srv, "POST", "users", adaJSON)
				if tt.write {
					refused++
					if code != wantCode || !reflect.DeepEqual(body, want) {
						t.Errorf("users.insert = %d %v, want %d %v", code, body, wantCode, want)
					}
				}
			}
			if n := s.UserCount(); tt.write && n != 0 {
				t.Errorf("%d users after refused inserts, want none", n)
			}
			if got := s.Stats().Faults[tt.kind]; got != refused {
				t.Errorf("Stats().Faults[%s] = %d, want %d", tt.kind, got, refused)
			}

			// The fix: switch the refusal off, and the same calls work.
			f := s.Faults()
			f.Forbidden, f.AccessNotConfigured, f.Unauthorized, f.DomainNotFound = ScopeNone, ScopeNone, ScopeNone, ScopeNone
			s.SetFaults(f)
			if code, body := rawCall(t, srv, "POST", "users", `{"primaryEmail":"bob@example.com","name":{"givenName":"Bob","familyName":"Lee"},"password":"correct horse battery"}`); code != http.StatusOK {
				t.Errorf("users.insert after the fix = %d %v, want 200", code, body)
			}
		})
	}
}

// TestServer_userLimit: users.insert is refused once the directory holds
// Faults.UserLimit users; other answers come first; raising the limit is
// the fix.
func TestServer_userLimit(t *testing.T) {
	s, svc := start(t, Options{Faults: Faults{UserLimit: 2}})
	mustInsert(t, svc, newUser("ada"), newUser("bob"))

	want := apiErr{412, "limitExceeded", "Domain user limit reached."}
	_, err := svc.Users.Insert(newUser("cy")).Do()
	checkError(t, "Insert beyond the limit", err, want)
	_, err = svc.Users.Insert(newUser("ada")).Do()
	checkError(t, "Insert of a taken address", err, errWantDuplicate)
	bad := newUser("dee")
	bad.Password = "short"
	_, err = svc.Users.Insert(bad).Do()
	checkError(t, "Insert of an invalid user", err, errWantPassword)
	if _, err := svc.Users.Get("ada@example.com").Do(); err != nil {
		t.Errorf("Get at the limit = %v, want the user", err)
	}
	if n := s.UserCount(); n != 2 || s.Stats().Faults[faultUserLimit] != 1 {
		t.Errorf("%d users, %d limit refusals; want 2 and 1", n, s.Stats().Faults[faultUserLimit])
	}

	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	if code, body := rawCall(t, srv, "POST", "users", strings.Replace(adaJSON, "ada@", "cy@", 1)); code != 412 || !reflect.DeepEqual(body, googleBody(t, "userLimit")) {
		t.Errorf("users.insert beyond the limit = %d %v, want Google's body", code, body)
	}

	f := s.Faults()
	f.UserLimit = 3
	s.SetFaults(f)
	mustInsert(t, svc, newUser("cy"))
}

func TestParseFaults_refusals(t *testing.T) {
	tests := []struct {
		spec    string
		want    Faults
		wantErr string
	}{
		{"forbidden=writes", Faults{Forbidden: ScopeWrites}, ""},
		{"forbidden", Faults{Forbidden: ScopeAll}, ""},
		{"accessNotConfigured, unauthorized=all", Faults{AccessNotConfigured: ScopeAll, Unauthorized: ScopeAll}, ""},
		{"domainNotFound=users.list", Faults{DomainNotFound: "users.list"}, ""},
		{"forbidden=directory.members.insert,503=0.1", Faults{Forbidden: "directory.members.insert", BackendError: 0.1}, ""},
		{"userLimit=250", Faults{UserLimit: 250}, ""},
		{"userLimit=0", Faults{}, `invalid number of users "0"`},
		{"userLimit=many", Faults{}, `invalid number of users "many"`},
		{"userLimit", Faults{}, "want kind=value"},
		{"forbidden=reads", Faults{}, `scope "reads"`},
		{"forbidden=*", Faults{}, `scope "*"`},
		{"forbidden=users.frobnicate", Faults{}, "want all, writes or a method"},
		{"forbidden,forbidden=writes", Faults{}, "given twice"},
	}
	for _, tt := range tests {
		got, err := ParseFaults(tt.spec)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseFaults(%q) = %v", tt.spec, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseFaults(%q) = %+v, %v; want error containing %q", tt.spec, got, err, tt.wantErr)
		case err == nil && got != tt.want:
			t.Errorf("ParseFaults(%q) = %+v, want %+v", tt.spec, got, tt.want)
		}
	}
	if err := (Faults{Forbidden: "reads"}).Validate(); err == nil {
		t.Error(`Validate(Forbidden: "reads") = nil, want an error`)
	}
}
