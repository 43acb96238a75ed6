package emulator

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
)

func generated(t *testing.T, seed int64, n int) (*Server, State) {
	t.Helper()
	s, err := New(Options{Seed: seed, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Generate(n); err != nil {
		t.Fatalf("Generate(%d) = %v", n, err)
	}
	return s, s.State()
}

func stateJSON(t *testing.T, st State) []byte {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServer_Generate_deterministic(t *testing.T) {
	_, a := generated(t, 1, 400)
	_, b := generated(t, 1, 400)
	_, c := generated(t, 2, 400)
	if !bytes.Equal(stateJSON(t, a), stateJSON(t, b)) {
		t.Error("Generate(400) with seed 1 twice gave different directories")
	}
	if bytes.Equal(stateJSON(t, a), stateJSON(t, c)) {
		t.Error("Generate(400) with seeds 1 and 2 gave the same directory")
	}
}

func TestServer_Generate_realistic(t *testing.T) {
	const n = 3000
	s, st := generated(t, 1, n)
	if len(st.Users) != n {
		t.Fatalf("Generate(%d) made %d users", n, len(st.Users))
	}
	seen := map[string]bool{}
	claim := func(addr string) {
		if seen[addr] {
			t.Errorf("address %s used twice", addr)
		}
		seen[addr] = true
	}
	scripts := map[string]*unicode.RangeTable{
		"Latin": unicode.Latin, "Han": unicode.Han, "Cyrillic": unicode.Cyrillic, "Greek": unicode.Greek,
		"Arabic": unicode.Arabic, "Hangul": unicode.Hangul, "Devanagari": unicode.Devanagari,
	}
	perScript := map[string]int{}
	var aliased, withID, suspended, diacritics, admins, delegated int
	ids := map[string]bool{}
	for _, u := range st.Users {
		claim(u.PrimaryEmail)
		for _, a := range u.Aliases {
			claim(a)
			aliased++
		}
		local, domain, _ := strings.Cut(u.PrimaryEmail, "@")
		if domain != "example.com" || !validLocalPart(local) {
			t.Errorf("user %s: not a valid address", u.PrimaryEmail)
		}
		if checkName(&u.GivenName, "GivenName") != nil || checkName(&u.FamilyName, "FamilyName") != nil {
			t.Errorf("user %s: names %q %q Google would refuse", u.PrimaryEmail, u.GivenName, u.FamilyName)
		}
		for name, table := range scripts {
			if strings.IndexFunc(u.GivenName+u.FamilyName, func(r rune) bool { return unicode.Is(table, r) }) >= 0 {
				perScript[name]++
			}
		}
		if strings.ContainsAny(u.GivenName+u.FamilyName, "éüñçøłşőễ") {
			diacritics++
		}
		for _, e := range u.ExternalIDs {
			withID++
			if ids[e.Value] {
				t.Errorf("external id %s given twice", e.Value)
			}
			ids[e.Value] = true
		}
		if u.Suspended {
			suspended++
			if u.SuspensionReason != "ADMIN" {
				t.Errorf("user %s: suspended for %q, want ADMIN", u.PrimaryEmail, u.SuspensionReason)
			}
		}
		if u.IsAdmin {
			admins++
		}
		if u.IsDelegatedAdmin {
			delegated++
		}
		if (u.IsAdmin || u.IsDelegatedAdmin) && u.OrgUnitPath != "/Staff/Administration" {
			t.Errorf("admin %s in %s, want /Staff/Administration", u.PrimaryEmail, u.OrgUnitPath)
		}
	}
	if admins == 0 || delegated == 0 || admins+delegated > n/20 {
		t.Errorf("%d super admins and %d delegated admins among %d users, want a few of each", admins, delegated, n)
	}
	for name := range scripts {
		if perScript[name] == 0 {
			t.Errorf("no user with a %s name", name)
		}
	}
	if diacritics == 0 || aliased < n/40 || withID < n*3/4 || suspended == 0 {
		t.Errorf("diacritics %d, aliases %d, external ids %d, suspended %d: want some of each, most with an id",
			diacritics, aliased, withID, suspended)
	}
	// Common names collide, and the counters show it.
	for _, want := range []string{"john.smith@example.com", "john.smith2@example.com", "jsmith@example.com", "johnsmith@example.com"} {
		if !seen[want] {
			t.Errorf("no %s among %d users", want, n)
		}
	}
	for _, g := range st.Groups {
		claim(g.Email)
		for _, a := range g.Aliases {
			claim(a)
		}
	}
	if len(st.Groups) < 10 || len(st.OrgUnits) < 10 {
		t.Errorf("%d groups and %d org units, want a school's worth", len(st.Groups), len(st.OrgUnits))
	}
	for _, path := range []string{"/Students/Grade 5", "/Staff/Teachers"} {
		if s.dir.orgUnit(path) == nil {
			t.Errorf("no org unit %s", path)
		}
	}
	grade5 := s.dir.group("class-of-2033@example.com")
	if grade5 == nil || grade5.email != "grade-5@example.com" || grade5.members.Len() < 50 {
		t.Errorf("class-of-2033@ = %+v, want grade-5@ with its pupils", grade5)
	}
}

func TestServer_Generate_addsToWhatIsThere(t *testing.T) {
	s, svc := start(t, Options{Seed: 1})
	mustInsert(t, svc, newUser("john.smith"))
	if err := s.Generate(500); err != nil {
		t.Fatal(err)
	}
	if err := s.Generate(500); err != nil {
		t.Fatal(err)
	}
	if err := s.Generate(0); err != nil {
		t.Errorf("Generate(0) = %v", err)
	}
	if err := s.Generate(-1); err == nil {
		t.Error("Generate(-1) = nil, want an error")
	}
	if n := len(s.State().Users); n != 1001 {
		t.Errorf("%d users, want 1001", n)
	}
	// Generated users are served like any other.
	got := listAll(t, svc.Users.List().Customer("my_customer").Query("email:j*"), 500)
	if len(got) == 0 {
		t.Fatal("no user starting with j")
	}
	for _, addr := range got {
		if _, err := svc.Users.Get(addr).Do(); err != nil {
			t.Errorf("Get(%q) = %v", addr, err)
		}
	}
}

func TestAsciiLocal(t *testing.T) {
	for in, want := range map[string]string{"O'Brien": "obrien", "de la Cruz": "delacruz", "Smith-Jones": "smithjones", "St. John": "stjohn"} {
		if got := asciiLocal(in); got != want {
			t.Errorf("asciiLocal(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range cultures() {
		if _, err := prepareNames(append(c.given, c.family...)); err != nil {
			t.Error(err)
		}
	}
}
