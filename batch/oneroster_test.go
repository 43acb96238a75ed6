package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/report"
)

// The OneRoster sample is read as a roster: roles placed by the config,
// [school] from orgs.csv, guardians and leavers not provisioned; a later
// delta file that marks a student tobedeleted suspends the account.
func TestJob_oneRosterSample(t *testing.T) {
	e := newEnv(t, emulator.Options{Domain: "riverside.example"}, "")
	cfg, err := LoadConfig(filepath.Join("..", "sample-csv", "oneroster", "oneroster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = cfg
	for _, f := range []string{"users.csv", "orgs.csv"} {
		data, err := os.ReadFile(filepath.Join("..", "sample-csv", "oneroster", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(e.dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.input, e.report = filepath.Join(e.dir, "users.csv"), filepath.Join(e.dir, "users.report.csv")
	sum, err := e.run(t.Context(), Run)
	if err != nil || sum.Statuses[report.StatusCreated] != 13 || sum.Statuses[report.StatusIgnored] != 3 {
		t.Fatalf("first roster = %+v, %v; want 13 created, 3 ignored (a guardian, two leaving)", sum, err)
	}
	want := map[string]string{
		"s-1001": "/Students/Riverside High/Grade 09",
		"s-2004": "/Students/Lincoln Middle/Grade 07",
		"t-502":  "/Staff/Lincoln Middle",
		"a-601":  "/Staff/District",
	}
	for id, ou := range want {
		if u := mustUser(t, e, id); u.OrgUnitPath != ou {
			t.Errorf("%s (%s) is in %s, want %s", u.PrimaryEmail, id, u.OrgUnitPath, ou)
		}
	}
	if got := e.groupsOf(mustUser(t, e, "s-1001").PrimaryEmail); len(got) != 1 || got[0] != "students-riversidehigh@riverside.example" {
		t.Errorf("María's groups = %v", got)
	}
	for _, u := range e.emu.State().Users {
		if strings.HasPrefix(u.PrimaryEmail, "rosa") || strings.HasPrefix(u.PrimaryEmail, "ella") {
			t.Errorf("%s got an account", u.PrimaryEmail)
		}
	}

	// A delta file: Noah is leaving.
	noah := mustUser(t, e, "s-1004")
	delta := "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName,grades\n" +
		"s-1004,tobedeleted,2026-10-01T00:00:00Z,true,org-hs,student,noah.smith,Noah,Smith,12\n"
	os.WriteFile(filepath.Join(e.dir, "delta.csv"), []byte(delta), 0o600)
	e.input, e.report = filepath.Join(e.dir, "delta.csv"), filepath.Join(e.dir, "delta.report.csv")
	sum, err = e.run(t.Context(), Run)
	if err != nil || sum.Statuses[report.StatusSuspended] != 1 {
		t.Fatalf("delta = %+v, %v; want Noah suspended", sum, err)
	}
	if u, _ := e.user(noah.PrimaryEmail); !u.Suspended {
		t.Errorf("Noah is not suspended")
	}
	if n := len(e.emu.State().Users); n != 13 {
		t.Errorf("%d accounts, want 13", n)
	}
}
