package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/report"
)

// night runs a full file under a new name, as a nightly export is, with
// the env's journal, and returns the summary and the report's lines by ID.
func (e *env) night(name, csv string) (*Summary, map[string]report.Line, error) {
	e.t.Helper()
	e.input = filepath.Join(e.dir, name+".csv")
	e.report = filepath.Join(e.dir, name+".report.csv")
	if err := os.WriteFile(e.input, []byte(csv), 0o600); err != nil {
		e.t.Fatal(err)
	}
	sum, err := e.run(e.t.Context(), Run)
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
	st := e.emu.State()
	for _, u := range users {
		u.ID = fmt.Sprintf("1%020d", 900000+len(st.Users))
		u.CreationTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		st.Users = append(st.Users, u)
	}
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
