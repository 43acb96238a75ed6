package batch

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// beginRun resumes the unfinished run of the same input, or starts a new
// run. A plan always starts a run of its own in its copy of the journal:
// it never writes to the report of the run it would resume. When it starts
// a new run while an earlier one is unfinished (its input changed), it
// returns that run as abandoned: its rows that are in
// the new input are finished by the new run, and the others are counted in
// the summary.
func (j *Job) beginRun(ctx context.Context, inputHash string, records int) (run journal.Run, resumed bool, abandoned abandonment, err error) {
	fingerprint, summary := j.Config.Fingerprint()
	last, found, err := j.Journal.LastRun(ctx)
	if err != nil {
		return journal.Run{}, false, abandonment{}, err
	}
	if found && !last.Finished() && j.Mode == Run {
		if last.InputHash == inputHash {
			if last.Fingerprint != fingerprint && !j.Force {
				return journal.Run{}, false, abandonment{}, &ConfigChangedError{Changes: ConfigChanges(last.Config, summary)}
			}
			if err := j.Journal.ResumeRun(ctx, last.ID, fingerprint, summary); err != nil {
				return journal.Run{}, false, abandonment{}, err
			}
			if last.ReportPath != absPath(j.ReportPath) {
				if _, err := os.Lstat(last.ReportPath); errors.Is(err, fs.ErrNotExist) {
					// The run stopped before its report was created: the
					// report asked for now is its report.
					if err := j.Journal.SetRunReport(ctx, last.ID, absPath(j.ReportPath)); err != nil {
						return journal.Run{}, false, abandonment{}, err
					}
					last.ReportPath = absPath(j.ReportPath)
				} else {
					j.Logger.Warn("a resumed run keeps writing its first report", "report", last.ReportPath)
				}
			}
			j.Logger.Info("resuming an interrupted run", "run", last.ID, "started", last.Started, "invocation", last.Invocations+1)
			return last, true, abandonment{}, nil
		}
		j.Logger.Warn("the previous run did not finish and its input has changed; starting a new run",
			"previous_input", last.InputPath, "previous_run", last.ID)
		if abandoned, err = j.beginAbandon(ctx, last); err != nil {
			return journal.Run{}, false, abandonment{}, err
		}
	}
	run, err = j.Journal.StartRun(ctx, journal.Run{
		InputPath:   absPath(j.InputPath),
		InputHash:   inputHash,
		Fingerprint: fingerprint,
		Config:      summary,
		ReportPath:  absPath(j.ReportPath),
		Records:     records,
	})
	return run, false, abandoned, err
}

// absPath is how the journal records a path: absolute, since the journal
// outlives the folder a job starts in, and any later command, started
// anywhere, must find a run's report to know not to write over it.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil && p != "" {
		return abs
	}
	return p
}

// protected returns the files the report must never be: the input,
// j.Protected, and for plan the report of every run of the journal (a
// run's own report is continued or kept under a dated name by
// OpenReport).
func (j *Job) protected(ctx context.Context) ([]report.Protected, error) {
	p := append([]report.Protected{{Path: j.InputPath, What: "the input"}}, j.Protected...)
	if j.Mode != Plan {
		return p, nil
	}
	runs, err := j.Journal.Runs(ctx)
	if err != nil {
		return nil, err
	}
	return append(p, report.RunReports(runs)...), nil
}

// beginning is how a job began its run.
type beginning struct {
	run       journal.Run
	resumed   bool
	abandoned abandonment
	protected []report.Protected
}

// begin binds the journal to the job's directory, checks the report, and
// begins or resumes the run. The report is checked before the run is
// recorded, and created only once the directory has answered: a job that
// cannot start leaves no empty report and no run that needs it behind.
func (j *Job) begin(ctx context.Context, src *source) (beginning, error) {
	// A journal is the memory of one directory: used for another, what it
	// knows of accounts and names would be false there.
	if err := j.Journal.BindDirectory(ctx, j.Target); err != nil {
		return beginning{}, err
	}
	protected, err := j.protected(ctx)
	if err != nil {
		return beginning{}, err
	}
	if err := report.Check(j.ReportPath, false, protected); err != nil {
		return beginning{}, err
	}
	run, resumed, abandoned, err := j.beginRun(ctx, src.hash, src.records)
	if err != nil {
		return beginning{}, err
	}
	if err := report.Check(run.ReportPath, resumed, protected); err != nil {
		return beginning{}, err
	}
	return beginning{run: run, resumed: resumed, abandoned: abandoned, protected: protected}, nil
}
