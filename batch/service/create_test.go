package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
)

// createBody is a create request for a name and a password.
func createBody(username, password string) map[string]any {
	return map[string]any{"username": username, "firstname": "Ada", "lastname": "Lovelace", "password": password}
}

func TestCreate(t *testing.T) {
	e := newEnv(t, nil)
	names := e.suggest("Ada", "Lovelace")
	if r := e.post("/rest/select", map[string]any{"username": names[0], "suggestions": names}); r.status != http.StatusOK {
		t.Fatalf("select = %d %s", r.status, r.body)
	}
	r := e.post("/rest/create", createBody(names[0], "correct horse battery"))
	var answer createAnswer
	if r.status != http.StatusOK || json.Unmarshal(r.body, &answer) != nil {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	email := names[0] + "@" + testDomain
	if !strings.HasPrefix(answer.Message, "User created successfully") || answer.Email != email || answer.Password != "" {
		t.Errorf("create answer = %+v", answer)
	}
	u, ok := e.user(email)
	if !ok {
		t.Fatalf("%s was not created", email)
	}
	if u.GivenName != "Ada" || u.FamilyName != "Lovelace" || u.OrgUnitPath != "/" || !u.ChangePasswordAtNextLogin ||
		len(u.ExternalIDs) != 1 || u.ExternalIDs[0].CustomType != MarkerType || len(u.ExternalIDs[0].Value) != 32 {
		t.Errorf("created account = %+v", u)
	}
	// A second create, or a retry after a lost answer: never a second account.
	r = e.post("/rest/create", createBody(names[0], "correct horse battery"))
	if r.status != http.StatusConflict || !strings.Contains(r.errorMessage(t), "already created") {
		t.Errorf("second create = %d %s, want 409 already created", r.status, r.body)
	}
	if n := e.users(email); n != 1 {
		t.Errorf("%d accounts %s, want 1", n, email)
	}
	// A created name is never suggested again, not even after a restart.
	e.restart()
	for _, n := range e.suggest("Ada", "Lovelace") {
		if n == names[0] {
			t.Errorf("suggest offered %s, created", n)
		}
	}
	// The password is nowhere in the log or the journal.
	if strings.Contains(e.log.String(), "correct horse") {
		t.Error("the log holds the password")
	}
}

func TestCreate_generatedPassword(t *testing.T) {
	e := newEnv(t, nil)
	names := e.suggest("Ada", "Lovelace")
	r := e.post("/rest/create", map[string]any{"username": names[0], "firstname": "Ada", "lastname": "Lovelace", "generatePassword": true})
	var answer createAnswer
	if r.status != http.StatusOK || json.Unmarshal(r.body, &answer) != nil {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	if err := input.CheckPassword(answer.Password); err != nil || len(answer.Password) != batch.DefaultPasswordLength {
		t.Errorf("generated password %q: %v", answer.Password, err)
	}
	if strings.Contains(e.log.String(), answer.Password) {
		t.Error("the log holds the generated password")
	}
}

func TestCreate_refused(t *testing.T) {
	e := newEnv(t, func(c *batch.Config, _ *Options) { c.OrgUnit.Default = "/Students/[grade]" })
	names := e.suggest("Ada", "Lovelace")
	held := names[0]
	base := func(change func(map[string]any)) map[string]any {
		b := createBody(held, "correct horse battery")
		b["grade"] = "7"
		change(b)
		return b
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"short password", base(func(b map[string]any) { b["password"] = "short" }), 400, "password is shorter than 8 characters (5)"},
		{"long password", base(func(b map[string]any) { b["password"] = strings.Repeat("p", 101) }), 400, "password is longer than 100 characters"},
		{"non-ASCII password", base(func(b map[string]any) { b["password"] = "pässwörd123" }), 400, "printable ASCII"},
		{"no password", base(func(b map[string]any) { delete(b, "password") }), 400, "password is missing"},
		{"both", base(func(b map[string]any) { b["generatePassword"] = true }), 400, "not both"},
		{"generatePassword not a bool", base(func(b map[string]any) { b["generatePassword"] = "yes" }), 400, "true or false"},
		{"no username", base(func(b map[string]any) { delete(b, "username") }), 400, "username is missing"},
		{"invalid username", base(func(b map[string]any) { b["username"] = "ada..l" }), 400, "not a valid username"},
		{"bad last name", base(func(b map[string]any) { b["lastname"] = "L>" }), 400, `contains ">"`},
		{"template field missing", base(func(b map[string]any) { delete(b, "grade") }), 400, "needs the field grade"},
		{"org unit missing", base(func(b map[string]any) {}), 400, "org unit /Students/7 does not exist"},
		{"never suggested", base(func(b map[string]any) { b["username"] = "someone.else" }), 409, "not held by a suggestion"},
		{"reserved", base(func(b map[string]any) { b["username"] = "admin" }), 409, "not held by a suggestion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post("/rest/create", tt.body)
			if r.status != tt.status || !strings.Contains(r.errorMessage(t), tt.want) {
				t.Errorf("create = %d %s, want %d mentioning %q", r.status, r.body, tt.status, tt.want)
			}
			if strings.Contains(string(r.body), "correct horse") || strings.Contains(string(r.body), "pässwörd") {
				t.Errorf("the answer quotes the password: %s", r.body)
			}
		})
	}
	if n := len(e.emu.State().Users); n != 0 {
		t.Errorf("refused creates made %d accounts", n)
	}
	// The name is still held after all those refusals.
	if got, held2, _ := e.store.HoldExpiry(t.Context(), held); !held2 || got.IsZero() {
		t.Errorf("%s lost its hold after refused creates", held)
	}
}

