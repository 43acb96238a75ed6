package batch

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
)

// Tests of what a new admin tries in the first hour (issue "Trust on day
// one"): each failed before the change that makes it pass.

// A Groups cell may not mint privileged groups, nor reach another domain:
// only groups of a template, or matching a createMissing pattern, are
// created.
func TestJob_groupsFromCellsAreConstrained(t *testing.T) {
	e := newEnv(t, emulator.Options{}, `firstname,lastname,id,groups
Ana,Lima,1,postmaster;class-of-2027
Bo,Li,2,admin
Cy,Ng,3,abuse@example.org
Di,Wu,4,admins@evil.example.com
Ed,Ho,5,class-of-2027;chess
Fay,Lu,6,partners@friends.example.net
`)
	e.cfg.Groups = GroupsConfig{
		Add:           []string{"grade-[id]"},
		CreateMissing: GroupCreation{Templates: true, Patterns: []string{"class-of-*"}},
		Domains:       []string{"friends.example.net"},
	}
	if err := e.emu.LoadState(strings.NewReader(`{"domain":"example.org","customerId":"C03az79cb","orgUnits":[{"path":"/","id":"id:root"}],
		"groups":[{"id":"g1","email":"partners@friends.example.net","name":"partners"}]}`)); err != nil {
		t.Fatal(err)
	}
	sum, err := e.run(t.Context(), Run)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	report := reportByLine(t, e.report)
	wants := map[string]string{
		"2": "the group postmaster@example.org has a reserved name",
		"3": "the group admin@example.org has a reserved name",
		"4": "the group abuse@example.org has a reserved name",
		"5": "the group admins@evil.example.com is not in example.org",
		"6": "the group chess@example.org does not exist, and groups.createMissing does not let run create it",
	}
	for line, want := range wants {
		if r := report[line]; r[7] != StatusFailed || !strings.Contains(r[8], want) {
			t.Errorf("report line %s = %s %q, want failed with %q", line, r[7], r[8], want)
		}
	}
	if r := report["7"]; r[7] != StatusCreated {
		t.Errorf("report line 7 = %s %q, want created (a group in groups.domains)", r[7], r[8])
	}
	var groups []string
	for _, g := range e.emu.State().Groups {
		groups = append(groups, g.Email)
	}
	slices.Sort(groups)
	// Only the template's groups and the one matching class-of-* exist.
	want := []string{"class-of-2027@example.org", "grade-5@example.org", "grade-6@example.org", "partners@friends.example.net"}
	if !slices.Equal(groups, want) {
		t.Errorf("groups after the run = %v, want %v", groups, want)
	}
	if sum.Statuses[StatusCreated] != 1 || sum.Statuses[StatusFailed] != 5 {
		t.Errorf("statuses = %v, want 1 created and 5 failed", sum.Statuses)
	}
}

// reportByLine reads a report into its lines, keyed by the line column.
func reportByLine(t *testing.T, path string) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	for _, r := range readCSV(t, path)[1:] {
		m[r[0]] = r
	}
	return m
}

func TestConfig_groupsCreateMissing(t *testing.T) {
	tests := []struct {
		yaml    string
		want    GroupCreation
		wantErr string
	}{
		{"domain: example.org\ngroups: {createMissing: true}\n", GroupCreation{Templates: true}, ""},
		{"domain: example.org\ngroups: {createMissing: false}\n", GroupCreation{}, ""},
		{"domain: example.org\ngroups: {createMissing: [class-of-*, 'team-?']}\n", GroupCreation{Templates: true, Patterns: []string{"class-of-*", "team-?"}}, ""},
		{"domain: example.org\ngroups: {createMissing: yes-please}\n", GroupCreation{}, "true, false or a list"},
		{"domain: example.org\ngroups: {createMissing: ['[unclosed']}\n", GroupCreation{}, "is not a pattern of group names"},
		{"domain: example.org\ngroups: {add: [admin]}\n", GroupCreation{}, "admin is a reserved name"},
		{"domain: example.org\ngroups: {add: [staff@other.example.com]}\n", GroupCreation{}, "not in example.org or groups.domains"},
		{"domain: example.org\ngroups: {add: [staff@other.example.com], domains: [other.example.com]}\n", GroupCreation{}, ""},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte(tt.yaml), 0o600)
		c, err := LoadConfig(path)
		if err == nil {
			err = c.WithDefaults().Validate()
		}
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.yaml, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", tt.yaml, err, tt.wantErr)
		case tt.wantErr == "" && !slices.Equal(c.Groups.CreateMissing.Patterns, tt.want.Patterns) || tt.wantErr == "" && c.Groups.CreateMissing.Templates != tt.want.Templates:
			t.Errorf("%q: createMissing = %+v, want %+v", tt.yaml, c.Groups.CreateMissing, tt.want)
		}
	}
}

// A journal belongs to the directory it first worked on: a job for
// another stops before it changes anything.
func TestJob_journalOfAnotherDirectoryIsRefused(t *testing.T) {
	e := newEnv(t, emulator.Options{}, "firstname,lastname,id\nAna,Lima,1\n")
	trial := e.target
	trial.Kind, trial.Endpoint, trial.Customer = journal.EmulatorDirectory, "", "Ctrial"
	j, err := journal.Open(t.Context(), e.journal, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.BindDirectory(t.Context(), trial); err != nil {
		t.Fatal(err)
	}
	j.Close()
	_, err = e.run(t.Context(), Run)
	var wrong *journal.WrongDirectoryError
	if !errors.As(err, &wrong) {
		t.Fatalf("Run with a journal of the embedded emulator = %v, want a *journal.WrongDirectoryError", err)
	}
	if n := len(e.emu.State().Users); n != 0 {
		t.Errorf("the directory has %d accounts, want none", n)
	}
	if _, err := os.Stat(e.report); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a report was written: %v", err)
	}
}
