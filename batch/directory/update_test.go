package directory

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

func ptr[T any](v T) *T { return &v }

// stateUser returns the emulator's record of the user with the given
// primary address.
func stateUser(t *testing.T, emu *emulator.Server, addr string) emulator.User {
	t.Helper()
	for _, u := range emu.State().Users {
		if u.PrimaryEmail == addr {
			return u
		}
	}
	t.Fatalf("no user %s in the emulator", addr)
	return emulator.User{}
}

// extra returns a stored field of a user as compact JSON, "" when absent.
func extra(u emulator.User, field string) string {
	raw, ok := u.Extra[field]
	if !ok {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// recorder records the method and body of every request a client sends.
type recorder struct {
	mu   sync.Mutex
	reqs []string // "METHOD path body"
}

func (r *recorder) observe(req *http.Request) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.Path+" "+strings.TrimSpace(string(body)))
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// newRecordingClient is newTestClient whose requests rec records.
func newRecordingClient(t *testing.T, opts emulator.Options, cfg Config) (*emulator.Server, *Client, *recorder) {
	t.Helper()
	emu, url := startEmulator(t, opts)
	rec := &recorder{}
	cfg.Endpoint = url
	cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec.observe(r)
		return http.DefaultTransport.RoundTrip(r)
	})}
	return emu, mustClient(t, cfg), rec
}

