package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// night runs a full file under a new name, as a nightly export is, with
// the env's journal, and returns the summary and the report's lines by ID.
func (e *env) night(name, csv string) (*Summary, map[string]report.Line, error) {
	e.t.Helper()
	return e.nightWith(e.client, name, csv)
}

// nightWith is night against dir.
func (e *env) nightWith(dir Directory, name, csv string) (*Summary, map[string]report.Line, error) {
	e.t.Helper()
	e.input = filepath.Join(e.dir, name+".csv")
	e.report = filepath.Join(e.dir, name+".report.csv")
	if err := os.WriteFile(e.input, []byte(csv), 0o600); err != nil {
		e.t.Fatal(err)
	}
	sum, err := e.runWith(e.t.Context(), dir, nil)
	lines := map[string]report.Line{}
	if _, serr := os.Stat(e.report); serr == nil {
		report.Read(e.report, func(l report.Line) error {
			lines[l.ID] = l
			return nil
		})
		// Leavers have no line number: read them by address.
		for _, r := range readCSV(e.t, e.report)[1:] {
			if r[0] == "" {
				lines[r[1]] = report.Line{ID: r[1], Email: r[4], Status: r[7], Error: r[8]}
			}
		}
	}
	return sum, lines, err
}

// addAccounts puts accounts the job did not make into the emulator's
// directory, as an admin console would have.
func (e *env) addAccounts(users ...emulator.User) {
	e.t.Helper()
	e.editDirectory(func(st *emulator.State) {
		for _, u := range users {
			u.ID = fmt.Sprintf("1%020d", 900000+len(st.Users))
			u.CreationTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			st.Users = append(st.Users, u)
		}
	})
}

// editDirectory changes the emulator's directory behind the job's back.
func (e *env) editDirectory(edit func(*emulator.State)) {
	e.t.Helper()
	st := e.emu.State()
	edit(&st)
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(st); err != nil {
		e.t.Fatal(err)
	}
	if err := e.emu.LoadState(&b); err != nil {
		e.t.Fatal(err)
	}
}

func peopleCSV(people ...string) string {
	return "firstname,lastname,id,title\n" + strings.Join(people, "\n") + "\n"
}

