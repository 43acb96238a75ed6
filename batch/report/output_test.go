package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenReport_neverDestroysAnything(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "s.csv")
	journalPath := filepath.Join(dir, "s.journal")
	live := filepath.Join(dir, "live.report.csv")
	other := filepath.Join(dir, "notes.csv")
	folder := filepath.Join(dir, "reports")
	link := filepath.Join(dir, "link.csv")
	hardlink := filepath.Join(dir, "hard.csv")
	for path, content := range map[string]string{input: "firstname,lastname\nAda,Lovelace\n", journalPath: "SQLite format 3\x00...", journalPath + "-wal": "wal", other: "keep me\n"} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(folder, 0o700)
	os.Symlink(other, link)
	os.Link(input, hardlink)
	protected := append([]Protected{{input, "the input"}, {live, "the report of run 1"}}, JournalFiles(journalPath)...)

	tests := []struct {
		name, path, want string
	}{
		{"the input", input, "it is the input"},
		{"a hard link to the input", hardlink, "it is the input"},
		{"another spelling of the input", filepath.Join(dir, ".", "x", "..", "s.csv"), "it is the input"},
		{"the journal", journalPath, "it is the journal"},
		{"the journal's WAL", journalPath + "-wal", "write-ahead log"},
		{"the journal's shm, not there yet", journalPath + "-shm", "shared memory"},
		{"a live report", live, "report of run 1"},
		{"a folder", folder, "it is a folder"},
		{"a symbolic link", link, "symbolic link"},
		{"a file provision did not write", other, "not a report provision wrote"},
	}
	for _, tt := range tests {
		for _, resume := range []bool{false, true} {
			_, _, err := Open(tt.path, resume, protected)
			var unsafe *UnsafeOutputError
			if !errors.As(err, &unsafe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenReport(%s, resume %v) = %v, want an *UnsafeOutputError saying %q", tt.name, resume, err, tt.want)
			}
		}
	}
	for path, want := range map[string]string{input: "firstname,lastname\nAda,Lovelace\n", other: "keep me\n"} {
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("%s was changed: %q", path, got)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v now, want 0644", path, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(folder); err != nil || !fi.IsDir() {
		t.Errorf("the folder is gone: %v", err)
	}
}

// An earlier report is kept under a dated name, and the new one is private
// even when the earlier one was not.
func TestOpenReport_keepsAnEarlierReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.report.csv")
	earlier := strings.Join(header, ",") + "\n2,1,Ada,Lovelace,ada@example.org,/,,created,,Secret-pw-1234\n"
	if err := os.WriteFile(path, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	r, kept, err := Open(path, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if got, _ := os.ReadFile(kept); string(got) != earlier {
		t.Errorf("the earlier report kept as %s holds %q, want it whole", kept, got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("new report mode = %v, want 0600", fi.Mode().Perm())
	}
	if got, _ := os.ReadFile(path); string(got) != strings.Join(header, ",")+"\n" {
		t.Errorf("new report = %q, want its header only", got)
	}
}