func TestClient_UpdateUser(t *testing.T) {
	ctx := t.Context()
	emu, c, rec := newRecordingClient(t, emulator.Options{}, Config{})
	if err := c.EnsureOrgUnit(ctx, "/Alumni", ParentsMustExist); err != nil {
		t.Fatal(err)
	}
	u := newUser("ada", "S-1")
	u.Phones = []admin.UserPhone{{Value: "+1 555 0100", Type: "work"}, {Value: "+1 555 0101", Type: "mobile"}}
	u.Organizations = []admin.UserOrganization{{Title: "Countess", Department: "Mathematics", CostCenter: "CC-7", Primary: true}}
	u.Relations = []admin.UserRelation{{Value: "babbage@example.com", Type: "manager"}}
	created, err := c.InsertUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	id := created.Id
	rec.take()

	steps := []struct {
		name   string
		update UserUpdate
		check  func(emulator.User) bool
		body   string // the request body sent, "" for no request
	}{
		{"nothing to change sends nothing", UserUpdate{}, func(emulator.User) bool { return true }, ""},
		{"names only", UserUpdate{GivenName: ptr("Augusta Ada"), FamilyName: ptr("King")}, func(s emulator.User) bool {
			return s.GivenName == "Augusta Ada" && s.FamilyName == "King" && strings.Contains(extra(s, "phones"), "0101")
		}, `{"name":{"familyName":"King","givenName":"Augusta Ada"}}`},
		{"a phone removed: the list sent whole", UserUpdate{Phones: &[]admin.UserPhone{{Value: "+1 555 0100", Type: "work"}}}, func(s emulator.User) bool {
			return extra(s, "phones") == `[{"type":"work","value":"+1 555 0100"}]`
		}, `{"phones":[{"type":"work","value":"+1 555 0100"}]}`},
		{"the last phone removed: null", UserUpdate{Phones: &[]admin.UserPhone{}}, func(s emulator.User) bool {
			return extra(s, "phones") == "" && extra(s, "organizations") != ""
		}, `{"phones":null}`},
		{"title changed, cost center kept", UserUpdate{Organizations: &[]admin.UserOrganization{{Title: "Analyst", Department: "Mathematics", CostCenter: "CC-7", Primary: true}}},
			func(s emulator.User) bool {
				return extra(s, "organizations") == `[{"costCenter":"CC-7","department":"Mathematics","primary":true,"title":"Analyst"}]`
			}, `{"organizations":[{"costCenter":"CC-7","department":"Mathematics","primary":true,"title":"Analyst"}]}`},
		{"manager changed", UserUpdate{Relations: &[]admin.UserRelation{{Value: "somerville@example.com", Type: "manager"}}}, func(s emulator.User) bool {
			return extra(s, "relations") == `[{"type":"manager","value":"somerville@example.com"}]`
		}, `{"relations":[{"type":"manager","value":"somerville@example.com"}]}`},
		{"a leaver: suspended and moved in one request", UserUpdate{Suspended: ptr(true), OrgUnitPath: ptr("/Alumni")}, func(s emulator.User) bool {
			return s.Suspended && s.SuspensionReason == "ADMIN" && s.OrgUnitPath == "/Alumni"
		}, `{"orgUnitPath":"/Alumni","suspended":true}`},
		{"a returner: false is sent", UserUpdate{Suspended: ptr(false), OrgUnitPath: ptr("/")}, func(s emulator.User) bool {
			return !s.Suspended && s.SuspensionReason == "" && s.OrgUnitPath == "/"
		}, `{"orgUnitPath":"/","suspended":false}`},
		{"custom fields set", UserUpdate{CustomSchemas: map[string]map[string]any{"HR": {"grade": "7", "site": "North"}}}, func(s emulator.User) bool {
			return extra(s, "customSchemas") == `{"HR":{"grade":"7","site":"North"}}`
		}, `{"customSchemas":{"HR":{"grade":"7","site":"North"}}}`},
		{"a custom field cleared", UserUpdate{CustomSchemas: map[string]map[string]any{"HR": {"site": nil}}}, func(s emulator.User) bool {
			return extra(s, "customSchemas") == `{"HR":{"grade":"7"}}`
		}, `{"customSchemas":{"HR":{"site":null}}}`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := c.UpdateUser(ctx, id, st.update, Settled); err != nil {
				t.Fatalf("UpdateUser = %v", err)
			}
			reqs := rec.take()
			switch {
			case st.body == "" && len(reqs) != 0:
				t.Errorf("sent %q, want nothing", reqs)
			case st.body != "" && (len(reqs) != 1 || reqs[0] != "PUT /admin/directory/v1/users/"+id+" "+st.body):
				t.Errorf("sent %q, want one users.update with %s", reqs, st.body)
			}
			if s := stateUser(t, emu, "ada@"+testDomain); !st.check(s) {
				t.Errorf("user after the update: %+v", s)
			}
		})
	}

	errs := []struct {
		name     string
		key      string
		update   UserUpdate
		code     int
		notFound bool
	}{
		{"name too long", id, UserUpdate{GivenName: ptr(strings.Repeat("x", 61))}, 400, false},
		{"empty name", id, UserUpdate{FamilyName: ptr("")}, 400, false},
		{"no such org unit", id, UserUpdate{OrgUnitPath: ptr("/Nowhere")}, 400, false},
		{"unknown phone type", id, UserUpdate{Phones: &[]admin.UserPhone{{Value: "1", Type: "cell"}}}, 400, false},
		{"no such user", "100000000000000000001", UserUpdate{Suspended: ptr(true)}, 404, true},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			err := c.UpdateUser(ctx, tt.key, tt.update, Settled)
			if StatusCode(err) != tt.code || !IsRefused(err) || IsNotFound(err) != tt.notFound {
				t.Errorf("UpdateUser = %v, want a refusal %d", err, tt.code)
			}
		})
	}
}

// TestClient_UpdateUser_notPatch shows why UpdateUser sends users.update:
// users.patch leaves a list sent as null, or empty, as it was.
func TestClient_UpdateUser_notPatch(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	u := newUser("ada", "")
	u.Phones = []admin.UserPhone{{Value: "+1 555 0100", Type: "work"}}
	if _, err := c.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PatchUser(ctx, "ada@"+testDomain, &admin.User{NullFields: []string{"Phones"}}, Settled); err != nil {
		t.Fatal(err)
	}
	if extra(stateUser(t, emu, "ada@"+testDomain), "phones") == "" {
		t.Fatal("users.patch cleared the phones; Google's does not")
	}
	if err := c.UpdateUser(ctx, "ada@"+testDomain, UserUpdate{Phones: &[]admin.UserPhone{}}, Settled); err != nil {
		t.Fatal(err)
	}
	if p := extra(stateUser(t, emu, "ada@"+testDomain), "phones"); p != "" {
		t.Errorf("phones after UpdateUser = %s, want none", p)
	}
}