// Four nights of a nightly full export, as the "done when" has
// them: a first load, a night of changes and leavers, a night that would
// suspend too many, and a night a leaver comes back.
func TestJob_fourNights(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "")
	maxCount, maxPercent := 3, 50.0
	e.cfg.Leavers = LeaversConfig{Full: true, MaxCount: &maxCount, MaxPercent: &maxPercent}
	e.addAccounts(
		emulator.User{PrimaryEmail: "principal@example.org", GivenName: "Pat", FamilyName: "Principal", OrgUnitPath: "/", IsAdmin: true,
			ExternalIDs: []emulator.ExternalID{{Type: "organization", Value: "A1"}}},
		emulator.User{PrimaryEmail: "helpdesk@example.org", GivenName: "Help", FamilyName: "Desk", OrgUnitPath: "/"},
	)
	people := []string{
		"Ann,Adams,E01,Teacher", "Ben,Brown,E02,Teacher", "Cara,Jones,E03,Teacher", "Dan,Diaz,E04,Clerk", "Eve,Evans,E05,Teacher",
		"Fay,Fox,E06,Teacher", "Gus,Gray,E07,Nurse", "Hal,Hill,E08,Teacher", "Ida,Ito,E09,Teacher", "Jo,Jung,E10,Coach",
	}

	sum, _, err := e.night("export-0901", peopleCSV(people...))
	if err != nil || sum.Statuses[report.StatusCreated] != 10 || sum.Leavers == nil || len(sum.Leavers.Planned) != 0 {
		t.Fatalf("night 1 = %+v, %v; want 10 created and no leaver", sum, err)
	}
	cara := mustUser(t, e, "E03")
	ida, jo := mustUser(t, e, "E09"), mustUser(t, e, "E10")

	// Night 2: Cara married (surname), Dan's title, Ida and Jo left, Kim
	// was hired.
	night2 := append([]string{}, people[:8]...)
	night2[2] = "Cara,Smith-Jones,E03,Teacher"
	night2[3] = "Dan,Diaz,E04,Registrar"
	night2 = append(night2, "Kim,Kato,E11,Teacher")
	sum, lines, err := e.night("export-0902", peopleCSV(night2...))
	if err != nil {
		t.Fatalf("night 2: %v", err)
	}
	want := map[string]int{report.StatusUpdated: 2, report.StatusSuspended: 2, report.StatusCreated: 1, report.StatusSkipped: 6}
	for status, n := range want {
		if sum.Statuses[status] != n {
			t.Errorf("night 2: %d %s, want %d (statuses %v)", sum.Statuses[status], status, n, sum.Statuses)
		}
	}
	if u := mustUser(t, e, "E03"); u.PrimaryEmail != cara.PrimaryEmail || u.FamilyName != "Smith-Jones" {
		t.Errorf("Cara is %s %s, want her address %s kept and Smith-Jones", u.PrimaryEmail, u.FamilyName, cara.PrimaryEmail)
	}
	if l := lines["E03"]; l.Status != report.StatusUpdated || !strings.Contains(l.Error, "familyName: Jones → Smith-Jones") {
		t.Errorf("night 2 report line of E03 = %+v", l)
	}
	if u := mustUser(t, e, "E04"); !strings.Contains(string(u.Extra["organizations"]), "Registrar") {
		t.Errorf("Dan's organizations = %s, want the title Registrar", u.Extra["organizations"])
	}
	for _, u := range []emulator.User{ida, jo} {
		if got, _ := e.user(u.PrimaryEmail); !got.Suspended {
			t.Errorf("the leaver %s is not suspended", u.PrimaryEmail)
		}
	}
	untouched(t, e)

	// Night 3: six active people are missing: more than 3, and more than
	// half of the nine active in scope. Nothing changes.
	before := e.emu.State()
	night3 := []string{night2[0], night2[1], night2[8]}
	_, _, err = e.night("export-0903", peopleCSV(night3...))
	var limit *LeaverLimitError
	if !errors.As(err, &limit) || len(limit.Leavers) != 6 {
		t.Fatalf("night 3 = %v, want a *LeaverLimitError listing 6 leavers", err)
	}
	after := e.emu.State()
	for i := range before.Users {
		if before.Users[i].Suspended != after.Users[i].Suspended || before.Users[i].OrgUnitPath != after.Users[i].OrgUnitPath {
			t.Errorf("night 3 changed %s", before.Users[i].PrimaryEmail)
		}
	}

	// Night 4: Ida is back; everyone else as on night 2.
	night4 := append(append([]string{}, night2...), "Ida,Ito,E09,Teacher")
	sum, lines, err = e.night("export-0904", peopleCSV(night4...))
	if err != nil || sum.Statuses[report.StatusUnsuspended] != 1 || sum.Statuses[report.StatusCreated] != 0 {
		t.Fatalf("night 4 = %+v, %v; want Ida unsuspended, nobody created", sum, err)
	}
	if got, _ := e.user(ida.PrimaryEmail); got.Suspended {
		t.Errorf("Ida is still suspended")
	}
	if got, _ := e.user(jo.PrimaryEmail); !got.Suspended {
		t.Errorf("Jo, still gone, is no longer suspended")
	}
	if l := lines["E09"]; l.Status != report.StatusUnsuspended {
		t.Errorf("night 4 report line of E09 = %+v", l)
	}
	untouched(t, e)
}

// mustUser returns the account carrying the organization ID id.
func mustUser(t *testing.T, e *env, id string) emulator.User {
	t.Helper()
	for _, u := range e.emu.State().Users {
		for _, x := range u.ExternalIDs {
			if x.Value == id {
				return u
			}
		}
	}
	t.Fatalf("no account carries the ID %s", id)
	return emulator.User{}
}

// untouched checks that the admin and the account without an ID were
// never changed.
func untouched(t *testing.T, e *env) {
	t.Helper()
	for _, addr := range []string{"principal@example.org", "helpdesk@example.org"} {
		u, ok := e.user(addr)
		if !ok || u.Suspended || u.OrgUnitPath != "/" {
			t.Errorf("%s was touched: %+v", addr, u)
		}
	}
}

