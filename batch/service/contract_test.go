package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"

	"github.com/provisionhq/provision/batch"
)

func TestSuggest(t *testing.T) {
	e := newEnv(t, nil)
	got := e.suggest("Ada", "Lovelace")
	if want := []string{"adalovelace", "ada.lovelace", "ada_lovelace"}; !slices.Equal(got, want) {
		t.Errorf("suggest Ada Lovelace = %q, want %q", got, want)
	}
	// GET, as the Java project offered for testing; the names above are
	// held, so others come.
	r := e.do(http.MethodGet, "/rest/suggest?firstname=Ada&lastname=Lovelace", "")
	var names []string
	if r.status != http.StatusOK || json.Unmarshal(r.body, &names) != nil {
		t.Fatalf("GET suggest = %d %s", r.status, r.body)
	}
	if want := []string{"alovelace", "adal", "adalovelace1"}; !slices.Equal(names, want) {
		t.Errorf("GET suggest while the first names are held = %q, want %q", names, want)
	}
	// A custom field the patterns use.
	e2 := newEnv(t, func(c *batch.Config, _ *Options) {
		c.Patterns = []string{"[C1_firstname][lastname][C1_secondlastname]"}
	})
	r = e2.post("/rest/suggest", map[string]string{"firstname": "Carlos", "lastname": "Alvarez", "secondLastname": "Martínez"})
	if r.status != http.StatusOK || !strings.HasPrefix(string(r.body), `["calvarezm",`) {
		t.Errorf("suggest with a custom field = %d %s, want calvarezm first", r.status, r.body)
	}
	// A name the directory has (a user, or a group) is never suggested.
	if _, err := e.client.InsertGroup(t.Context(), "grace.hopper@"+testDomain, "a group"); err != nil {
		t.Fatal(err)
	}
	for _, n := range e.suggest("Grace", "Hopper") {
		if n == "grace.hopper" {
			t.Errorf("suggest offered grace.hopper, a group's address")
		}
	}
}

func TestSuggest_refused(t *testing.T) {
	e := newEnv(t, nil)
	long := strings.Repeat("a", 61)
	tests := []struct {
		name   string
		body   string
		status int
		want   string // substring of errorMessage
	}{
		{"empty body", "", http.StatusBadRequest, "the body is empty"},
		{"blank body", "  \n", http.StatusBadRequest, "the body is empty"},
		{"array", `["ada"]`, http.StatusBadRequest, "not a JSON object"},
		{"string", `"ada"`, http.StatusBadRequest, "not a JSON object"},
		{"null", `null`, http.StatusBadRequest, "not a JSON object"},
		{"broken JSON", `{"firstname": "Ada", `, http.StatusBadRequest, "not valid JSON"},
		{"two values", `{"firstname": "Ada", "lastname": "L"} {}`, http.StatusBadRequest, "more than one JSON value"},
		{"invalid UTF-8", "{\"firstname\": \"Ad\xff\", \"lastname\": \"L\"}", http.StatusBadRequest, "not valid UTF-8"},
		{"missing lastname", `{"firstname": "Ada"}`, http.StatusBadRequest, "lastname is missing"},
		{"null lastname", `{"firstname": "Ada", "lastname": null}`, http.StatusBadRequest, "lastname is missing"},
		{"empty firstname", `{"firstname": "  ", "lastname": "Lovelace"}`, http.StatusBadRequest, "firstname is empty"},
		{"firstname not text", `{"firstname": ["Ada"], "lastname": "Lovelace"}`, http.StatusBadRequest, "firstname must be text"},
		{"name over 60 characters", `{"firstname": "` + long + `", "lastname": "Lovelace"}`, http.StatusBadRequest, "firstname is longer than 60 characters (61)"},
		{"angle bracket", `{"firstname": "Ada", "lastname": "<b>Lovelace"}`, http.StatusBadRequest, `lastname contains "<"`},
		{"equals sign", `{"firstname": "Ada=1", "lastname": "Lovelace"}`, http.StatusBadRequest, `contains "="`},
		{"bidi override", `{"firstname": "Ada\u202e", "lastname": "Lovelace"}`, http.StatusBadRequest, "U+202E"},
		{"line break", `{"firstname": "Ada\nX", "lastname": "Lovelace"}`, http.StatusBadRequest, "control character"},
		{"zero-width space in a custom field", `{"firstname": "Ada", "lastname": "L", "region": "a\u200bb"}`, http.StatusBadRequest, "U+200B"},
		{"field given twice", `{"firstname": "Ada", "FirstName": "Bea", "lastname": "L"}`, http.StatusBadRequest, "given twice"},
		{"bad field name", `{"firstname": "Ada", "lastname": "L", "home region": "x"}`, http.StatusBadRequest, "not a field name"},
		{"custom field too long", `{"firstname": "Ada", "lastname": "L", "note": "` + strings.Repeat("x", 1025) + `"}`, http.StatusBadRequest, "longer than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/rest/suggest", tt.body)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d (%s)", r.status, tt.status, r.body)
			}
			if msg := r.errorMessage(t); !strings.Contains(msg, tt.want) {
				t.Errorf("errorMessage = %q, want it to mention %q", msg, tt.want)
			}
		})
	}
	// The body is readable as sent: < is not written \u003c.
	if r := e.do(http.MethodPost, "/rest/suggest", `{"firstname": "<b>", "lastname": "L"}`); !strings.Contains(string(r.body), `contains \"<\"`) {
		t.Errorf("error body = %s, want the < written as itself", r.body)
	}
	// A refused suggest holds nothing.
	if got := e.suggest("Ada", "Lovelace"); got[0] != "adalovelace" {
		t.Errorf("after refusals, suggest = %q, want adalovelace first", got)
	}
	r := e.do(http.MethodGet, "/rest/suggest?firstname=Ada&firstname=Bea&lastname=L", "")
	if r.status != http.StatusBadRequest || !strings.Contains(r.errorMessage(t), "given 2 times") {
		t.Errorf("GET suggest with a repeated field = %d %s", r.status, r.body)
	}
}