func TestCreate_holdExpired(t *testing.T) {
	e := newEnv(t, nil)
	names := e.suggest("Ada", "Lovelace")
	e.clock.Advance(batch.DefaultServeHold + 1)
	r := e.post("/rest/create", createBody(names[0], "correct horse battery"))
	if r.status != http.StatusConflict || !strings.Contains(r.errorMessage(t), "expired") {
		t.Errorf("create after the hold expired = %d %s, want 409", r.status, r.body)
	}
	// A released name cannot be created either.
	names = e.suggest("Ada", "Lovelace")
	e.post("/rest/select", map[string]any{"username": "", "suggestions": names})
	if r := e.post("/rest/create", createBody(names[0], "correct horse battery")); r.status != http.StatusConflict {
		t.Errorf("create of a released name = %d %s, want 409", r.status, r.body)
	}
}

func TestCreate_placement(t *testing.T) {
	e := newEnv(t, func(c *batch.Config, _ *Options) {
		c.OrgUnit = batch.OrgUnitConfig{Default: "/Students/[grade]", CreateMissing: true}
		c.Groups = batch.GroupsConfig{Add: []string{"grade-[grade]", "students@" + testDomain}, CreateMissing: batch.GroupCreation{Templates: true}}
		no := false
		c.Password.ChangeAtNextLogin = &no
	})
	names := e.suggest("Ada", "Lovelace")
	body := createBody(names[0], "correct horse battery")
	body["grade"] = "7"
	r := e.post("/rest/create", body)
	if r.status != http.StatusOK {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	email := names[0] + "@" + testDomain
	u, _ := e.user(email)
	if u.OrgUnitPath != "/Students/7" || u.ChangePasswordAtNextLogin {
		t.Errorf("account = %+v, want /Students/7 without a forced change", u)
	}
	for _, g := range []string{"grade-7@" + testDomain, "students@" + testDomain} {
		if ok, err := e.client.HasMember(t.Context(), g, email); err != nil || !ok {
			t.Errorf("%s is not a member of %s: %v", email, g, err)
		}
	}
}

func TestCreate_groupMissing(t *testing.T) {
	e := newEnv(t, func(c *batch.Config, _ *Options) { c.Groups.Add = []string{"staff"} })
	names := e.suggest("Ada", "Lovelace")
	r := e.post("/rest/create", createBody(names[0], "correct horse battery"))
	var answer createAnswer
	if r.status != http.StatusOK || json.Unmarshal(r.body, &answer) != nil {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	if !strings.Contains(answer.Message, "could not be added to the group staff@example.com") {
		t.Errorf("message = %q, want it to say the group is missing", answer.Message)
	}
}

// TestCreate_unknownOutcome drops the answer of a users.insert that was
// applied: the point read finds the account with this create's marker,
// and the create succeeds, once.
func TestCreate_unknownOutcome(t *testing.T) {
	e := newEnv(t, nil)
	e.dir.onInsertUser(func(ctx context.Context, u *admin.User) (*admin.User, error) {
		if _, err := e.client.InsertUser(ctx, u); err != nil {
			return nil, err
		}
		return nil, &directory.OutcomeUnknownError{Op: "users.insert", Err: errors.New("connection reset by peer")}
	})
	names := e.suggest("Ada", "Lovelace")
	if r := e.post("/rest/create", createBody(names[0], "correct horse battery")); r.status != http.StatusOK {
		t.Fatalf("create after a lost answer = %d %s", r.status, r.body)
	}
	if n := e.users(names[0] + "@" + testDomain); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
}

// TestCreate_takenMeanwhile: another tool created the name after it was
// suggested. The 409 is settled by a point read: not ours, so taken.
func TestCreate_takenMeanwhile(t *testing.T) {
	e := newEnv(t, nil)
	names := e.suggest("Ada", "Lovelace")
	if _, err := e.client.InsertUser(t.Context(), &admin.User{PrimaryEmail: names[0] + "@" + testDomain, Password: "another password",
		Name: &admin.UserName{GivenName: "Ada", FamilyName: "Other"}}); err != nil {
		t.Fatal(err)
	}
	r := e.post("/rest/create", createBody(names[0], "correct horse battery"))
	if r.status != http.StatusConflict || !strings.Contains(r.errorMessage(t), "taken by another account") {
		t.Errorf("create of a name taken meanwhile = %d %s, want 409", r.status, r.body)
	}
	if u, _ := e.user(names[0] + "@" + testDomain); u.FamilyName != "Other" {
		t.Errorf("the other account was changed: %+v", u)
	}
}

// TestCreate_unsettled: the insert's outcome is unknown and the point read
// fails too. The create stays unsettled, its name out of use; the next
// start settles it.
func TestCreate_unsettled(t *testing.T) {
	e := newEnv(t, nil)
	var down atomic.Bool
	down.Store(true)
	e.dir.onInsertUser(func(ctx context.Context, u *admin.User) (*admin.User, error) {
		if _, err := e.client.InsertUser(ctx, u); err != nil {
			return nil, err
		}
		return nil, &directory.OutcomeUnknownError{Op: "users.insert", Err: errors.New("timeout")}
	})
	names := e.suggest("Ada", "Lovelace")
	e.dir.onGetUser(func(ctx context.Context, key string) (*admin.User, error) {
		if down.Load() {
			return nil, &googleapi.Error{Code: 503, Message: `Backend "users" is unavailable`}
		}
		return e.client.GetUser(ctx, key)
	})
	r := e.post("/rest/create", createBody(names[0], "correct horse battery"))
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.errorMessage(t), `could not tell whether`) {
		t.Fatalf("create with an unknown outcome = %d %s, want 503", r.status, r.body)
	}
	if !strings.Contains(r.errorMessage(t), `Backend "users" is unavailable`) {
		t.Errorf("the message lost Google's words (and its quotes): %s", r.body)
	}
	if state, _ := e.store.Holder(t.Context(), names[0]); state != stateCreating {
		t.Errorf("state of %s = %q, want creating", names[0], state)
	}
	// The next process settles it: the account is ours.
	down.Store(false)
	e.restart()
	if state, _ := e.store.Holder(t.Context(), names[0]); state != stateCreated {
		t.Errorf("after a restart, state of %s = %q, want created", names[0], state)
	}
	if n := e.users(names[0] + "@" + testDomain); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
}

// TestCreate_refusedByGoogle keeps the hold: the client may fix the
// request and try again. The error body stays valid JSON though Google's
// message holds quotes.
func TestCreate_refusedByGoogle(t *testing.T) {
	e := newEnv(t, nil)
	var refuse atomic.Bool
	refuse.Store(true)
	e.dir.onInsertUser(func(ctx context.Context, u *admin.User) (*admin.User, error) {
		if refuse.Load() {
			return nil, &googleapi.Error{Code: 400, Message: `Invalid Input: "familyName" is "bad"`, Errors: []googleapi.ErrorItem{{Reason: "invalid"}}}
		}
		return e.client.InsertUser(ctx, u)
	})
	names := e.suggest("Ada", "Lovelace")
	r := e.post("/rest/create", createBody(names[0], "correct horse battery"))
	if r.status != http.StatusBadRequest || !strings.Contains(r.errorMessage(t), `Invalid Input: "familyName" is "bad"`) {
		t.Fatalf("create refused by Google = %d %s", r.status, r.body)
	}
	refuse.Store(false)
	if r := e.post("/rest/create", createBody(names[0], "correct horse battery")); r.status != http.StatusOK {
		t.Errorf("create again = %d %s", r.status, r.body)
	}
}