// undo runs an Undo of the env's journal.
func (e *env) undo(u Undo) (*UndoPlan, map[string]int, error) {
	e.t.Helper()
	j, err := journal.Open(e.t.Context(), e.journal, journal.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer j.Close()
	u.Config, u.Journal, u.Directory, u.Target = e.cfg.WithDefaults(), j, e.client, e.target
	if u.ReportPath == "" {
		u.ReportPath = filepath.Join(e.dir, "undo.report.csv")
	}
	return u.Do(e.t.Context())
}

// An undo takes back the accounts the last run created, and the
// memberships it added, and nothing else: not the accounts of an earlier
// run, not an account it adopted, not one made by hand.
func TestUndo(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "")
	e.addAccounts(
		emulator.User{PrimaryEmail: "helpdesk@example.org", GivenName: "Help", FamilyName: "Desk", OrgUnitPath: "/"},
		emulator.User{PrimaryEmail: "old.hand@example.org", GivenName: "Old", FamilyName: "Hand", OrgUnitPath: "/",
			ExternalIDs: []emulator.ExternalID{{Type: "organization", Value: "E9"}}},
	)
	e.cfg.OrgUnit.Default = "/Staff/[title]"
	if sum, _, err := e.night("first", "firstname,lastname,id,title,groups\nAnn,Adams,E1,Teachers,club-a\n"); err != nil || sum.Statuses[report.StatusCreated] != 1 {
		t.Fatalf("first run = %+v, %v", sum, err)
	}
	sum, _, err := e.night("second", "firstname,lastname,id,title,groups\nAnn,Adams,E1,Teachers,club-a\n"+
		"Ben,Brown,E2,Coaches,club-b\nCy,Cole,E3,Coaches,club-b;club-a\nDi,Dean,E4,Coaches,\nOld,Hand,E9,Teachers,club-a\n")
	if err != nil || sum.Statuses[report.StatusCreated] != 3 || sum.Statuses[report.StatusConverged] != 1 {
		t.Fatalf("second run = %+v, %v; want 3 created, 1 adopted", sum, err)
	}
	maxCount := 2
	e.cfg.Leavers.MaxCount = &maxCount
	if _, _, err = e.undo(Undo{}); !errors.As(err, new(*UndoLimitError)) {
		t.Fatalf("undo of 3 with leavers.maxCount 2 = %v, want an *UndoLimitError", err)
	}
	e.cfg.Leavers.MaxCount = nil
	confirmed := false
	plan, counts, err := e.undo(Undo{Confirm: func(p *UndoPlan) error { confirmed = true; return nil }})
	if err != nil || !confirmed || len(plan.Accounts) != 3 || plan.Memberships != 3 || counts[report.StatusSuspended] != 3 {
		t.Fatalf("undo = %+v, %v, %v (confirmed %v); want 3 accounts and 3 memberships taken back", plan, counts, err, confirmed)
	}
	for _, id := range []string{"E2", "E3", "E4"} {
		if u := mustUser(t, e, id); !u.Suspended || len(e.groupsOf(u.PrimaryEmail)) != 0 {
			t.Errorf("%s after the undo: suspended %v, groups %v", u.PrimaryEmail, u.Suspended, e.groupsOf(u.PrimaryEmail))
		}
	}
	for _, addr := range []string{"annadams@example.org", "helpdesk@example.org", "old.hand@example.org"} {
		if u, _ := e.user(addr); u.Suspended {
			t.Errorf("%s, not the run's, was suspended", addr)
		}
	}
	if got := e.groupsOf("old.hand@example.org"); len(got) != 1 {
		t.Errorf("the adopted account lost its groups: %v", got)
	}
	if _, _, err := e.undo(Undo{}); !errors.As(err, new(*UndoneError)) {
		t.Errorf("a second undo = %v, want an *UndoneError", err)
	}

	// Deleting: the accounts go, and the groups and org units the run
	// created, when empty.
	_, counts, err = e.undo(Undo{Run: plan.Run.ID, Delete: true})
	if err != nil || counts[report.StatusDeleted] != 3 {
		t.Fatalf("undo --delete = %v, %v; want 3 deleted", counts, err)
	}
	st := e.emu.State()
	if len(st.Users) != 3 {
		t.Errorf("%d accounts left, want Ann, the helpdesk and the adopted one", len(st.Users))
	}
	for _, g := range st.Groups {
		if g.Email == "club-b@example.org" {
			t.Errorf("club-b, created by the run and now empty, is still there")
		}
	}
	for _, ou := range st.OrgUnits {
		if ou.Path == "/Staff/Coaches" {
			t.Errorf("/Staff/Coaches, created by the run and now empty, is still there")
		}
	}
	// The people are back in the next file: they get new accounts.
	if sum, _, err := e.night("third", "firstname,lastname,id,title\nBen,Brown,E2,Coaches\n"); err != nil || sum.Statuses[report.StatusCreated] != 1 {
		t.Errorf("a deleted person back in a file = %+v, %v; want created again\n%v", sum, err, readCSV(t, e.report))
	}
}