func TestSelect(t *testing.T) {
	e := newEnv(t, nil)
	names := e.suggest("Ada", "Lovelace")
	r := e.post("/rest/select", map[string]any{"username": names[1], "suggestions": names})
	var body map[string]string
	if r.status != http.StatusOK || json.Unmarshal(r.body, &body) != nil || !strings.Contains(body["message"], "Released 2 of the 3") {
		t.Fatalf("select = %d %s", r.status, r.body)
	}
	// The released names are free again; the selected one is still held.
	got := e.suggest("Ada", "Lovelace")
	if !slices.Contains(got, names[0]) || !slices.Contains(got, names[2]) || slices.Contains(got, names[1]) {
		t.Errorf("after selecting %s, suggest = %q", names[1], got)
	}

	// username "" releases everything.
	r = e.post("/rest/select", map[string]any{"username": "", "suggestions": got})
	if r.status != http.StatusOK {
		t.Fatalf("select \"\" = %d %s", r.status, r.body)
	}
	if again := e.suggest("Ada", "Lovelace"); !slices.Equal(again, got) {
		t.Errorf("after releasing all, suggest = %q, want %q again", again, got)
	}
}

func TestSelect_refused(t *testing.T) {
	e := newEnv(t, nil)
	names := e.suggest("Ada", "Lovelace")
	tests := []struct {
		name string
		body string
		want string
	}{
		{"suggestions a string", `{"username": "", "suggestions": "adalovelace"}`, "must be an array"},
		{"suggestions of numbers", `{"username": "", "suggestions": [1, 2]}`, "must be an array"},
		{"suggestions mixed", `{"username": "", "suggestions": ["adalovelace", 2]}`, "must be an array"},
		{"suggestions null", `{"username": "", "suggestions": null}`, "must be an array"},
		{"suggestions an object", `{"username": "", "suggestions": {"errorMessage": "x"}}`, "must be an array"},
		{"suggestions missing", `{"username": ""}`, "suggestions is missing"},
		{"username missing", `{"suggestions": ["adalovelace"]}`, "username is missing"},
		{"username not text", `{"username": true, "suggestions": []}`, "username must be text"},
		{"not an object", `["adalovelace"]`, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/rest/select", tt.body)
			if r.status != http.StatusBadRequest || !strings.Contains(r.errorMessage(t), tt.want) {
				t.Errorf("select %s = %d %s, want 400 mentioning %q", tt.body, r.status, r.body, tt.want)
			}
		})
	}
	// Nothing was released: the names are still held.
	for _, n := range e.suggest("Ada", "Lovelace") {
		if slices.Contains(names, n) {
			t.Errorf("a refused select released %s", n)
		}
	}
}

