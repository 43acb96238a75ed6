package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunJob_hostileExitCodes runs provision run on files of the hostile
// corpus (batch/testdata/hostile) and checks the exit code: 0 when every
// row is good, 1 when some fail, 2 when the header cannot be used, which
// stops the job before it writes anything, as does a file that is not in
// its encoding.
func TestRunJob_hostileExitCodes(t *testing.T) {
	tests := []struct {
		file   string
		flags  []string
		want   int
		stderr string
		hint   string // for exit 2; "" is the header's
	}{
		{file: "extra_columns.csv", want: exitOK},
		{file: "headers_mixed_case.csv", want: exitOK},
		{file: "header_only.csv", want: exitOK},
		{file: "bom.csv", want: exitRowsFailed, stderr: "1 of 3 rows failed"},
		{file: "formula_names.csv", want: exitRowsFailed, stderr: "3 of 5 rows failed"},
		{file: "groups.semicolon.csv", flags: []string{"--delimiter", ";"}, want: exitRowsFailed, stderr: "1 of 3 rows failed"},
		{file: "people.tab.csv", flags: []string{"--delimiter", "tab"}, want: exitRowsFailed, stderr: "1 of 3 rows failed"},
		{file: "no_lastname_column.csv", want: exitUsage, stderr: "provision: error: run: header: there is no lastname column"},
		{file: "cr_only.csv", want: exitUsage, stderr: "contains a carriage return"},
		{file: "empty.csv", want: exitUsage, stderr: "the file is empty"},
		{file: "tabs_read_as_comma.csv", want: exitUsage, stderr: "set the delimiter to tab"},
		{file: "excel_trailing_empty_columns.csv", want: exitRowsFailed, stderr: "3 of 5 rows failed"},
		{file: "quote_swallows_field_count.csv", want: exitRowsFailed, stderr: "2 of 6 rows failed"},
		{file: "windows1252.csv", want: exitUsage, stderr: "the file is not UTF-8: line 3", hint: `Excel's "CSV (Comma delimited)" writes Windows-1252: give --encoding windows-1252`},
		{file: "windows1252_declared.csv", flags: []string{"--encoding", "windows-1252"}, want: exitRowsFailed, stderr: "2 of 6 rows failed"},
		{file: "utf16.csv", want: exitUsage, stderr: "byte order mark", hint: "give --encoding utf-16"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("..", "..", "batch", "testdata", "hostile", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "people.csv")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			// As the batch tests run the corpus: missing org units and
			// groups are created.
			config := filepath.Join(dir, "provision.yaml")
			if err := os.WriteFile(config, []byte("domain: example.org\norgUnit:\n  createMissing: true\ngroups:\n  createMissing: [\"*\"]\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"run", "--config", config, "--emulator-users", "0", "--quota", "100000"}, tt.flags...)
			code, stderr := runCLI(t.Context(), t, append(args, path)...)
			if code != tt.want || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("provision run %s: exit %d, want %d with %q\n%s", tt.file, code, tt.want, tt.stderr, stderr)
			}
			report := filepath.Join(dir, "people.report.csv")
			_, err = os.Stat(report)
			switch {
			case tt.want == exitUsage && !errors.Is(err, os.ErrNotExist):
				t.Errorf("a header problem wrote a report: %v", err)
			case tt.want == exitUsage && tt.hint == "" && !strings.Contains(stderr, "provision: hint: fix the CSV header"):
				t.Errorf("no hint for a header problem:\n%s", stderr)
			case tt.want == exitUsage && !strings.Contains(stderr, "provision: hint: "+tt.hint):
				t.Errorf("no hint %q:\n%s", tt.hint, stderr)
			case tt.want != exitUsage && err != nil:
				t.Errorf("no report: %v", err)
			}
		})
	}
}