// With rename: alias, a changed surname moves the account to the address
// the patterns give the new name, and keeps the old one as an alias.
func TestJob_renameAlias(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "")
	e.cfg.Patterns = []string{"[firstname].[lastname]"}
	e.cfg.Rename = RenameAlias
	if sum, _, err := e.night("one", "firstname,lastname,id\nCara,Jones,E3\nDan,Diaz,E4\n"); err != nil || sum.Statuses[report.StatusCreated] != 2 {
		t.Fatalf("first run = %+v, %v", sum, err)
	}
	sum, lines, err := e.night("two", "firstname,lastname,id\nCara,Smith-Jones,E3\nDan,Díaz,E4\n")
	if err != nil || sum.Statuses[report.StatusUpdated] != 2 {
		t.Fatalf("second run = %+v, %v; want 2 updated", sum, err)
	}
	cara := mustUser(t, e, "E3")
	if cara.PrimaryEmail != "cara.smith-jones@example.org" || !slices.Contains(cara.Aliases, "cara.jones@example.org") || cara.FamilyName != "Smith-Jones" {
		t.Errorf("Cara is %s (aliases %v) %s, want cara.smith-jones@ with the alias cara.jones@", cara.PrimaryEmail, cara.Aliases, cara.FamilyName)
	}
	if l := lines["E3"]; !strings.Contains(l.Error, "address: cara.jones@example.org → cara.smith-jones@example.org") || l.Email != "cara.smith-jones@example.org" {
		t.Errorf("Cara's report line = %+v", l)
	}
	// An accent the patterns do not see changes the name, not the address.
	if dan := mustUser(t, e, "E4"); dan.PrimaryEmail != "dan.diaz@example.org" || dan.FamilyName != "Díaz" {
		t.Errorf("Dan is %s %s, want dan.diaz@ kept, named Díaz", dan.PrimaryEmail, dan.FamilyName)
	}
	if sum, _, err := e.night("three", "firstname,lastname,id\nCara,Smith-Jones,E3\nDan,Díaz,E4\n"); err != nil || sum.Statuses[report.StatusSkipped] != 2 {
		t.Errorf("third run = %+v, %v; want both skipped", sum, err)
	}
}

// Custom schema fields the config maps are set on create and kept in line
// by updates, one field at a time; an emptied cell clears the field.
func TestJob_customSchemas(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "")
	e.cfg.CustomSchemas = map[string]map[string]string{"Employment": {"costCenter": "cost_center", "badge": "badge"}}
	if sum, _, err := e.night("one", "firstname,lastname,id,cost_center,badge\nCara,Jones,E3,CC-1,B7\n"); err != nil || sum.Statuses[report.StatusCreated] != 1 {
		t.Fatalf("first run = %+v, %v", sum, err)
	}
	custom := func() string { return string(mustUser(t, e, "E3").Extra["customSchemas"]) }
	if got := custom(); !strings.Contains(got, `"costCenter":"CC-1"`) || !strings.Contains(got, `"badge":"B7"`) {
		t.Errorf("after create, customSchemas = %s", got)
	}
	sum, lines, err := e.night("two", "firstname,lastname,id,cost_center,badge\nCara,Jones,E3,CC-2,\n")
	if err != nil || sum.Statuses[report.StatusUpdated] != 1 {
		t.Fatalf("second run = %+v, %v; want 1 updated", sum, err)
	}
	if got := custom(); !strings.Contains(got, `"costCenter":"CC-2"`) || strings.Contains(got, "B7") {
		t.Errorf("after the update, customSchemas = %s; want costCenter CC-2 and no badge", got)
	}
	if l := lines["E3"]; !strings.Contains(l.Error, "Employment.costCenter: CC-1 → CC-2") || !strings.Contains(l.Error, "Employment.badge: B7 → (none)") {
		t.Errorf("the report line = %+v", l)
	}
	if sum, _, err := e.night("three", "firstname,lastname,id,cost_center,badge\nCara,Jones,E3,CC-2,\n"); err != nil || sum.Statuses[report.StatusSkipped] != 1 {
		t.Errorf("third run = %+v, %v; want skipped", sum, err)
	}
}

