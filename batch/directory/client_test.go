package directory

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no domain", Config{Endpoint: "http://127.0.0.1:1/"}, "domain is empty"},
		{"bad scheme", Config{Domain: testDomain, Endpoint: "ftp://127.0.0.1/"}, "want an http or https URL"},
		{"no host", Config{Domain: testDomain, Endpoint: "http:///x"}, "want an http or https URL"},
		{"loopback needs no credentials", Config{Domain: testDomain, Endpoint: "http://localhost:8085"}, ""},
		{"ipv6 loopback", Config{Domain: testDomain, Endpoint: "http://[::1]:8085/"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
			_, err := New(t.Context(), tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New() = %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestClient_InsertUser(t *testing.T) {
	ctx := t.Context()
	_, c := newTestClient(t, emulator.Options{}, Config{})
	created, err := c.InsertUser(ctx, newUser("ada", "S-1"))
	if err != nil {
		t.Fatalf("InsertUser = %v", err)
	}
	if created.Id == "" || created.PrimaryEmail != "ada@"+testDomain {
		t.Errorf("InsertUser = id %q, primary %q", created.Id, created.PrimaryEmail)
	}

	tests := []struct {
		name      string
		user      *admin.User
		code      int
		reason    string
		duplicate bool
		systemic  bool // refused as Google refuses the whole job, confirmed by a second request
	}{
		{"duplicate address", newUser("ada", "S-2"), http.StatusConflict, "duplicate", true, false},
		{"missing name", &admin.User{PrimaryEmail: "bob@" + testDomain, Password: "long enough"}, http.StatusBadRequest, "", false, false},
		{"short password", func() *admin.User { u := newUser("cy", ""); u.Password = "short"; return u }(), http.StatusBadRequest, "invalid", false, false},
		{"other domain", func() *admin.User { u := newUser("dee", ""); u.PrimaryEmail = "dee@elsewhere.org"; return u }(), http.StatusForbidden, "forbidden", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.InsertUser(ctx, tt.user)
			if err == nil {
				t.Fatal("InsertUser = nil, want an error")
			}
			if got := StatusCode(err); got != tt.code {
				t.Errorf("StatusCode = %d, want %d (%v)", got, tt.code, err)
			}
			if tt.reason != "" && reason(err) != tt.reason {
				t.Errorf("Reason = %q, want %q", reason(err), tt.reason)
			}
			_, systemic := AsSystemic(err)
			if IsDuplicate(err) != tt.duplicate || systemic != tt.systemic || IsOutcomeUnknown(err) || IsRateLimited(err) {
				t.Errorf("IsDuplicate = %v, systemic %v, IsOutcomeUnknown = %v, IsRateLimited = %v", IsDuplicate(err), systemic, IsOutcomeUnknown(err), IsRateLimited(err))
			}
		})
	}
	// Only the address in another domain is sent twice: Google answers it
	// as it answers an admin without the privilege.
	if s := c.Stats(); s.Retries != 1 || s.Requests != 6 {
		t.Errorf("Stats = %+v, want 6 requests, one retry", s)
	}
}

func TestClient_GetUser(t *testing.T) {
	ctx := t.Context()
	_, c := newTestClient(t, emulator.Options{}, Config{})
	created, err := c.InsertUser(ctx, newUser("ada", "S-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InsertAlias(ctx, created.PrimaryEmail, "countess@"+testDomain, JustCreated); err != nil {
		t.Fatalf("InsertAlias = %v", err)
	}
	for _, key := range []string{created.PrimaryEmail, "countess@" + testDomain, created.Id, "ADA@" + strings.ToUpper(testDomain)} {
		t.Run(key, func(t *testing.T) {
			u, err := c.GetUser(ctx, key)
			if err != nil {
				t.Fatalf("GetUser = %v", err)
			}
			ids, err := ExternalIDs(u)
			if err != nil || len(ids) != 1 || ids[0] != (ExternalID{Type: "organization", Value: "S-1"}) {
				t.Errorf("ExternalIDs = %+v, %v; want one organization S-1", ids, err)
			}
		})
	}
	_, err = c.GetUser(ctx, "nobody@"+testDomain)
	if !IsNotFound(err) || reason(err) != "notFound" {
		t.Errorf("GetUser(nobody) = %v, want 404 notFound", err)
	}
}

func TestClient_PatchUser(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	if _, err := c.InsertUser(ctx, newUser("ada", "")); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureOrgUnit(ctx, "/Staff", ParentsMustExist); err != nil {
		t.Fatal(err)
	}
	u, err := c.PatchUser(ctx, "ada@"+testDomain, &admin.User{OrgUnitPath: "/Staff"}, JustCreated)
	if err != nil {
		t.Fatalf("PatchUser = %v", err)
	}
	if u.OrgUnitPath != "/Staff" || emu.State().Users[0].OrgUnitPath != "/Staff" {
		t.Errorf("org unit = %q, state %q, want /Staff", u.OrgUnitPath, emu.State().Users[0].OrgUnitPath)
	}
	_, err = c.PatchUser(ctx, "nobody@"+testDomain, &admin.User{OrgUnitPath: "/Staff"}, Settled)
	if !IsNotFound(err) {
		t.Errorf("PatchUser(nobody) = %v, want 404", err)
	}
}

func TestClient_ResetPassword(t *testing.T) {
	ctx := t.Context()
	_, c := newTestClient(t, emulator.Options{}, Config{})
	if _, err := c.InsertUser(ctx, newUser("ada", "")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, password, hash string
		wantCode             int
	}{
		{"clear text", "another good password", "", 0},
		{"sha-1", "8843d7f92416211de9ebb963ff4ce28125932878", "SHA-1", 0},
		{"too short", "short", "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.ResetPassword(ctx, "ada@"+testDomain, tt.password, tt.hash, Settled)
			if StatusCode(err) != tt.wantCode || (tt.wantCode == 0) != (err == nil) {
				t.Fatalf("ResetPassword = %v, want status %d", err, tt.wantCode)
			}
			if err != nil && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestClient_InsertAlias(t *testing.T) {
	ctx := t.Context()
	_, c := newTestClient(t, emulator.Options{}, Config{})
	for _, local := range []string{"ada", "bob"} {
		if _, err := c.InsertUser(ctx, newUser(local, "")); err != nil {
			t.Fatal(err)
		}
	}
	alias := "countess@" + testDomain
	tests := []struct {
		name      string
		user      string
		duplicate bool
	}{
		{"new", "ada@" + testDomain, false},
		{"again on the same user", "ada@" + testDomain, false},
		{"taken by another user", "bob@" + testDomain, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.InsertAlias(ctx, tt.user, alias, Settled)
			if IsDuplicate(err) != tt.duplicate || (err == nil) == tt.duplicate {
				t.Errorf("InsertAlias(%s) = %v, want duplicate %v", tt.user, err, tt.duplicate)
			}
		})
	}
}

func TestClient_FindByExternalID(t *testing.T) {
	ctx := t.Context()
	_, c := newTestClient(t, emulator.Options{}, Config{})
	for i, id := range []string{"S-1", "S-10", "S 2", "S-1"} {
		u := newUser(fmt.Sprintf("user%d", i), id)
		if _, err := c.InsertUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		value string
		want  []string
	}{
		{"S-1", []string{"user0@" + testDomain, "user3@" + testDomain}},
		{"S 2", []string{"user2@" + testDomain}},
		{"S-3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			users, err := c.FindByExternalID(ctx, tt.value)
			if err != nil {
				t.Fatalf("FindByExternalID = %v", err)
			}
			var got []string
			for _, u := range users {
				got = append(got, u.PrimaryEmail)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("FindByExternalID(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestClient_EnsureOrgUnit(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- c.EnsureOrgUnit(ctx, "/Students/2025/5A/", CreateParents) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("EnsureOrgUnit = %v", err)
		}
	}
	var paths []string
	for _, ou := range emu.State().OrgUnits {
		paths = append(paths, ou.Path)
	}
	if want := "[/ /Students /Students/2025 /Students/2025/5A]"; fmt.Sprint(paths) != want {
		t.Errorf("org units = %v, want %s", paths, want)
	}
	if n := emu.Stats().Methods["directory.orgunits.insert"]; n != 3 {
		t.Errorf("orgunits.insert sent %d times, want 3", n)
	}
	before := c.Stats().Requests
	if err := c.EnsureOrgUnit(ctx, "/Students/2025/5A", ParentsMustExist); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureOrgUnit(ctx, "/", ParentsMustExist); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Requests; got != before {
		t.Errorf("a known org unit cost %d requests, want 0", got-before)
	}

	tests := []struct {
		name, path string
		parents    Parents
		wantErr    bool
	}{
		{"sibling of a known unit", "/Students/2026", ParentsMustExist, false},
		{"missing parent", "/Staff/Teachers", ParentsMustExist, true},
		{"relative", "Staff", CreateParents, true},
		{"empty segment", "/Staff//Teachers", CreateParents, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.EnsureOrgUnit(ctx, tt.path, tt.parents)
			if (err != nil) != tt.wantErr {
				t.Errorf("EnsureOrgUnit(%q) = %v, want error %v", tt.path, err, tt.wantErr)
			}
		})
	}
	if _, err := c.GetOrgUnit(ctx, "/Nowhere"); !IsNotFound(err) {
		t.Errorf("GetOrgUnit(/Nowhere) = %v, want 404", err)
	}
	ou, err := c.GetOrgUnit(ctx, "/Students/2026")
	if err != nil || ou.OrgUnitPath != "/Students/2026" {
		t.Errorf("GetOrgUnit(/Students/2026) = %+v, %v", ou, err)
	}
}

func TestClient_EnsureOrgUnit_raceWithAnotherProcess(t *testing.T) {
	ctx := t.Context()
	_, url := startEmulator(t, emulator.Options{})
	a := mustClient(t, Config{Endpoint: url})
	b := mustClient(t, Config{Endpoint: url})
	if err := a.EnsureOrgUnit(ctx, "/Shared", ParentsMustExist); err != nil {
		t.Fatal(err)
	}
	// b does not know the unit exists; it reads it and succeeds.
	if err := b.EnsureOrgUnit(ctx, "/Shared", ParentsMustExist); err != nil {
		t.Errorf("EnsureOrgUnit by a second client = %v", err)
	}
}

func TestClient_Groups(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	if _, err := c.InsertUser(ctx, newUser("ada", "")); err != nil {
		t.Fatal(err)
	}
	group := "class-5a@" + testDomain

	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := c.EnsureGroup(ctx, group, "Class 5A"); err != nil {
				t.Errorf("EnsureGroup = %v", err)
			}
		})
	}
	wg.Wait()
	if n := emu.Stats().Methods["directory.groups.insert"]; n != 1 {
		t.Errorf("groups.insert sent %d times, want 1", n)
	}
	g, err := c.GetGroup(ctx, group)
	if err != nil || g.Name != "Class 5A" {
		t.Fatalf("GetGroup = %+v, %v", g, err)
	}
	if _, err := c.InsertGroup(ctx, group, "Again"); !IsDuplicate(err) {
		t.Errorf("InsertGroup(existing) = %v, want 409", err)
	}
	if err := c.EnsureGroup(ctx, "ada@"+testDomain, "Ada"); !IsDuplicate(err) {
		t.Errorf("EnsureGroup(a user's address) = %v, want 409", err)
	}

	tests := []struct {
		name     string
		group    string
		member   string
		fresh    Freshness
		notFound bool
	}{
		{"add", group, "ada@" + testDomain, JustCreated, false},
		{"already a member", group, "ada@" + testDomain, Settled, false},
		{"missing group is not lag", "nogroup@" + testDomain, "ada@" + testDomain, JustCreated, true},
		{"missing member, settled", group, "nobody@" + testDomain, Settled, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.Stats().Requests
			err := c.InsertMember(ctx, tt.group, tt.member, tt.fresh)
			if IsNotFound(err) != tt.notFound || (err == nil) == tt.notFound {
				t.Errorf("InsertMember = %v, want not found %v", err, tt.notFound)
			}
			if sent := c.Stats().Requests - before; sent != 1 {
				t.Errorf("InsertMember sent %d requests, want 1", sent)
			}
		})
	}

	for _, tt := range []struct {
		member string
		want   bool
	}{{"ada@" + testDomain, true}, {"bob@elsewhere.org", false}} {
		got, err := c.HasMember(ctx, group, tt.member)
		if err != nil && !IsNotFound(err) {
			t.Fatalf("HasMember(%s) = %v", tt.member, err)
		}
		if got != tt.want {
			t.Errorf("HasMember(%s) = %v, want %v", tt.member, got, tt.want)
		}
	}
}

func TestClient_groupAccess(t *testing.T) {
	ctx := t.Context()
	_, url := startEmulator(t, emulator.Options{})
	c, err := New(ctx, Config{Endpoint: url, Domain: testDomain, Groups: GroupMembersOnly, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroup(ctx, "any@"+testDomain); err == nil || !strings.Contains(err.Error(), "GroupRead") {
		t.Errorf("GetGroup without group access = %v, want an error naming GroupRead", err)
	}
	if err := c.EnsureGroup(ctx, "any@"+testDomain, "Any"); err == nil {
		t.Error("EnsureGroup without group access = nil, want an error")
	}
	if s := c.Stats(); s.Requests != 0 {
		t.Errorf("sent %d requests, want none", s.Requests)
	}
}
