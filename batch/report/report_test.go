package report

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "job.report.csv")
	r, rotated, err := Open(path, false, nil)
	if err != nil || rotated != "" {
		t.Fatalf("OpenReport = %v, %q", err, rotated)
	}
	lines := []Line{
		{Line: 2, ID: "1001", FirstName: "Ana", LastName: "Lima", Email: "ana.lima@example.org", OrgUnit: "/Students", Groups: []string{"a@example.org", "b@example.org"}, Status: StatusCreated, Password: "Kx7#mPq2vR9$wLn4"},
		{Line: 3, ID: "=HYPERLINK(\"http://evil\")", FirstName: "+cmd", LastName: "@SUM(A1)", Email: "-x", Status: StatusFailed, Error: "\tline 3: bad"},
	}
	for _, l := range lines {
		if err := r.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode = %v, want 0600", fi.Mode().Perm())
	}
	got := readCSV(t, path)
	want := [][]string{
		header,
		{"2", "1001", "Ana", "Lima", "ana.lima@example.org", "/Students", "a@example.org;b@example.org", "created", "", "Kx7#mPq2vR9$wLn4"},
		{"3", "'=HYPERLINK(\"http://evil\")", "'+cmd", "'@SUM(A1)", "'-x", "", "", "failed", "[U+0009]line 3: bad", ""},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("report =\n%q\nwant\n%q", got, want)
	}

	// Resuming continues the file without a second header.
	r, _, _ = Open(path, true, nil)
	r.Write(Line{Line: 4, Status: StatusSkipped})
	r.Close()
	if got := readCSV(t, path); len(got) != 4 || got[3][0] != "4" {
		t.Errorf("resumed report has %d lines, want 4 with line 4 last", len(got))
	}

	// A new run keeps the earlier report under another name.
	r, rotated, err = Open(path, false, nil)
	if err != nil || rotated == "" || !strings.HasPrefix(filepath.Base(rotated), "job.report.") {
		t.Fatalf("OpenReport for a new run = %v, rotated %q", err, rotated)
	}
	r.Close()
	if got := readCSV(t, rotated); len(got) != 4 {
		t.Errorf("kept report has %d lines, want 4", len(got))
	}
	if got := readCSV(t, path); len(got) != 1 {
		t.Errorf("new report has %d lines, want the header only", len(got))
	}
}

func TestExport(t *testing.T) {
	var b strings.Builder
	e, err := NewExport(&b)
	if err != nil {
		t.Fatal(err)
	}
	lines := []Line{
		{Line: 2, ID: "1001", FirstName: "Ana", Email: "ana@example.org", Groups: []string{"a@example.org"}, Status: StatusCreated, Password: "never-exported"},
		{Line: 3, FirstName: "=cmd", Status: StatusFailed, Error: "line 3: bad"},
		{Line: 4, ID: "77", Status: StatusSkipped},
	}
	for _, l := range lines {
		if err := e.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "line,id,firstname,lastname,email,orgunit,groups,status,error,password\n" +
		"2,1001,Ana,,ana@example.org,,a@example.org,created,,\n" +
		"3,,'=cmd,,,,,failed,line 3: bad,\n" +
		"4,77,,,,,,skipped,,\n"
	if b.String() != want {
		t.Errorf("export =\n%s\nwant\n%s", b.String(), want)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