// TestClient_lifecycleWritesAreIdempotent: with every answer lost after
// the change is applied, removals are retried until Google's 404 says they
// are done; an update whose every answer was lost fails with an outcome
// the caller cannot know (never a refusal), and sending it again, as a
// resumed job does, settles it without doing anything twice.
func TestClient_lifecycleWritesAreIdempotent(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	ada, err := c.InsertUser(ctx, newUser("ada", "S-1"))
	if err != nil {
		t.Fatal(err)
	}
	grace, err := c.InsertUser(ctx, newUser("grace", "S-2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"club@" + testDomain, "old@" + testDomain} {
		if err := c.EnsureGroup(ctx, g, "G"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.InsertMember(ctx, "club@"+testDomain, "grace@"+testDomain, Settled); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureOrgUnit(ctx, "/Old", ParentsMustExist); err != nil {
		t.Fatal(err)
	}
	update := func() error { return c.UpdateUser(ctx, ada.Id, UserUpdate{Suspended: ptr(true)}, Settled) }
	rename := func() error { return c.RenameUser(ctx, ada.Id, "ada@"+testDomain, "ada.king@"+testDomain, Settled) }
	emu.SetFaults(emulator.Faults{DropAfterSuccess: 1})
	for name, write := range map[string]func() error{
		"RemoveMember":       func() error { return c.RemoveMember(ctx, "club@"+testDomain, "grace@"+testDomain) },
		"DeleteUser":         func() error { return c.DeleteUser(ctx, grace.Id) },
		"DeleteEmptyGroup":   func() error { return c.DeleteEmptyGroup(ctx, "old@"+testDomain) },
		"DeleteEmptyOrgUnit": func() error { return c.DeleteEmptyOrgUnit(ctx, "/Old") },
	} {
		if err := write(); err != nil {
			t.Errorf("%s with every answer lost = %v, want success", name, err)
		}
	}
	for name, write := range map[string]func() error{"UpdateUser": update, "RenameUser": rename} {
		if err := write(); err == nil || IsRefused(err) || IsOutcomeUnknown(err) {
			t.Errorf("%s with every answer lost = %v, want a transport error (outcome unknown to the caller)", name, err)
		}
	}
	emu.SetFaults(emulator.Faults{})
	for name, write := range map[string]func() error{"UpdateUser": update, "RenameUser": rename} {
		if err := write(); err != nil {
			t.Errorf("%s sent again = %v, want success", name, err)
		}
	}
	st := emu.State()
	if len(st.Users) != 1 || !st.Users[0].Suspended || st.Users[0].PrimaryEmail != "ada.king@"+testDomain ||
		!slices.Equal(st.Users[0].Aliases, []string{"ada@" + testDomain}) {
		t.Errorf("users = %+v, want ada.king alone, suspended, ada@ an alias once", st.Users)
	}
	if len(st.Groups) != 1 || len(st.Groups[0].Members) != 0 || len(st.OrgUnits) != 1 {
		t.Errorf("groups %+v, org units %+v; want club@ empty, the root alone", st.Groups, st.OrgUnits)
	}
}

func TestClient_RenameUser(t *testing.T) {
	ctx := t.Context()
	emu, c, rec := newRecordingClient(t, emulator.Options{}, Config{})
	ada, err := c.InsertUser(ctx, newUser("ada", "S-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertUser(ctx, newUser("grace", "S-2")); err != nil {
		t.Fatal(err)
	}
	if err := c.InsertAlias(ctx, ada.Id, "countess@"+testDomain, Settled); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureGroup(ctx, "club@"+testDomain, "Club"); err != nil {
		t.Fatal(err)
	}
	if err := c.InsertMember(ctx, "club@"+testDomain, ada.Id, Settled); err != nil {
		t.Fatal(err)
	}
	rec.take()
	if err := c.RenameUser(ctx, ada.Id, "ada@"+testDomain, "ada.king@"+testDomain, Settled); err != nil {
		t.Fatalf("RenameUser = %v", err)
	}
	s := stateUser(t, emu, "ada.king@"+testDomain)
	if !slices.Contains(s.Aliases, "ada@"+testDomain) || !slices.Contains(s.Aliases, "countess@"+testDomain) {
		t.Errorf("aliases after the rename = %v, want the old address and countess@", s.Aliases)
	}
	if got, err := c.GetUser(ctx, "ada@"+testDomain); err != nil || got.Id != ada.Id {
		t.Errorf("GetUser(old address) = %v, %v; want the renamed user", got, err)
	}
	if len(rec.take()) != 2 { // the update, the point read above
		t.Errorf("RenameUser sent more than one request")
	}
	if err := c.RenameUser(ctx, ada.Id, "ada@"+testDomain, "ada.king@"+testDomain, Settled); err != nil {
		t.Errorf("RenameUser again = %v, want success", err)
	}
	for _, tt := range []struct {
		name, to, want string
	}{
		{"onto another user", "grace@" + testDomain, "Entity already exists"},
		{"onto its own alias", "countess@" + testDomain, "is already an alias of this account"},
	} {
		err := c.RenameUser(ctx, ada.Id, "ada.king@"+testDomain, tt.to, Settled)
		if !IsDuplicate(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("RenameUser(%s) = %v, want a duplicate: %s", tt.name, err, tt.want)
		}
	}
}

// TestClient_RenameUser_keepsTheAlias: when Google's answer does not show
// the old address among the aliases, RenameUser adds it.
func TestClient_RenameUser_keepsTheAlias(t *testing.T) {
	ctx := t.Context()
	emu, url := startEmulator(t, emulator.Options{})
	var inserted []string
	var mu sync.Mutex
	hideAliases := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res, err := http.DefaultTransport.RoundTrip(r)
		if err != nil || r.Method != http.MethodPut {
			if err == nil && strings.HasSuffix(r.URL.Path, "/aliases") {
				mu.Lock()
				inserted = append(inserted, r.URL.Path)
				mu.Unlock()
			}
			return res, err
		}
		var u map[string]any
		if err := json.NewDecoder(res.Body).Decode(&u); err != nil {
			return nil, err
		}
		res.Body.Close()
		delete(u, "aliases")
		b, _ := json.Marshal(u)
		res.Body = io.NopCloser(bytes.NewReader(b))
		res.ContentLength = int64(len(b))
		res.Header.Del("Content-Length")
		return res, nil
	})
	c := mustClient(t, Config{Endpoint: url, HTTPClient: &http.Client{Transport: hideAliases}})
	ada, err := c.InsertUser(ctx, newUser("ada", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RenameUser(ctx, ada.Id, "ada@"+testDomain, "ada.king@"+testDomain, Settled); err != nil {
		t.Fatalf("RenameUser = %v", err)
	}
	if len(inserted) != 1 || !slices.Equal(stateUser(t, emu, "ada.king@"+testDomain).Aliases, []string{"ada@" + testDomain}) {
		t.Errorf("alias inserts %v, aliases %v; want one insert, ada@ an alias once", inserted, stateUser(t, emu, "ada.king@"+testDomain).Aliases)
	}
}

func TestClient_DeleteUser(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	ada, err := c.InsertUser(ctx, newUser("ada", "S-1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{ada.Id, ada.Id, "100000000000000000001"} {
		if err := c.DeleteUser(ctx, key); err != nil {
			t.Errorf("DeleteUser(%s) = %v, want success", key, err)
		}
	}
	if n := len(emu.State().Users); n != 0 {
		t.Errorf("%d users left, want none", n)
	}
	emu.SetFaults(emulator.Faults{Forbidden: "users.delete"})
	_, err = c.InsertUser(ctx, newUser("grace", ""))
	if err != nil {
		t.Fatal(err)
	}
	err = c.DeleteUser(ctx, "grace@"+testDomain)
	if se, ok := AsSystemic(err); !ok || !strings.Contains(se.Fix, "may not delete users") {
		t.Errorf("DeleteUser refused = %v, want a systemic refusal whose fix names deleting users", err)
	}
}

func TestClient_UpdateUser_justCreated(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{Faults: emulator.Faults{NotComplete412: 1, CreationWindow: 200 * time.Millisecond}}, Config{})
	ada, err := c.InsertUser(ctx, newUser("ada", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateUser(ctx, ada.Id, UserUpdate{Phones: &[]admin.UserPhone{{Value: "1", Type: "work"}}}, JustCreated); err != nil {
		t.Errorf("UpdateUser of a user being created = %v, want success once it settles", err)
	}
	if emu.Stats().Faults["conditionNotMet"] == 0 {
		t.Errorf("the emulator answered no 412: the test tests nothing")
	}
}
