package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
)

// AbandonedRun counts the rows of an earlier run, left unfinished, whose
// input was replaced by another file before it was run again: the rows of
// the old file that the new one did not finish, read or not. Only the old
// file can finish them.
type AbandonedRun struct {
	Run journal.Run
	// Rows is how many rows of the old file are unfinished: exactly when
	// Exact, else at most.
	Rows  int
	Exact bool
	// Read are the rows the old run had read and the new file did not
	// finish; NotReached, when not Exact, the rows it never reached, some
	// of which the new file may have finished.
	Read, NotReached int
}

// abandonment is what the journal said of an abandoned run when the new
// run began, before the new run took any of its rows.
type abandonment struct {
	run  journal.Run
	read int // rows the old run had read, finished or not
}

// beginAbandon records what the old run had read.
func (j *Job) beginAbandon(ctx context.Context, old journal.Run) (abandonment, error) {
	read, err := j.Journal.CountRowsOf(ctx, old.ID)
	return abandonment{run: old, read: read}, err
}

// account counts the rows of the abandoned run the new run did not
// finish. When the old file is still where it was, unchanged, it reads it
// and counts exactly; otherwise it counts the rows the old run read that
// are still unfinished, and the records it never reached.
func (j *Job) account(ctx context.Context, a abandonment) (*AbandonedRun, error) {
	unfinished, err := j.Journal.CountUnfinished(ctx, a.run.ID)
	if err != nil {
		return nil, err
	}
	res := &AbandonedRun{Run: a.run, Read: unfinished}
	if n, ok, err := j.unfinishedIn(ctx, a.run); err != nil {
		return nil, err
	} else if ok {
		res.Rows, res.Exact = n, true
		return res, nil
	}
	if a.run.Records >= 0 {
		res.NotReached = max(a.run.Records-1-a.read, 0) // the header is no row
	}
	res.Rows = res.Read + res.NotReached
	return res, nil
}

// unfinishedIn counts the rows of the old run's file, read again, that no
// run has finished. It reports false when the file is gone or changed.
func (j *Job) unfinishedIn(ctx context.Context, old journal.Run) (int, bool, error) {
	f, err := os.Open(old.InputPath)
	if err != nil {
		return 0, false, nil
	}
	defer f.Close()
	if hash, _, err := input.Scan(f, j.Config.Encoding); err != nil || hash != old.InputHash {
		return 0, false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, false, nil
	}
	reader, err := input.NewReader(f, j.readerOptions())
	if err != nil {
		return 0, false, nil
	}
	n := 0
	for {
		rec, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return n, true, nil
		}
		if err != nil {
			return 0, false, nil
		}
		if rec.Err != nil {
			continue // a row that cannot be read can never be finished
		}
		row, found, err := j.Journal.Row(ctx, identityOf(rec, j.Config).key)
		if err != nil {
			return 0, false, fmt.Errorf("count the unfinished rows of %s: %w", old.InputPath, err)
		}
		if !found || !row.State.Terminal() {
			n++
		}
	}
}
