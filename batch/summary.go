package batch

import (
	"context"
	"maps"
	"time"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/report"
)

// Summary says what a job did.
type Summary struct {
	Mode       Mode
	RunID      int64
	Resumed    bool   // this invocation continued an unfinished run
	ReportPath string // where the report is
	Rotated    string // where an earlier report was moved, if one was
	NoIDColumn bool   // rows are known by their content, not an ID
	// Warnings are problems of the config with this input found before
	// the first row, such as a pattern naming a field no column provides.
	Warnings []string
	// Halted is the systemic refusal of the directory that stopped the
	// job, if one did: its rows not finished stay pending.
	Halted *directory.SystemicError
	// Interrupted says the job stopped taking rows before the end of the
	// file (a signal): running it again goes on.
	Interrupted bool

	// Statuses counts rows per report status over the whole run, earlier
	// invocations included.
	Statuses map[string]int
	// ThisInvocation counts the rows finished by this invocation.
	ThisInvocation map[string]int
	Elapsed        time.Duration
	Directory      directory.Stats

	// Plan only: what run would create besides accounts.
	OrgUnitsToCreate []string
	GroupsToCreate   []string

	// Leavers is what a full file meant for the accounts it does not
	// list; nil when the file is not full.
	Leavers *Leavers

	// Abandoned is an earlier run left unfinished whose input changed
	// before it was run again: rows of it that were not in this input are
	// still unfinished.
	Abandoned *AbandonedRun
}

// Failed is the number of rows that failed in the run.
func (s *Summary) Failed() int { return s.Statuses[report.StatusFailed] }

// Total is the number of rows of the run.
func (s *Summary) Total() int {
	n := 0
	for _, c := range s.Statuses {
		n += c
	}
	return n
}

// summarize says what the job did: its counts over the whole run, and the
// rows an abandoned run still has.
func (j *Job) summarize(ctx context.Context, s *runner, b beginning, src *source, reportPath, rotated string, warnings []string, elapsed time.Duration) (*Summary, error) {
	ctx = context.WithoutCancel(ctx)
	summary := &Summary{
		Mode:           j.Mode,
		RunID:          b.run.ID,
		Resumed:        b.resumed,
		ReportPath:     reportPath,
		Rotated:        rotated,
		NoIDColumn:     !src.reader.HasID(),
		ThisInvocation: s.counts,
		Elapsed:        elapsed,
		Warnings:       warnings,
		Leavers:        s.leaverInfo,
	}
	if j.Stats != nil {
		summary.Directory = j.Stats()
	}
	var err error
	if j.Mode == Plan {
		// Missing ones that may not be created are row errors instead.
		if j.Config.OrgUnit.CreateMissing {
			summary.OrgUnitsToCreate = s.orgUnits.missingList()
		}
		summary.GroupsToCreate = s.groupsToCreate.list()
		// A plan is one invocation of a run of its own.
		summary.Statuses = maps.Clone(s.counts)
	} else if summary.Statuses, err = j.runStatuses(ctx, b.run.ID); err != nil {
		return nil, err
	}
	if b.abandoned.run.ID != 0 {
		a, err := j.account(ctx, b.abandoned)
		if err != nil {
			return nil, err
		}
		if a.Rows > 0 {
			summary.Abandoned = a
			j.Logger.Warn("rows of an earlier unfinished run are still unfinished; run provision on its input again",
				"run", a.Run.ID, "input", a.Run.InputPath, "rows", a.Rows, "exact", a.Exact)
		}
	}
	return summary, nil
}

// runStatuses counts the rows of a run by report status, over every
// invocation of the run: the rows it journaled, and its skips.
func (j *Job) runStatuses(ctx context.Context, run int64) (map[string]int, error) {
	statuses, err := j.Journal.CountStatuses(ctx, run)
	if err != nil {
		return nil, err
	}
	skips, err := j.Journal.CountSkips(ctx, run)
	if err != nil {
		return nil, err
	}
	if skips > 0 {
		statuses[report.StatusSkipped] += skips
	}
	return statuses, nil
}
