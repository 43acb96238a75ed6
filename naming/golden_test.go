package naming

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestNames_golden runs the names of testdata/names.txt, real-looking names
// from many languages and scripts, through Normalize and a Reserver with the
// default patterns, in file order, and compares with testdata/names.golden.
// Run with -update to rewrite the golden file after a deliberate change, and
// read the diff.
func TestNames_golden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "names.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReserver(Options{})
	var out bytes.Buffer
	fmt.Fprintln(&out, "# language\tfirstname\tlastname\t→ firstname\t→ lastname\tusername")
	languages := map[string]bool{}
	rows := 0
	sc := bufio.NewScanner(bytes.NewReader(in))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) != 3 {
			t.Fatalf("names.txt:%d: %d columns, want 3", line, len(cols))
		}
		lang, first, last := cols[0], cols[1], cols[2]
		username, err := r.Reserve(t.Context(), fmt.Sprint("line ", line), Fields{FirstName: first, LastName: last})
		if err != nil {
			username = "error: " + err.Error()
		} else if !Valid(username) {
			t.Errorf("names.txt:%d: %q %q got %q, not a valid username", line, first, last, username)
		}
		fmt.Fprintf(&out, "%s\t%s\t%s\t%s\t%s\t%s\n", lang, first, last, Normalize(first), Normalize(last), username)
		languages[lang] = true
		rows++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows < 300 || len(languages) < 15 {
		t.Errorf("names.txt has %d names in %d languages, want at least 300 in 15", rows, len(languages))
	}

	golden := filepath.Join("testdata", "names.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./naming -run Golden -update to create it)", err)
	}
	if got := out.Bytes(); !bytes.Equal(got, want) {
		gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gotLines), len(wantLines)); i++ {
			var g, w string
			if i < len(gotLines) {
				g = gotLines[i]
			}
			if i < len(wantLines) {
				w = wantLines[i]
			}
			if g != w {
				t.Errorf("names.golden:%d differs:\n got: %s\nwant: %s", i+1, g, w)
				break
			}
		}
		t.Errorf("output differs from %s; run with -update if the change is deliberate", golden)
	}
}
