package batch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// Rows are kept in memory up to a capacity; a nil *keptRows keeps none.
func TestKeptRows(t *testing.T) {
	p := newKeptRows()
	p.capacity = 2
	if !p.keep("id:1", 2) || !p.keep("id:2", 3) {
		t.Fatal("keep refused a row with room left")
	}
	if !p.keep("id:1", 2) {
		t.Error("keep refused a row it holds: the row's next event")
	}
	if p.keep("id:3", 4) {
		t.Error("keep took a third row at capacity 2: the journal must keep it")
	}
	for id, want := range map[string]int{"id:1": 2, "id:2": 3} {
		if line, ok := p.line(id); !ok || line != want {
			t.Errorf("line(%s) = %d, %v; want %d", id, line, ok, want)
		}
	}
	if _, ok := p.line("id:3"); ok {
		t.Error("line(id:3) found a row that was not kept")
	}
	var run *keptRows
	if run.keep("id:1", 2) {
		t.Error("a nil *keptRows kept a row")
	}
	if _, ok := run.line("id:1"); ok {
		t.Error("a nil *keptRows found a row")
	}
}

// A rerun skips the rows done before without rewriting them; interrupted
// and resumed, it neither reports a skipped line again nor counts it
// twice, and a later duplicate of a row an earlier invocation skipped is
// still refused. With no room left in memory when it resumes, the rows
// are journaled as rows again, and the counts stay exact.
func TestJob_resumedRerunSkipsOnce(t *testing.T) {
	full := keptMemory
	for _, room := range []int{full, 3} {
		t.Run(fmt.Sprintf("room for %d", room), func(t *testing.T) {
			defer func(old int) { keptMemory = old }(keptMemory)
			people := generatedCSV(20)
			e := newEnv(t, emulator.Options{}, people)
			e.cfg.Concurrency = 1
			if _, err := e.run(t.Context(), Run); err != nil {
				t.Fatal(err)
			}
			// Tonight's file: the same people, and the first one again.
			os.WriteFile(e.input, []byte(people+strings.SplitAfter(people, "\n")[1]), 0o600)
			e.report = filepath.Join(e.dir, "tonight.report.csv")
			ctx, cancel := context.WithCancel(t.Context())
			j, err := journal.Open(ctx, e.journal, journal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			job := &Job{Config: e.cfg.WithDefaults(), InputPath: e.input, ReportPath: e.report, Journal: j, Directory: e.client, Target: e.target,
				Progress: &cancelAfter{n: 5, cancel: cancel}}
			first, err := job.Run(ctx)
			j.Close()
			if !errors.Is(err, ErrInterrupted) || first == nil || !first.Interrupted {
				t.Fatalf("first invocation = %+v, %v; want interrupted", first, err)
			}
			keptMemory = room // for the resumed invocation
			sum, err := e.run(t.Context(), Run)
			if err != nil {
				t.Fatal(err)
			}
			if !sum.Resumed || sum.Statuses[report.StatusSkipped] != 20 || sum.Statuses[report.StatusFailed] != 1 || sum.Total() != 21 {
				t.Errorf("resumed: %+v, statuses %v; want 20 skipped and 1 failed", sum.Resumed, sum.Statuses)
			}
			lines := map[string]int{}
			for _, r := range readCSV(t, e.report)[1:] {
				lines[r[0]]++
				if r[0] == "22" && !strings.Contains(r[8], `the same ID "5000" as line 2`) {
					t.Errorf("line 22 = %q, want a duplicate of line 2", r)
				}
			}
			for line := 2; line <= 22; line++ {
				if n := lines[fmt.Sprint(line)]; n == 0 || n > 1 && room == full {
					t.Errorf("line %d is reported %d times", line, n)
				}
			}

			// The journal: every row still as run 1 left it, and run 2's
			// rows exported with its skips.
			j, err = journal.Open(t.Context(), e.journal, journal.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			var skipped, failed int
			err = ExportRun(t.Context(), j, sum.RunID, func(l report.Line) error {
				switch {
				case l.Status == report.StatusSkipped && strings.HasPrefix(l.Error, "done in an earlier run as "+l.Email):
					skipped++
				case l.Status == report.StatusFailed && l.Line == 22:
					failed++
				default:
					t.Errorf("exported %+v", l)
				}
				return nil
			})
			if err != nil || skipped != 20 || failed != 1 {
				t.Errorf("export of run %d: %d skipped, %d failed, %v; want 20 and 1", sum.RunID, skipped, failed, err)
			}
			if n, err := j.CountRowsOf(t.Context(), sum.RunID); err != nil || n != 21 {
				t.Errorf("CountRowsOf(%d) = %d, %v; want 21", sum.RunID, n, err)
			}
			if room == full {
				if n, err := j.CountRowsOf(t.Context(), sum.RunID-1); err != nil || n != 20 {
					t.Errorf("CountRowsOf(%d) = %d, %v; want the 20 rows it created, which run %d skipped", sum.RunID-1, n, err, sum.RunID)
				}
			}
		})
	}
}

// provision report --run N lists the rows run N saw last, its skips
// included, after a later run that did not see them: a new-hires file, or
// the undo of run N, which suspends only the account run N created.
func TestJob_exportOfARunKeepsItsSkips(t *testing.T) {
	for _, later := range []string{"new hires", "undo"} {
		t.Run(later, func(t *testing.T) {
			e := newEnv(t, emulator.Options{}, "")
			if _, _, err := e.night("first", "firstname,lastname,id\nAnn,Adams,E1\nBen,Brown,E2\n"); err != nil {
				t.Fatal(err)
			}
			second, _, err := e.night("second", "firstname,lastname,id\nAnn,Adams,E1\nBen,Brown,E2\nCy,Cole,E3\n")
			if err != nil {
				t.Fatal(err)
			}
			if later == "undo" {
				if _, _, err := e.undo(Undo{}); err != nil {
					t.Fatal(err)
				}
			} else if _, _, err := e.night("newhires", "firstname,lastname,id\nDi,Dean,E4\n"); err != nil {
				t.Fatal(err)
			}
			j, err := journal.Open(t.Context(), e.journal, journal.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			var got []string
			err = ExportRun(t.Context(), j, second.RunID, func(l report.Line) error {
				got = append(got, fmt.Sprintf("%d %s %s", l.Line, l.ID, l.Status))
				return nil
			})
			want := []string{"2 E1 skipped", "3 E2 skipped", "4 E3 created"}
			if later == "undo" {
				want = want[:2] // the undo saw E3 last
			}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("export of run %d = %q, %v; want %q", second.RunID, got, err, want)
			}
		})
	}
}

// A rerun commits the skips it records as it goes, not only at its end:
// after a crash, the lines it reported before are not reported again.
func TestJob_rerunCommitsItsSkipsAsItGoes(t *testing.T) {
	defer func(old time.Duration) { commitEvery = old }(commitEvery)
	commitEvery = 0
	people := generatedCSV(3000)
	e := newEnv(t, emulator.Options{}, people)
	if _, err := e.run(t.Context(), Run); err != nil {
		t.Fatal(err)
	}
	e.report = filepath.Join(e.dir, "tonight.report.csv")
	onDisk := -1 // skips another connection sees when the second group is reported
	groups := 0
	sum, err := e.runWith(t.Context(), e.client, func(name string) {
		if name != "reported" {
			return
		}
		if groups++; groups == 2 {
			db, err := sql.Open("sqlite3", "file:"+e.journal+"?mode=ro")
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			if err := db.QueryRow("SELECT count(*) FROM skips").Scan(&onDisk); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil || sum.Statuses[report.StatusSkipped] != 3000 {
		t.Fatalf("rerun = %v, %v", sum, err)
	}
	if groups < 2 {
		t.Skipf("the finisher took all 3000 rows in %d group", groups)
	}
	if onDisk <= 0 {
		t.Errorf("when the second group was reported, %d skips were on disk; want the first group's", onDisk)
	}
}

func TestLineSet(t *testing.T) {
	var l lineSet
	for _, line := range []int{2, 63, 64, 130, 2, -1, maxSetLine + 1} {
		l.add(line)
	}
	for line, want := range map[int]bool{2: true, 63: true, 64: true, 130: true, 3: false, 65: false, -1: false, maxSetLine + 1: false, 1 << 40: false} {
		if got := l.has(line); got != want {
			t.Errorf("has(%d) = %v, want %v", line, got, want)
		}
	}
	if len(l) > 3 {
		t.Errorf("the set holds %d words for lines up to 130", len(l))
	}
}