// setUser changes an account in the emulator's directory, as an admin
// does in the console, behind the job's back.
func (e *env) setUser(addr string, change func(*emulator.User)) {
	e.t.Helper()
	e.editDirectory(func(st *emulator.State) {
		for i := range st.Users {
			if st.Users[i].PrimaryEmail == addr {
				change(&st.Users[i])
			}
		}
	})
}

// A leaver is read as it is now before it is touched: one made an admin,
// one moved into orgUnit.keep and one suspended by hand since the job
// last saw them are left alone, and the one suspended by hand is not
// unsuspended when back. A leaver back in the file rejoins its groups.
func TestJob_leaversReadBeforeTouched(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "")
	maxCount, maxPercent := 10, 100.0
	e.cfg.Leavers = LeaversConfig{Full: true, MaxCount: &maxCount, MaxPercent: &maxPercent}
	e.cfg.OrgUnit.Keep = []string{"/Hold"}
	all := []string{"Ann,Adams,E1,club", "Ben,Brown,E2,club", "Cy,Cole,E3,club", "Di,Dean,E4,club", "Ed,Eady,E5,club"}
	csv := func(ps ...string) string { return "firstname,lastname,id,groups\n" + strings.Join(ps, "\n") + "\n" }
	if sum, _, err := e.night("one", csv(all...)); err != nil || sum.Statuses[report.StatusCreated] != 5 {
		t.Fatalf("first night = %+v, %v", sum, err)
	}
	if err := e.client.EnsureOrgUnit(t.Context(), "/Hold", directory.CreateParents); err != nil {
		t.Fatal(err)
	}
	e.setUser("benbrown@example.org", func(u *emulator.User) { u.IsAdmin = true })
	e.setUser("cycole@example.org", func(u *emulator.User) { u.OrgUnitPath = "/Hold" })
	e.setUser("didean@example.org", func(u *emulator.User) { u.Suspended, u.SuspensionReason = true, "ADMIN" })

	// The listing has not caught up: it shows the three as they were.
	stale := &staleDir{Directory: e.client, before: map[string]bool{"benbrown@example.org": true, "cycole@example.org": true, "didean@example.org": true}}
	sum, lines, err := e.nightWith(stale, "two", csv(all[0]))
	if err != nil || sum.Statuses[report.StatusSuspended] != 1 {
		t.Fatalf("second night = %+v, %v; want only Ed suspended", sum, err)
	}
	for id, want := range map[string]string{"E2": "admin", "E3": "orgUnit.keep", "E4": "by someone else"} {
		if l := lines[id]; l.Status != report.StatusIgnored || !strings.Contains(l.Error, want) {
			t.Errorf("%s: %+v, want ignored because of %s", id, l, want)
		}
	}
	for addr, suspended := range map[string]bool{"benbrown@example.org": false, "cycole@example.org": false, "didean@example.org": true, "edeady@example.org": true} {
		if u, _ := e.user(addr); u.Suspended != suspended {
			t.Errorf("%s suspended = %v, want %v", addr, u.Suspended, suspended)
		}
	}
	if got := e.groupsOf("edeady@example.org"); len(got) != 0 {
		t.Errorf("the leaver Ed is still in %v", got)
	}

	// Everyone is back: Ed is unsuspended and rejoins his group; Di,
	// suspended by hand, stays suspended.
	sum, _, err = e.night("three", csv(all...))
	if err != nil || sum.Statuses[report.StatusUnsuspended] != 1 {
		t.Fatalf("third night = %+v, %v; want Ed unsuspended", sum, err)
	}
	if u, _ := e.user("didean@example.org"); !u.Suspended {
		t.Errorf("Di, suspended by hand, was unsuspended")
	}
	if got := e.groupsOf("edeady@example.org"); len(got) != 1 {
		t.Errorf("Ed, back, is in %v, want club@ again", got)
	}
}

