package journal

import (
	"path/filepath"
	"slices"
	"testing"
)

// A run's skips are read with its rows, counted apart, and forgotten when
// a later run ends; an earlier run's rows stay as it left them.
func TestJournal_skips(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "j.journal")
	j := openTest(t, path, Options{})
	first := startRun(t, j)
	rows := []*Row{
		{Identity: "id:1", RunID: first.ID, Line: 2, Email: "ana@example.org", UserID: "u1", State: Done, Status: "created"},
		{Identity: "id:2", RunID: first.ID, Line: 3, Email: "bo@example.org", UserID: "u2", State: Done, Status: "created"},
	}
	if err := j.SaveRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := j.EndRun(ctx, first.ID, "2 rows"); err != nil {
		t.Fatal(err)
	}

	second := startRun(t, j)
	skipped := []*Row{{Identity: "id:2", Line: 2}, {Identity: "id:1", Line: 3}}
	if err := j.RecordSkips(ctx, second.ID, skipped); err != nil {
		t.Fatal(err)
	}
	// Recorded again by a resumed invocation: still one skip a line.
	if err := j.RecordSkips(ctx, second.ID, skipped[:1]); err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := j.CountSkips(ctx, second.ID); err != nil || n != 2 {
		t.Errorf("CountSkips = %d, %v; want 2", n, err)
	}
	if n, err := j.CountRowsOf(ctx, second.ID); err != nil || n != 2 {
		t.Errorf("CountRowsOf(second) = %d, %v; want its 2 skips", n, err)
	}
	if n, err := j.CountRowsOf(ctx, first.ID); err != nil || n != 2 {
		t.Errorf("CountRowsOf(first) = %d, %v; want the 2 rows it changed last", n, err)
	}
	var got []string
	err := j.RunRows(ctx, second.ID, func(r Row, skip bool) error {
		if !skip || r.RunID != second.ID || r.ReportedRun != second.ID {
			t.Errorf("RunRows gave %+v (skip %v), want a skip of run %d", r, skip, second.ID)
		}
		got = append(got, r.Identity+"@"+r.Email)
		return nil
	})
	if want := []string{"id:2@bo@example.org", "id:1@ana@example.org"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("RunRows = %v, %v; want %v, in line order", got, err, want)
	}
	if r, _, err := j.Row(ctx, "id:1"); err != nil || r.RunID != first.ID || r.Line != 2 || r.Status != "created" {
		t.Errorf("Row(id:1) = %+v, %v; want it as the first run left it", r, err)
	}
	if err := j.ForgetSkip(ctx, second.ID, 3); err != nil {
		t.Fatal(err)
	}
	var lines []int
	if err := j.SkippedLines(ctx, second.ID, func(l int) { lines = append(lines, l) }); err != nil || !slices.Equal(lines, []int{2}) {
		t.Errorf("SkippedLines after ForgetSkip(3) = %v, %v; want [2]", lines, err)
	}

	// The first run's export no longer lists the rows the second skipped.
	n := 0
	if err := j.RunRows(ctx, first.ID, func(Row, bool) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("RunRows(first) = %d rows, %v; want 1: id:1, which the second run no longer skips", n, err)
	}
	if err := j.EndRun(ctx, second.ID, "2 rows"); err != nil {
		t.Fatal(err)
	}
	// A run that sees neither row leaves the second run's skip alone.
	third := startRun(t, j)
	if err := j.EndRun(ctx, third.ID, "0 rows"); err != nil {
		t.Fatal(err)
	}
	if n, err := j.CountSkips(ctx, second.ID); err != nil || n != 1 {
		t.Errorf("CountSkips(second) after a run that did not see its row = %d, %v; want 1", n, err)
	}
	// One that changes it takes it over.
	fourth := startRun(t, j)
	if err := j.SaveRows(ctx, []*Row{{Identity: "id:2", RunID: fourth.ID, Line: 5, Email: "bo@example.org", UserID: "u2", State: Done, Status: "updated"}}); err != nil {
		t.Fatal(err)
	}
	if err := j.EndRun(ctx, fourth.ID, "1 row"); err != nil {
		t.Fatal(err)
	}
	if n, err := j.CountSkips(ctx, second.ID); err != nil || n != 0 {
		t.Errorf("CountSkips(second) after a run that changed its row = %d, %v; want 0", n, err)
	}
}
