package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A Run is one input file taken to its end, over one or more invocations.
type Run struct {
	ID          int64
	InputPath   string
	InputHash   string // SHA-256 of the input file
	Fingerprint string // hash of the settings that change what a run does
	Config      string // those settings in readable form (no secrets), to say what changed
	ReportPath  string
	Started     time.Time
	Ended       time.Time // zero while the run is unfinished
	Outcome     string    // "" while unfinished
	Invocations int
	Records     int // records in the input; -1 when unknown
}

// Finished reports whether the run reached its end.
func (r Run) Finished() bool { return !r.Ended.IsZero() }

const runColumns = "id, input_path, input_hash, fingerprint, config, report_path, started_at, ended_at, outcome, invocations, records"

func scanRun(row interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var started, ended string
	err := row.Scan(&r.ID, &r.InputPath, &r.InputHash, &r.Fingerprint, &r.Config, &r.ReportPath, &started, &ended, &r.Outcome, &r.Invocations, &r.Records)
	r.Started, r.Ended = parseTime(started), parseTime(ended)
	return r, err
}

// LastRun returns the most recent run, if any.
func (j *Journal) LastRun(ctx context.Context) (Run, bool, error) {
	var r Run
	var found bool
	err := j.read(func() error {
		row, err := j.queryRow(ctx, "SELECT "+runColumns+" FROM runs ORDER BY id DESC LIMIT 1")
		if err != nil {
			return err
		}
		switch r, err = scanRun(row); {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return fmt.Errorf("read last run: %w", err)
		}
		found = true
		return nil
	})
	return r, found, err
}

// StartRun records a new run and returns it with its ID.
func (j *Journal) StartRun(ctx context.Context, r Run) (Run, error) {
	r.Started = j.opts.Now()
	r.Invocations = 1
	err := j.write(ctx, durable, func() error {
		res, err := j.exec(ctx, `INSERT INTO runs (input_path, input_hash, fingerprint, config, report_path, started_at, records)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.InputPath, r.InputHash, r.Fingerprint, r.Config, r.ReportPath, timestamp(r.Started), r.Records)
		if err != nil {
			return fmt.Errorf("record run: %w", err)
		}
		r.ID, err = res.LastInsertId()
		j.run = r.ID
		return err
	})
	return r, err
}

// ResumeRun counts one more invocation of an unfinished run, and records
// the settings it now runs with.
func (j *Journal) ResumeRun(ctx context.Context, id int64, fingerprint, config string) error {
	return j.write(ctx, durable, func() error {
		_, err := j.exec(ctx, "UPDATE runs SET invocations = invocations + 1, fingerprint = ?, config = ? WHERE id = ?", fingerprint, config, id)
		if err != nil {
			return fmt.Errorf("record resumed run: %w", err)
		}
		j.run = id
		return nil
	})
}

// EndRun records that a run reached its end with outcome, and forgets the
// skips of earlier runs of the rows it saw (skipped or changed): a row
// belongs to the run that saw it last (skips.go).
func (j *Journal) EndRun(ctx context.Context, id int64, outcome string) error {
	return j.write(ctx, durable, func() error {
		_, err := j.exec(ctx, "UPDATE runs SET ended_at = ?, outcome = ? WHERE id = ?", timestamp(j.opts.Now()), outcome, id)
		if err != nil {
			return fmt.Errorf("record end of run: %w", err)
		}
		_, err = j.exec(ctx, `DELETE FROM skips WHERE run_id < ?1 AND identity IN
			(SELECT identity FROM skips WHERE run_id = ?1 UNION ALL SELECT identity FROM rows WHERE run_id = ?1)`, id)
		if err != nil {
			return fmt.Errorf("record end of run: %w", err)
		}
		return nil
	})
}

// Runs returns every run, oldest first.
func (j *Journal) Runs(ctx context.Context) ([]Run, error) {
	var runs []Run
	err := j.each(ctx, "runs", "SELECT "+runColumns+" FROM runs ORDER BY id",
		scanInto("runs", &runs, func(q *sql.Rows) (Run, error) { return scanRun(q) }))
	return runs, err
}

// SetRunReport records another report path for a run whose report was
// never created.
func (j *Journal) SetRunReport(ctx context.Context, id int64, path string) error {
	return j.write(ctx, durable, func() error {
		if _, err := j.exec(ctx, "UPDATE runs SET report_path = ? WHERE id = ?", path, id); err != nil {
			return fmt.Errorf("record the report of run %d: %w", id, err)
		}
		return nil
	})
}