// staleDir is a directory whose listing shows some accounts as they were
// when the job made them: not admins, in /, not suspended.
type staleDir struct {
	Directory
	before map[string]bool
}

func (d *staleDir) SnapshotAccounts(ctx context.Context, schemas []string, sink func(directory.AccountBatch) error) error {
	return d.Directory.SnapshotAccounts(ctx, schemas, func(b directory.AccountBatch) error {
		for i, a := range b.Accounts {
			if d.before[strings.ToLower(a.PrimaryEmail)] {
				b.Accounts[i].IsAdmin, b.Accounts[i].OrgUnitPath, b.Accounts[i].Suspended = false, "/", false
			}
		}
		return sink(b)
	})
}

// Full files that cannot say who left are refused, or touch nobody.
func TestJob_fullFileGuards(t *testing.T) {
	for _, tt := range []struct {
		name, second string
		moveTo       string
		wantErr      any
	}{
		{name: "no ID column", second: "firstname,lastname\nAnn,Adams\n", wantErr: new(*FullNeedsIDError)},
		{name: "an empty file", second: "firstname,lastname,id\n"},
		{name: "a missing moveTo", second: "firstname,lastname,id\nAnn,Adams,E1\n", moveTo: "/Leavers", wantErr: new(*MoveToMissingError)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, emulator.Options{}, "")
			maxCount, maxPercent := 10, 100.0
			e.cfg.Leavers = LeaversConfig{Full: true, MaxCount: &maxCount, MaxPercent: &maxPercent, MoveTo: tt.moveTo}
			e.cfg.OrgUnit.CreateMissing = false
			if _, _, err := e.night("one", "firstname,lastname,id\nAnn,Adams,E1\nBen,Brown,E2\n"); err != nil {
				t.Fatal(err)
			}
			sum, _, err := e.night("two", tt.second)
			if tt.wantErr != nil {
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("second night = %v, want %T", err, tt.wantErr)
				}
			} else if err != nil || sum.Leavers == nil || sum.Leavers.HeldBack == "" {
				t.Fatalf("second night = %+v, %v; want the leavers held back", sum, err)
			}
			for _, u := range e.emu.State().Users {
				if u.Suspended || u.OrgUnitPath != "/" {
					t.Errorf("%s was touched: %+v", u.PrimaryEmail, u)
				}
			}
		})
	}
}

// A leaver this journal suspended is deleted once leavers.deleteAfter has
// passed, and the person, back later, gets a new account.
func TestJob_leaverDeletedAfter(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "")
	maxCount, maxPercent := 10, 100.0
	e.cfg.Leavers = LeaversConfig{Full: true, MaxCount: &maxCount, MaxPercent: &maxPercent, DeleteAfter: Duration(90 * 24 * time.Hour)}
	both := "firstname,lastname,id\nAnn,Adams,E1\nBen,Brown,E2\n"
	if _, _, err := e.night("one", both); err != nil {
		t.Fatal(err)
	}
	if sum, _, err := e.night("two", "firstname,lastname,id\nAnn,Adams,E1\n"); err != nil || sum.Statuses[report.StatusSuspended] != 1 {
		t.Fatalf("night two = %+v, %v; want Ben suspended", sum, err)
	}
	e.now = func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }
	if sum, _, err := e.night("three", "firstname,lastname,id\nAnn,Adams,E1\n"); err != nil || sum.Statuses[report.StatusDeleted] != 0 {
		t.Fatalf("30 days later = %+v, %v; want nobody deleted yet", sum, err)
	}
	e.now = func() time.Time { return time.Now().Add(91 * 24 * time.Hour) }
	sum, lines, err := e.night("four", "firstname,lastname,id\nAnn,Adams,E1\n")
	if err != nil || sum.Statuses[report.StatusDeleted] != 1 || lines["E2"].Status != report.StatusDeleted {
		t.Fatalf("91 days later = %+v, %v; want Ben deleted", sum, err)
	}
	if _, ok := e.user("benbrown@example.org"); ok {
		t.Errorf("Ben's account is still there")
	}
	if sum, _, err := e.night("five", both); err != nil || sum.Statuses[report.StatusCreated] != 1 {
		t.Errorf("Ben back = %+v, %v; want a new account", sum, err)
	}
}
