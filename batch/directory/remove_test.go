package directory

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

func TestClient_RemoveMember(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	ada, err := c.InsertUser(ctx, newUser("ada", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureGroup(ctx, "club@"+testDomain, "Club"); err != nil {
		t.Fatal(err)
	}
	if err := c.InsertMember(ctx, "club@"+testDomain, "ada@"+testDomain, Settled); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{ada.Id, "ada@" + testDomain} {
		if err := c.RemoveMember(ctx, "club@"+testDomain, key); err != nil {
			t.Errorf("RemoveMember(%s) = %v, want success (removed, or not a member)", key, err)
		}
	}
	if m := emu.State().Groups[0].Members; len(m) != 0 {
		t.Errorf("members = %+v, want none", m)
	}
	err = c.RemoveMember(ctx, "nogroup@"+testDomain, "ada@"+testDomain)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "groupKey") {
		t.Errorf("RemoveMember(no group) = %v, want 404 groupKey", err)
	}
}

func TestClient_DeleteEmptyGroup(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	if _, err := c.InsertUser(ctx, newUser("ada", "")); err != nil {
		t.Fatal(err)
	}
	g := "club@" + testDomain
	if err := c.EnsureGroup(ctx, g, "Club"); err != nil {
		t.Fatal(err)
	}
	if err := c.InsertMember(ctx, g, "ada@"+testDomain, Settled); err != nil {
		t.Fatal(err)
	}
	err := c.DeleteEmptyGroup(ctx, g)
	var ne *NotEmptyError
	if !errors.As(err, &ne) || !ne.Members || ne.Error() != "group club@example.com is not empty: it holds members" {
		t.Fatalf("DeleteEmptyGroup(with a member) = %v, want a *NotEmptyError", err)
	}
	if len(emu.State().Groups) != 1 {
		t.Fatal("the group was deleted")
	}
	if err := c.RemoveMember(ctx, g, "ada@"+testDomain); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.DeleteEmptyGroup(ctx, g); err != nil {
			t.Errorf("DeleteEmptyGroup = %v, want success (deleted, or gone)", err)
		}
	}
	if n := len(emu.State().Groups); n != 0 {
		t.Fatalf("%d groups left, want none", n)
	}
	// The client forgot it knew the group: ensuring it creates it again.
	if err := c.EnsureGroup(ctx, g, "Club"); err != nil || len(emu.State().Groups) != 1 {
		t.Errorf("EnsureGroup after the delete = %v, %d groups; want the group again", err, len(emu.State().Groups))
	}
	reader := mustClient(t, Config{Endpoint: c.svc.BasePath, Groups: GroupRead})
	if err := reader.DeleteEmptyGroup(ctx, g); err == nil || !strings.Contains(err.Error(), "GroupCreate") {
		t.Errorf("DeleteEmptyGroup without GroupCreate = %v, want an error naming it", err)
	}
}

func TestClient_DeleteEmptyOrgUnit(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{}, Config{})
	if err := c.EnsureOrgUnit(ctx, "/Class of 2020/Leavers", CreateParents); err != nil {
		t.Fatal(err)
	}
	u := newUser("ada", "")
	u.OrgUnitPath, u.Suspended = "/Class of 2020/Leavers", true
	ada, err := c.InsertUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path            string
		children, users bool
		message         string
	}{
		{"/Class of 2020", true, true, "org unit /Class of 2020 is not empty: it holds child org units and users"},
		{"/Class of 2020/Leavers", false, true, "org unit /Class of 2020/Leavers is not empty: it holds users"},
	}
	for _, tt := range tests {
		err := c.DeleteEmptyOrgUnit(ctx, tt.path)
		var ne *NotEmptyError
		if !errors.As(err, &ne) || ne.Children != tt.children || ne.Users != tt.users || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("DeleteEmptyOrgUnit(%s) = %v, want %q", tt.path, err, tt.message)
		}
		if ne != nil && StatusCode(ne.Err) != 400 {
			t.Errorf("NotEmptyError.Err = %v, want Google's refusal", ne.Err)
		}
	}
	if err := c.UpdateUser(ctx, ada.Id, UserUpdate{OrgUnitPath: ptr("/")}, Settled); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/Class of 2020/Leavers", "/Class of 2020", "/Class of 2020", "/Never/There"} {
		if err := c.DeleteEmptyOrgUnit(ctx, p); err != nil {
			t.Errorf("DeleteEmptyOrgUnit(%s) = %v, want success (deleted, or gone)", p, err)
		}
	}
	if n := len(emu.State().OrgUnits); n != 1 {
		t.Errorf("%d org units left, want the root alone", n)
	}
	// The client forgot it knew the units: ensuring one creates it again.
	if err := c.EnsureOrgUnit(ctx, "/Class of 2020/Leavers", CreateParents); err != nil || len(emu.State().OrgUnits) != 3 {
		t.Errorf("EnsureOrgUnit after the delete = %v, %d units; want them again", err, len(emu.State().OrgUnits))
	}
	for _, p := range []string{"/", "Class of 2020", "/a//b"} {
		if err := c.DeleteEmptyOrgUnit(ctx, p); err == nil {
			t.Errorf("DeleteEmptyOrgUnit(%q) = nil, want an error", p)
		}
	}
}

// TestClient_DeleteEmptyOrgUnit_unexplained: when the client cannot see
// what fills the unit (search has not caught up with a new user), it
// returns Google's refusal as it is.
func TestClient_DeleteEmptyOrgUnit_unexplained(t *testing.T) {
	ctx := t.Context()
	emu, c := newTestClient(t, emulator.Options{Faults: emulator.Faults{SearchLag: time.Hour}}, Config{})
	if err := c.EnsureOrgUnit(ctx, "/New", ParentsMustExist); err != nil {
		t.Fatal(err)
	}
	u := newUser("ada", "")
	u.OrgUnitPath = "/New"
	if _, err := c.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	err := c.DeleteEmptyOrgUnit(ctx, "/New")
	if err == nil || IsNotEmpty(err) || !IsRefused(err) || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("DeleteEmptyOrgUnit = %v, want Google's refusal as it is", err)
	}
	emu.SetFaults(emulator.Faults{Forbidden: "orgunits.delete"})
	err = c.DeleteEmptyOrgUnit(ctx, "/New")
	if _, ok := AsSystemic(err); !ok || IsNotEmpty(err) {
		t.Errorf("DeleteEmptyOrgUnit refused = %v, want a systemic refusal", err)
	}
}
