package emulator

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
)

func TestServer_stateRoundTrip(t *testing.T) {
	clk := newClock()
	opts := Options{Seed: 5, Now: clk.Now}
	s, svc := start(t, opts)
	if err := s.Generate(200); err != nil {
		t.Fatal(err)
	}
	u := newUser("ada")
	u.OrgUnitPath = "/Staff/Teachers"
	u.ExternalIds = []admin.UserExternalId{{Value: "E-1", Type: "custom", CustomType: "employee"}}
	u.Phones = []admin.UserPhone{{Value: "+44 20 7946 0000", Type: "work"}}
	u.Name.DisplayName = "Countess"
	mustInsert(t, svc, u)
	for _, call := range []func() error{
		func() error {
			_, err := svc.Users.Aliases.Insert("ada@example.com", &admin.Alias{Alias: "countess@example.com"}).Do()
			return err
		},
		func() error {
			_, err := svc.Members.Insert("teachers@example.com", &admin.Member{Email: "countess@example.com", Role: "MANAGER"}).Do()
			return err
		},
		func() error {
			_, err := svc.Members.Insert("staff@example.com", &admin.Member{Email: "parent@gmail.com"}).Do()
			return err
		},
		func() error {
			_, err := svc.Members.Insert("staff@example.com", &admin.Member{Email: "faculty@example.com"}).Do()
			return err
		},
		func() error {
			_, err := svc.Orgunits.Insert("my_customer", &admin.OrgUnit{Name: "Visitors", ParentOrgUnitPath: "/", Description: "Guests"}).Do()
			return err
		},
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := s.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.String()

	s2, svc2 := start(t, opts)
	if err := s2.LoadState(strings.NewReader(saved)); err != nil {
		t.Fatalf("LoadState = %v", err)
	}
	var again bytes.Buffer
	if err := s2.WriteState(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != saved {
		t.Errorf("state after a round trip differs:\n%.300s\nwant\n%.300s", again.String(), saved)
	}
	got, err := svc2.Users.Get("countess@example.com").Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.Name.DisplayName != "Countess" || got.OrgUnitPath != "/Staff/Teachers" || len(got.Phones.([]any)) != 1 {
		t.Errorf("Get after LoadState = %+v", got)
	}
	if r, err := svc2.Members.HasMember("teachers@example.com", got.Id).Do(); err != nil || !r.IsMember {
		t.Errorf("HasMember after LoadState = %v, %v", r, err)
	}
	_, err = svc2.Users.Insert(newUser("countess")).Do()
	checkError(t, "Insert(countess) after LoadState", err, errWantDuplicate)
	r, err := svc2.Users.List().Customer("my_customer").Query("externalId:e-1").Do()
	if err != nil || len(r.Users) != 1 {
		t.Errorf("List(externalId:e-1) after LoadState = %v, %v", r, err)
	}
	// Admins and suspensions survive, with their reasons.
	for query, count := range map[string]func(User) bool{
		"isAdmin=true":          func(u User) bool { return u.IsAdmin },
		"isDelegatedAdmin=true": func(u User) bool { return u.IsDelegatedAdmin },
		"isSuspended=true":      func(u User) bool { return u.Suspended && u.SuspensionReason == "ADMIN" },
	} {
		want := 0
		for _, u := range s.State().Users {
			if count(u) {
				want++
			}
		}
		r, err := svc2.Users.List().Customer("my_customer").Query(query).MaxResults(500).Do()
		if err != nil || len(r.Users) != want || want == 0 {
			t.Errorf("List(%s) after LoadState = %d users, %v; want %d, more than none", query, len(r.Users), err, want)
		}
	}
}

func TestServer_LoadState_invalid(t *testing.T) {
	s, svc := start(t, Options{})
	mustInsert(t, svc, newUser("ada"))
	if _, err := svc.Groups.Insert(&admin.Group{Email: "staff@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Members.Insert("staff@example.com", &admin.Member{Email: "ada@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	good := s.State()
	tests := []struct {
		name    string
		edit    func(st *State)
		wantErr string
	}{
		{"other domain", func(st *State) { st.Domain = "example.org" }, "state is for example.org"},
		{"user in a missing org unit", func(st *State) { st.Users[0].OrgUnitPath = "/Nowhere" }, "no org unit /Nowhere"},
		{"bad user id", func(st *State) { st.Users[0].ID = "42" }, `bad or duplicate id "42"`},
		{"address taken twice", func(st *State) { st.Groups[0].Aliases = []string{"ada@example.com"} }, "address already in use"},
		{"member who is not there", func(st *State) { st.Groups[0].Members[0].Email = "grace@example.com" }, "no such user"},
		{"member of a bad type", func(st *State) { st.Groups[0].Members[0].Type = "ROBOT" }, `bad type "ROBOT"`},
		{"suspension reason of an active user", func(st *State) { st.Users[0].SuspensionReason = "ABUSE" }, `suspension reason "ABUSE"`},
		{"org unit without parent", func(st *State) {
			st.OrgUnits = append(st.OrgUnits, OrgUnit{ID: "id:0x", Path: "/A/B", Name: "B"})
		}, "org unit /A/B: no parent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st State
			if err := json.Unmarshal(stateJSON(t, good), &st); err != nil {
				t.Fatal(err)
			}
			tt.edit(&st)
			err := s.LoadState(bytes.NewReader(stateJSON(t, st)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadState = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	for _, body := range []string{"{", `{"domain":"example.com","customerId":"C03az79cb","shoeSize":42}`} {
		if err := s.LoadState(strings.NewReader(body)); err == nil {
			t.Errorf("LoadState(%q) = nil, want an error", body)
		}
	}
	if _, err := svc.Users.Get("ada@example.com").Do(); err != nil {
		t.Errorf("Get after failed loads = %v, want the directory unchanged", err)
	}
}

func TestServer_emulatorEndpoints(t *testing.T) {
	s, err := New(Options{QuotaPerMinute: 1, Faults: Faults{BackendError: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Generate(10); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	for range 3 {
		code, body := raw(t, "GET", ts.URL+"/emulator/v1/state", "")
		if code != 200 || len(body["users"].([]any)) != 10 {
			t.Fatalf("GET /emulator/v1/state = %d, %d users; want 200 and 10", code, len(body["users"].([]any)))
		}
	}
	raw(t, "GET", ts.URL+"/admin/directory/v1/users/x@example.com", "")
	raw(t, "GET", ts.URL+"/admin/directory/v1/users/x@example.com", "")
	code, body := raw(t, "GET", ts.URL+"/emulator/v1/stats", "")
	if code != 200 || body["requests"] != 2.0 || body["rateLimited"] != 1.0 || body["faults"].(map[string]any)["backendError"] != 1.0 {
		t.Errorf("GET /emulator/v1/stats = %d %v, want 2 requests, one over quota, one 503", code, body)
	}
	for _, path := range []string{"/emulator/v1/nothing", "/admin/directory/v1/calendars", "/"} {
		if code, _ := raw(t, "GET", ts.URL+path, ""); code != 404 {
			t.Errorf("GET %s = %d, want 404", path, code)
		}
	}
	if code, _ := raw(t, "POST", ts.URL+"/emulator/v1/state", "{}"); code != 404 {
		t.Errorf("POST /emulator/v1/state = %d, want 404", code)
	}
}
