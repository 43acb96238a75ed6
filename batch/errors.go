package batch

import (
	"context"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
)

// DirectoryStoppedError means the directory refused the job itself (a
// missing scope or admin role, the API disabled, the domain's user limit):
// the job stopped taking rows; the rows it had not finished stay pending,
// and running it again after the fix does the rest.
type DirectoryStoppedError struct {
	Err *directory.SystemicError
}

func (e *DirectoryStoppedError) Error() string {
	return "stopped by the directory: " + e.Err.Error()
}

func (e *DirectoryStoppedError) Unwrap() error { return e.Err }

// NothingChangedError means the job stopped before it could change
// anything in the directory: fix the cause and run it again.
type NothingChangedError struct{ Err error }

func (e *NothingChangedError) Error() string { return e.Err.Error() }

func (e *NothingChangedError) Unwrap() error { return e.Err }

// StoppedError means the job stopped part-way, after it had begun to
// change the directory, for a reason other than its context: the journal
// holds every intent, and running it again resumes it.
type StoppedError struct{ Err error }

func (e *StoppedError) Error() string { return e.Err.Error() }

func (e *StoppedError) Unwrap() error { return e.Err }

// ErrInterrupted is returned when the job stopped before its end because
// its context was cancelled; the same command resumes it. It is
// context.Canceled to errors.Is.
var ErrInterrupted error = interrupted{}

type interrupted struct{}

func (interrupted) Error() string { return "interrupted before the end" }

func (interrupted) Is(target error) bool { return target == context.Canceled }

// ConfigChangedError means an unfinished run is being resumed with
// settings that change what it does.
type ConfigChangedError struct {
	Changes []string
}

func (e *ConfigChangedError) Error() string {
	return "the config changed since this run started, so resuming it would mix two configurations:\n  " + strings.Join(e.Changes, "\n  ")
}