func TestConfig(t *testing.T) {
	e := newEnv(t, func(c *batch.Config, _ *Options) {
		c.Serve.Suggestions = 5
		c.Serve.Hold = 90 * time.Second
		c.Patterns = []string{"[firstname].[lastname][C1_faculty]"}
		c.OrgUnit.Default = "/Students/[grade]"
	})
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		// The Java project's pages POST an empty body.
		r := e.do(method, "/rest/config", "")
		var got map[string]any
		if r.status != http.StatusOK || json.Unmarshal(r.body, &got) != nil {
			t.Fatalf("%s config = %d %s", method, r.status, r.body)
		}
		if got["domain"] != testDomain || got["numberOfSuggestions"] != 5.0 || got["suggestedUsernamesTimeout"] != 90.0 {
			t.Errorf("%s config = %s, want numbers 5 and 90", method, r.body)
		}
		if fields, _ := got["fields"].([]any); len(fields) != 2 || fields[0] != "faculty" || fields[1] != "grade" {
			t.Errorf("%s config fields = %v, want [faculty grade]", method, got["fields"])
		}
	}
	// A POST with a body, as some clients send, is answered all the same.
	if r := e.do(http.MethodPost, "/rest/config", `{"x": 1}`); r.status != http.StatusOK {
		t.Errorf("POST config with a body = %d %s", r.status, r.body)
	}
}

func TestRoutes_refused(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/rest/create", http.StatusMethodNotAllowed, "POST, OPTIONS"},
		{http.MethodGet, "/rest/select", http.StatusMethodNotAllowed, "POST, OPTIONS"},
		{http.MethodDelete, "/rest/suggest", http.StatusMethodNotAllowed, "GET, POST, OPTIONS"},
		{http.MethodPost, "/rest/unknown", http.StatusNotFound, ""},
		{http.MethodGet, "/etc/passwd", http.StatusNotFound, ""},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "GET, HEAD"},
	}
	for _, tt := range tests {
		r := e.do(tt.method, tt.path, "")
		if r.status != tt.status || r.header.Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d (Allow %q), want %d (Allow %q)", tt.method, tt.path, r.status, r.header.Get("Allow"), tt.status, tt.allow)
		}
		r.errorMessage(t)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, nil)
	big := `{"firstname": "Ada", "lastname": "Lovelace", "note": "` + strings.Repeat("x", 70<<10) + `"}`
	r := e.do(http.MethodPost, "/rest/suggest", big)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.errorMessage(t), "64 KiB") {
		t.Errorf("a 70 KiB body = %d %s, want 413", r.status, r.body)
	}
	// Without a Content-Length, the limit holds while reading.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+"/rest/create", &unsized{strings.NewReader(big)})
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked 70 KiB body = %d, want 413", resp.StatusCode)
	}
}

// unsized hides the length of a reader, so the request is chunked.
type unsized struct{ r *strings.Reader }

func (u *unsized) Read(p []byte) (int, error) { return u.r.Read(p) }

// TestSuggest_directoryDown: a directory that cannot be asked is a 503 in
// plain words, and nothing is held.
func TestSuggest_directoryDown(t *testing.T) {
	e := newEnv(t, nil)
	for _, failure := range []error{
		errors.New("dial tcp 127.0.0.1:1: connect: connection refused"),
		&googleapi.Error{Code: 503, Message: `Backend "users" is unavailable`, Errors: []googleapi.ErrorItem{{Reason: "backendError"}}},
	} {
		e.dir.onGetUser(func(context.Context, string) (*admin.User, error) { return nil, failure })
		r := e.post("/rest/suggest", map[string]string{"firstname": "Ada", "lastname": "Lovelace"})
		if msg := r.errorMessage(t); r.status != http.StatusServiceUnavailable || !strings.Contains(msg, "the directory could not be asked") {
			t.Errorf("suggest with the directory failing (%v) = %d %s", failure, r.status, r.body)
		}
	}
	e.dir.onGetUser(nil)
	if got := e.suggest("Ada", "Lovelace"); got[0] != "adalovelace" {
		t.Errorf("after the directory came back, suggest = %q", got)
	}
}
