package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/report"
)

// printSummary writes what the job did, for a person, to w.
func printSummary(w io.Writer, s *batch.Summary, csvPath, target, journalPath string) {
	verb := "run"
	if s.Mode == batch.Plan {
		verb = "plan"
	}
	resumed := ""
	if s.Resumed {
		resumed = ", resumed"
	}
	fmt.Fprintf(w, "\nprovision %s of %s against %s%s\n", verb, csvPath, target, resumed)
	for _, status := range []string{report.StatusCreated, report.StatusConverged, report.StatusUpdated, report.StatusUnsuspended,
		report.StatusSuspended, report.StatusDeleted, report.StatusSkipped, report.StatusIgnored, report.StatusPlanned, report.StatusFailed} {
		if n := s.Statuses[status]; n > 0 {
			fmt.Fprintf(w, "  %-10s %6d\n", status, n)
		}
	}
	total := s.Total()
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(w, "  %-10s %6d rows in %s", "total", total, s.Elapsed.Round(100*time.Millisecond))
	if done := sum(s.ThisInvocation); done > 0 && secs > 0 {
		fmt.Fprintf(w, " (%.1f rows/s)", float64(done)/secs)
	}
	fmt.Fprintln(w)
	if d := s.Directory; d.Requests > 0 {
		fmt.Fprintf(w, "  %-10s %6d (%.1f/s), %d retried, %d rate-limited\n", "requests", d.Requests, float64(d.Requests)/secs, d.Retries, d.RateLimited)
		if d.RateLimited > 0 && d.PerMinute > 0 {
			fmt.Fprintf(w, "  %-10s the directory asked to slow down: the job ended sending at most %.0f requests a minute (see --quota)\n", "", d.PerMinute)
		}
	}
	for _, warning := range s.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", input.Visible(warning))
	}
	printLeavers(w, s)
	if s.NoIDColumn {
		fmt.Fprintln(w, "  note: the file has no ID column, so each row is known by its content; a changed row counts as a new person")
	}
	fmt.Fprintf(w, "  report     %s (readable only by you", shownPath(s.ReportPath))
	if s.Mode == batch.Run && s.Statuses[report.StatusCreated] > 0 {
		fmt.Fprint(w, "; it holds initial passwords: hand them out, then delete it")
	}
	fmt.Fprintln(w, ")")
	if s.Rotated != "" {
		fmt.Fprintf(w, "  earlier report kept as %s\n", shownPath(s.Rotated))
	}
	if s.Mode == batch.Run {
		fmt.Fprintf(w, "  journal    %s\n", journalPath)
	}
	if a := s.Abandoned; a != nil {
		count := fmt.Sprintf("%d rows", a.Rows)
		if !a.Exact {
			count = fmt.Sprintf("up to %d rows (%d it had read that are not in this file, up to %d it never reached)", a.Rows, a.Read, a.NotReached)
		}
		fmt.Fprintf(w, "  note: the unfinished run %d of %s (started %s) has %s that this file did not finish;\n",
			a.Run.ID, input.Visible(a.Run.InputPath), a.Run.Started.Format(time.RFC3339), count)
		fmt.Fprintf(w, "        only that file can finish them: run provision on %s, as it was then, again\n", input.Visible(a.Run.InputPath))
	}
	if s.Halted != nil {
		fmt.Fprintf(w, "  stopped    the directory refuses the job itself (%s): no row was taken after that, and the rows not finished stay pending\n", s.Halted.Kind)
	}
	if s.Mode == batch.Run && s.Halted == nil && !s.Interrupted && total > 0 && total == s.Statuses[report.StatusSkipped] {
		fmt.Fprintln(w, "  nothing to do: every row was done in an earlier run")
	}
}

// maxListed is how many leavers a summary lists; the report has them all.
const maxListed = 50

// printLeavers says what a full file meant for the accounts it leaves out.
func printLeavers(w io.Writer, s *batch.Summary) {
	l := s.Leavers
	if l == nil {
		return
	}
	fmt.Fprintf(w, "  %-10s %6d of the %d accounts in scope (limits: %d, or %g%% = %d)\n", "leavers", len(l.Planned), l.InScope,
		l.MaxCount, l.MaxPercent, int(l.MaxPercent/100*float64(l.InScope)))
	if l.HeldBack != "" {
		fmt.Fprintf(w, "  %-10s none is touched: %s\n", "", input.Visible(l.HeldBack))
	}
	if s.Mode != batch.Plan {
		return
	}
	for i, p := range l.Planned {
		if i == maxListed {
			fmt.Fprintf(w, "             … and %d more, in the report\n", len(l.Planned)-maxListed)
			break
		}
		fmt.Fprintf(w, "             %s\n", input.Visible(p))
	}
}

// printPlan writes what run would create besides accounts.
func printPlan(w io.Writer, s *batch.Summary) {
	fmt.Fprintf(w, "%d rows planned, %d failed; every username is in %s\n", s.Statuses[report.StatusPlanned], s.Failed(), shownPath(s.ReportPath))
	for _, list := range []struct {
		what  string
		items []string
	}{{"org units", s.OrgUnitsToCreate}, {"groups", s.GroupsToCreate}} {
		if len(list.items) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s run would create:\n", list.what)
		for _, it := range list.items {
			fmt.Fprintf(w, "  %s\n", it)
		}
	}
}

// shownPath is how a path the journal records (absolute) is shown: from
// the current folder when it is below it, as the admin likely typed it.
func shownPath(p string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(p) {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return p
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
