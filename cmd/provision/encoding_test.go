package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// excelCSV is what Excel's "CSV (Comma delimited)" writes on a Western
// European Windows: Windows-1252, CRLF.
func excelCSV(t *testing.T) []byte {
	t.Helper()
	data, err := charmap.Windows1252.NewEncoder().Bytes([]byte("First Name,Last Name,Student ID\r\nAda,Lovelace,1001\r\nJosé,Martínez,1002\r\nRenée,Müller,1003\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRunJob_encoding runs provision on files that are not UTF-8: refused
// whole with exit 2 and a hint naming --encoding, and read right with it.
func TestRunJob_encoding(t *testing.T) {
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte("First Name\tLast Name\r\nZoë\tWeiß\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		data   []byte
		args   []string
		want   int
		stderr []string // lines or parts of lines; {path} is the file's
	}{
		{
			name: "Windows-1252 without --encoding",
			data: excelCSV(t),
			want: exitUsage,
			stderr: []string{
				`provision: error: run: read input {path}: the file is not UTF-8: line 3 holds the byte 0xE9, which is not UTF-8 there; read as Windows-1252, the line says "José,Martínez,1002"`,
				`provision: hint: Excel's "CSV (Comma delimited)" writes Windows-1252: give --encoding windows-1252 (or encoding: windows-1252 in the config), or save the file as "CSV UTF-8"; nothing was changed`,
			},
		},
		{
			name:   "UTF-16 without --encoding",
			data:   utf16,
			args:   []string{"--delimiter", "tab"},
			want:   exitUsage,
			stderr: []string{`the file is not UTF-8: it starts with UTF-16's byte order mark`, "provision: hint: give --encoding utf-16"},
		},
		{
			name: "UTF-16 with --encoding",
			data: utf16,
			args: []string{"--delimiter", "tab", "--encoding", "UTF-16"},
			want: exitOK,
		},
		{
			name:   "UTF-8 said to be Windows-1252",
			data:   []byte("First Name,Last Name\nZoë,Weiß\n"),
			args:   []string{"--encoding", "windows-1252"},
			want:   exitUsage,
			stderr: []string{`the file is not Windows-1252: line 2 says "Zoë,Weiß" in UTF-8, which Windows-1252 would read as "ZoÃ«,WeiÃŸ"`, "provision: hint: give --encoding utf-8"},
		},
		{
			name:   "an encoding provision does not know",
			data:   []byte("First Name,Last Name\nZoë,Weiß\n"),
			args:   []string{"--encoding", "ebcdic"},
			want:   exitUsage,
			stderr: []string{`encoding "ebcdic" is not supported: use utf-8, windows-1252, iso-8859-1, iso-8859-15 or utf-16`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "people.csv")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"run", "--domain", "example.org", "--emulator-users", "0", "--yes", "--journal", filepath.Join(dir, "people.journal")}, tt.args...)
			code, stderr := runCLI(t.Context(), t, append(args, path)...)
			if code != tt.want {
				t.Errorf("exit %d, want %d\n%s", code, tt.want, stderr)
			}
			for _, want := range tt.stderr {
				if want = strings.ReplaceAll(want, "{path}", path); !strings.Contains(stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, stderr)
				}
			}
			_, err := os.Stat(filepath.Join(dir, "people.report.csv"))
			if tt.want == exitUsage && !os.IsNotExist(err) {
				t.Errorf("a refused file has a report: %v", err)
			}
		})
	}
}

// TestRunJob_encodingWindows1252 runs provision on Excel's Windows-1252
// file with --encoding windows-1252 and reads the report and the embedded
// emulator's directory back: José and Renée arrive as José and Renée.
// plan honours the encoding from the environment.
func TestRunJob_encodingWindows1252(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(path, excelCSV(t), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "emulator.json")
	code, stderr := runCLI(t.Context(), t, "run", "--domain", "example.org", "--emulator-users", "0", "--emulator-state", state, "--journal", filepath.Join(dir, "people.journal"), "--yes", "--encoding", "windows-1252", path)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s", code, stderr)
	}
	want := map[string][2]string{
		"adalovelace@example.org":  {"Ada", "Lovelace"},
		"josemartinez@example.org": {"José", "Martínez"},
		"reneemuller@example.org":  {"Renée", "Müller"},
	}
	got := map[string][2]string{}
	// line,id,firstname,lastname,email,orgunit,groups,status,error,password
	for _, rec := range reportRows(t, filepath.Join(dir, "people.report.csv")) {
		if rec[7] != "created" {
			t.Errorf("report line %s: %s %q, want created", rec[0], rec[7], rec[8])
		}
		got[rec[4]] = [2]string{rec[2], rec[3]}
	}
	if len(got) != len(want) {
		t.Errorf("the report has %v, want %v", got, want)
	}
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var st emulator.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	for _, u := range st.Users {
		got[u.PrimaryEmail] = [2]string{u.GivenName, u.FamilyName}
	}
	for email, name := range want {
		if got[email] != name {
			t.Errorf("%s is %q, want %q", email, got[email], name)
		}
	}

	t.Setenv("PROVISION_ENCODING", "cp1252")
	plan := filepath.Join(dir, "fresh.plan.csv")
	code, stderr = runCLI(t.Context(), t, "plan", "--domain", "example.org", "--emulator-users", "0", "--journal", filepath.Join(dir, "fresh.journal"), "--report", plan, path)
	if code != exitOK {
		t.Fatalf("plan: exit %d, want 0\n%s", code, stderr)
	}
	for _, rec := range reportRows(t, plan) {
		if rec[0] == "3" && (rec[7] != "planned" || rec[2] != "José") {
			t.Errorf("plan report line 3 = %q, want José planned", rec)
		}
	}
}

// reportRows returns the lines of a report after its header.
func reportRows(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("read %s: %v", path, err)
	}
	return recs[1:]
}
