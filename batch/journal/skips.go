package journal

import (
	"context"
	"database/sql"
	"fmt"
)

// A run that finds a row done before, with nothing to change, skips it. It
// records that in the skips table, by line, rather than rewriting the
// row: the row keeps the run and line that last changed it, and a rerun
// of a cumulative file of done rows appends a few bytes for each instead
// of rewriting every row. What reads a run's rows reads its skips with
// them: CountSkips, CountRowsOf, RunRows; resuming a run reads its
// skips back (SkippedLines). A skip is kept until a later run that saw
// the same row, skipped or changed, ends (EndRun): a row belongs to the
// run that saw it last, as when every run rewrote it.

// RecordSkips records that run finished rows as skipped, many to a
// statement. The write is batched, as SaveRow's.
func (j *Journal) RecordSkips(ctx context.Context, run int64, rows []*Row) error {
	failed, err := j.writeChunks(ctx, rows, func(chunk []*Row) (string, []any) {
		args := make([]any, 0, 3*len(chunk))
		for _, r := range chunk {
			args = append(args, run, r.Line, r.Identity)
		}
		return "INSERT OR REPLACE INTO skips (run_id, line, identity) VALUES " + tuples(len(chunk), 3), args
	})
	if err != nil {
		return fmt.Errorf("record %d skipped rows from %s (line %d): %w", len(failed), failed[0].Identity, failed[0].Line, err)
	}
	return nil
}

// ForgetSkip forgets that run skipped the row at line. The write is
// batched, as SaveRow's.
func (j *Journal) ForgetSkip(ctx context.Context, run int64, line int) error {
	return j.write(ctx, batched, func() error {
		if _, err := j.exec(ctx, "DELETE FROM skips WHERE run_id = ? AND line = ?", run, line); err != nil {
			return fmt.Errorf("forget the skip of line %d: %w", line, err)
		}
		return nil
	})
}

// SkippedLines calls fn with the line of every row run skipped, in order.
func (j *Journal) SkippedLines(ctx context.Context, run int64, fn func(line int)) error {
	return j.each(ctx, "skipped rows", "SELECT line FROM skips WHERE run_id = ? ORDER BY line", func(q *sql.Rows) error {
		var line int
		if err := q.Scan(&line); err != nil {
			return fmt.Errorf("read skipped rows: %w", err)
		}
		fn(line)
		return nil
	}, run)
}

// CountSkips returns how many rows run skipped.
func (j *Journal) CountSkips(ctx context.Context, run int64) (int, error) {
	var n int
	err := j.read(func() error {
		return j.conn.QueryRowContext(ctx, "SELECT count(*) FROM skips WHERE run_id = ?", run).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count the skipped rows of run %d: %w", run, err)
	}
	return n, nil
}

// runRows are the rows a run saw last: those it changed that no later run
// skipped, and those it skipped that no later run changed (a later run
// that skipped them too forgets this run's skip when it ends), with the
// run and line of the skip; rowColumns, then whether the row is a skip.
// ?1 is the run.
const runRows = `SELECT ` + rowColumns + `, 0 FROM rows
	WHERE run_id = ?1 AND identity NOT IN (SELECT identity FROM skips WHERE run_id > ?1)
	UNION ALL
	SELECT rows.identity, skips.run_id, skips.line, rows.external_id, rows.firstname, rows.lastname, rows.email,
		rows.org_unit, rows.groups, rows.state, rows.status, rows.error, rows.user_id, rows.password, skips.run_id, 1
	FROM skips JOIN rows ON rows.identity = skips.identity
	WHERE skips.run_id = ?1 AND rows.run_id <= ?1 AND skips.identity NOT IN (SELECT identity FROM skips WHERE run_id > ?1)
	ORDER BY 3`

// RunRows calls fn, in line order, with every row run saw last: the rows
// it changed, and the rows it skipped (skipped set; the row as it stands,
// at the run and line of the skip), that no later run saw since, until fn
// returns an error. The journal is locked while it runs: fn must not call
// it.
func (j *Journal) RunRows(ctx context.Context, run int64, fn func(r Row, skipped bool) error) error {
	return j.each(ctx, "rows", runRows, func(q *sql.Rows) error {
		var r Row
		var groups string
		var skipped bool
		if err := q.Scan(append(r.dest(&groups), &skipped)...); err != nil {
			return fmt.Errorf("read rows: %w", err)
		}
		r.scanned(groups, nil)
		return fn(r, skipped)
	}, run)
}
