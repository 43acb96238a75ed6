package journal

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJournal_BindDirectory(t *testing.T) {
	google := Directory{Kind: GoogleDirectory, Domain: "Example.com"}
	tests := []struct {
		name    string
		first   Directory
		then    Directory
		wantErr bool
	}{
		{"same directory", google, google, false},
		{"domain case", google, Directory{Kind: GoogleDirectory, Domain: "example.com"}, false},
		{"customer learned later", google, Directory{Kind: GoogleDirectory, Domain: "example.com", Customer: "C01"}, false},
		{"emulator then Google", Directory{Kind: EmulatorDirectory, Domain: "example.com", Customer: "Cemu1"}, google, true},
		{"another domain", google, Directory{Kind: GoogleDirectory, Domain: "example.org"}, true},
		{"another endpoint", Directory{Kind: EndpointDirectory, Endpoint: "http://127.0.0.1:8085/", Domain: "example.com"},
			Directory{Kind: EndpointDirectory, Endpoint: "http://127.0.0.1:8086/", Domain: "example.com"}, true},
		{"another embedded emulator", Directory{Kind: EmulatorDirectory, Domain: "example.com", Customer: "Cemu1"},
			Directory{Kind: EmulatorDirectory, Domain: "example.com", Customer: "Cemu2"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.journal")
			j := openTest(t, path, Options{})
			if err := j.BindDirectory(t.Context(), tt.first); err != nil {
				t.Fatalf("first BindDirectory(%v) = %v", tt.first, err)
			}
			err := j.BindDirectory(t.Context(), tt.then)
			var wrong *WrongDirectoryError
			switch {
			case tt.wantErr && !errors.As(err, &wrong):
				t.Fatalf("BindDirectory(%v) after %v = %v, want a *WrongDirectoryError", tt.then, tt.first, err)
			case !tt.wantErr && err != nil:
				t.Fatalf("BindDirectory(%v) after %v = %v, want nil", tt.then, tt.first, err)
			case tt.wantErr:
				msg := err.Error()
				if !strings.Contains(msg, tt.first.String()) && !strings.Contains(msg, strings.ToLower(tt.first.Domain)) {
					t.Errorf("error %q does not name the journal's directory", msg)
				}
				return
			}
			got, _, err := j.Directory(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got.Customer != tt.then.Customer && tt.then.Customer != "" {
				t.Errorf("Directory() = %+v, want the customer %q recorded", got, tt.then.Customer)
			}
		})
	}
}

// The directory a journal belongs to survives a reopen, and a customer
// recorded once must match from then on.
func TestJournal_BindDirectory_customerSticks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.journal")
	j := openTest(t, path, Options{})
	d := Directory{Kind: GoogleDirectory, Domain: "example.com", Customer: "C01"}
	if err := j.BindDirectory(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = openTest(t, path, Options{})
	if err := j.BindDirectory(t.Context(), Directory{Kind: GoogleDirectory, Domain: "example.com"}); err != nil {
		t.Errorf("BindDirectory without a customer = %v, want nil", err)
	}
	d.Customer = "C02"
	if err := j.BindDirectory(t.Context(), d); err == nil {
		t.Error("BindDirectory with another customer succeeded")
	}
}

func TestOpen_refusesWhatIsNotAJournal(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "students.csv")
	if err := os.WriteFile(csv, []byte("firstname,lastname\nAda,Lovelace\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "damaged.journal")
	j := openTest(t, damaged, Options{})
	j.Close()
	data, err := os.ReadFile(damaged)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the header, wreck the pages after it.
	for i := 100; i < len(data); i++ {
		data[i] = 0xA5
	}
	if err := os.WriteFile(damaged, data, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"a folder", dir, "folder"},
		{"a CSV file", csv, "not a journal"},
		{"a damaged journal", damaged, "it is damaged"},
	}
	for _, tt := range tests {
		for _, readOnly := range []bool{false, true} {
			_, err := Open(t.Context(), tt.path, Options{ReadOnly: readOnly})
			var unusable *UnusableError
			if !errors.As(err, &unusable) {
				t.Errorf("Open(%s, read-only %v) = %v, want an *UnusableError", tt.name, readOnly, err)
				continue
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%s) = %q, want it to say %q", tt.name, err, tt.want)
			}
		}
	}
	if fi, _ := os.Stat(csv); fi.Mode().Perm() != 0o644 {
		t.Errorf("the CSV given as a journal has mode %v now, want 0644 untouched", fi.Mode().Perm())
	}
	if got, _ := os.ReadFile(csv); string(got) != "firstname,lastname\nAda,Lovelace\n" {
		t.Errorf("the CSV given as a journal was changed: %q", got)
	}
}

// plan copies a journal that another process may hold, from a read-only
// connection.
func TestJournal_CopyTo_fromReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.journal")
	holder := openTest(t, path, Options{})
	if err := holder.BindDirectory(t.Context(), Directory{Kind: GoogleDirectory, Domain: "example.com"}); err != nil {
		t.Fatal(err)
	}
	ro := openTest(t, path, Options{ReadOnly: true})
	copyPath := filepath.Join(dir, "copy.journal")
	if err := ro.CopyTo(t.Context(), copyPath); err != nil {
		t.Fatalf("CopyTo from a read-only journal held by another: %v", err)
	}
	cp := openTest(t, copyPath, Options{})
	if d, found, err := cp.Directory(t.Context()); err != nil || !found || d.Domain != "example.com" {
		t.Errorf("the copy's directory = %+v, %v, %v; want example.com", d, found, err)
	}
}

// A journal of the first layout is upgraded by the first job that opens
// it, and refused, with what to do, by a reader.
func TestOpen_upgradesLayoutOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.journal")
	j := openTest(t, path, Options{})
	j.Close()
	db, err := sql.Open("sqlite3", dsn(path, false, "FULL"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TABLE skips", "DROP TABLE accounts", "DROP INDEX effects_by_run", "ALTER TABLE effects DROP COLUMN run_id",
		"DROP TABLE known_ids", "ALTER TABLE runs DROP COLUMN records", "UPDATE meta SET value = '1' WHERE key = 'schema'"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if _, err := Open(t.Context(), path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "earlier provision") {
		t.Errorf("read-only Open of a layout 1 journal = %v, want it refused as written by an earlier provision", err)
	}
	j = openTest(t, path, Options{})
	if err := j.KnowAccount(t.Context(), "organization:1", "a@example.com"); err != nil {
		t.Errorf("KnowAccount after the upgrade: %v", err)
	}
	if _, err := j.StartRun(t.Context(), Run{InputPath: "a.csv", Records: 3}); err != nil {
		t.Errorf("StartRun after the upgrade: %v", err)
	}
}
