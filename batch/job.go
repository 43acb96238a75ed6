package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
	"github.com/provisionhq/provision/naming"
)

// Mode says whether a job changes the directory.
type Mode int

const (
	// Run creates, places and groups accounts.
	Run Mode = iota
	// Plan works out what Run would do and changes nothing.
	Plan
)

// Progress is told about rows as they finish. Its methods are called from
// several goroutines.
type Progress interface {
	// Start is called once, with an estimate of the rows to come.
	Start(estimatedRows int)
	// Row is called once per row finished in this invocation.
	Row(status string)
	// Done is called once at the end.
	Done()
}

// A Job is one invocation of run or plan over an input file.
type Job struct {
	Config     Config // validated, with defaults applied
	InputPath  string
	ReportPath string // the report for a new run; a resumed run keeps its own
	Journal    *journal.Journal
	Directory  Directory
	// Target says which directory Directory is: the journal must belong to
	// it (see journal.BindDirectory).
	Target journal.Directory
	// Protected are files the report must never be, besides the input and
	// the reports of the journal's runs: the journal and its -wal and -shm
	// files (see JournalFiles), which plan works on a copy of.
	Protected []report.Protected
	Mode      Mode
	// Force goes on with a resumed run although the config changed.
	Force bool
	// Strict stops the job, before anything changes, when patterns or
	// templates name fields the input has no column for; otherwise that
	// is a warning.
	Strict bool
	// MaxLeavers, when positive, lets this run act on up to that many
	// leavers whatever the limits of the config (--max-leavers).
	MaxLeavers int
	// SnapshotMaxAge is how old the journal's directory snapshot may be
	// and still be used. Zero means one hour.
	SnapshotMaxAge time.Duration
	// Grace is how long calls in flight may go on after ctx is cancelled,
	// to record their outcome. Zero means 30 seconds.
	Grace time.Duration
	// Abort, when closed, cuts the grace period short.
	Abort <-chan struct{}
	// Stats returns the directory client's counters, for the summary.
	Stats    func() directory.Stats
	Logger   *slog.Logger
	Progress Progress
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Failpoint, when set, is called at the moments a crash is most
	// dangerous (see Failpoints): after each row event is journaled, and
	// "intent" (an intent is on disk, the call not made), "applied" (the
	// directory applied a change, the journal does not know yet),
	// "outcome" (the outcome is on disk) and "reported" (a row's report
	// line is on disk, its journal state not yet). Crash tests kill the
	// process there.
	Failpoint func(name string)

	// changed is set once the directory may have applied a change of the
	// job: a write that succeeded, or whose outcome is unknown.
	changed atomic.Bool
	// format is the input's format, roster what a OneRoster input needs
	// besides (nil for a plain CSV).
	format string
	roster *oneRoster
}

// noteChange records that a write answered with err may have changed the
// directory: it did unless the directory refused it outright (a 4xx
// answer, a systemic refusal) or the row failed before any call.
func (j *Job) noteChange(err error) {
	if err == nil {
		j.changed.Store(true)
		return
	}
	if isRowFailure(err) || directory.IsRefused(err) {
		return
	}
	j.changed.Store(true)
}

func (j *Job) failpoint(name string) {
	if j.Failpoint != nil {
		j.Failpoint(name)
	}
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// Run does the job. A row that cannot be processed is recorded as failed
// and the other rows go on; Run returns an error only when the job as a
// whole cannot go on (a bad input header, a config change, the journal
// failing) or was interrupted (ErrInterrupted). An error of a job that
// could not have changed anything yet is a *NothingChangedError; one of a
// job that may have is a *StoppedError.
func (j *Job) Run(ctx context.Context) (*Summary, error) {
	summary, err := j.run(ctx)
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return summary, err
	case !j.changed.Load():
		return summary, &NothingChangedError{Err: err}
	case errors.As(err, new(*DirectoryStoppedError)):
		return summary, err
	}
	return summary, &StoppedError{Err: err}
}

func (j *Job) run(ctx context.Context) (*Summary, error) {
	start := time.Now()
	j.setDefaults()
	src, err := j.openInput()
	if err != nil {
		return nil, err
	}
	defer src.file.Close()
	s, warnings, err := j.newRunner(src.reader)
	if err != nil {
		return nil, err
	}
	b, err := j.begin(ctx, src)
	if err != nil {
		return nil, err
	}
	s.run = b.run
	work, stopWork := j.workContext(ctx)
	defer stopWork()
	if err := s.recover(ctx, work, b.resumed); err != nil {
		return nil, err
	}
	if err := s.loadSnapshot(ctx); err != nil {
		return nil, err
	}
	if j.Config.Leavers.Full || j.format == FormatOneRoster {
		// Before the first row: a run whose leavers exceed the limits
		// changes nothing at all.
		if s.leavers, s.leaverInfo, err = s.findLeavers(ctx); err != nil {
			return nil, err
		}
	}
	out, rotated, err := report.Open(b.run.ReportPath, b.resumed, b.protected)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	if rotated != "" {
		j.Logger.Info("kept the earlier report", "path", rotated)
	}
	err = s.pipeline(ctx, work, src, out)
	halted := s.halted()
	interrupted := ctx.Err() != nil && halted == nil
	if err != nil && !(interrupted && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))) {
		return nil, err
	}
	summary, err := j.summarize(ctx, s, b, src, out.Path(), rotated, warnings, time.Since(start))
	switch {
	case err != nil:
		return nil, err
	case halted != nil:
		summary.Halted = halted
		return summary, &DirectoryStoppedError{Err: halted}
	case interrupted:
		summary.Interrupted = true
		return summary, ErrInterrupted
	}
	outcome := fmt.Sprintf("%d rows, %d failed", summary.Total(), summary.Failed())
	if err := j.Journal.EndRun(ctx, b.run.ID, outcome); err != nil {
		return nil, err
	}
	return summary, nil
}

// source is a job's input, read once already (hashed, counted and its
// encoding checked) and open for reading its records.
type source struct {
	file    *os.File
	reader  *input.Reader
	hash    string
	records int // the header included
}

// openInput reads the input once and opens it for its records.
func (j *Job) openInput() (*source, error) {
	in, err := os.Open(j.InputPath)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	src := &source{file: in}
	if src.hash, src.records, err = input.Scan(in, j.Config.Encoding); err != nil {
		in.Close()
		return nil, fmt.Errorf("read input %s: %w", j.InputPath, err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		in.Close()
		return nil, fmt.Errorf("read input %s: %w", j.InputPath, err)
	}
	if j.format, err = detectFormat(j.InputPath, j.Config.Format); err != nil {
		in.Close()
		return nil, err
	}
	if j.format == FormatOneRoster {
		if j.roster, err = loadOneRoster(j.Config.OneRoster, j.InputPath); err != nil {
			in.Close()
			return nil, err
		}
		j.Logger.Info("the input is a OneRoster users.csv", "orgs", len(j.roster.orgs))
	}
	src.reader, err = input.NewReader(in, j.readerOptions())
	if err != nil {
		in.Close()
		return nil, err
	}
	if j.format == FormatOneRoster && !src.reader.HasID() {
		in.Close()
		return nil, &input.HeaderError{Err: errors.New("the file is read as OneRoster (format: oneroster), but it has no sourcedId column; is it a OneRoster users.csv?")}
	}
	return src, nil
}

// newRunner returns the runner of the job's stages, and the warnings about
// patterns and templates that name fields the input does not have.
func (j *Job) newRunner(reader *input.Reader) (*runner, []string, error) {
	patterns, err := j.Config.patterns()
	if err != nil {
		return nil, nil, err
	}
	placement, err := newPlacement(j.Config)
	if err != nil {
		return nil, nil, err
	}
	warnings := unknownFields(j.Config, patterns, reader, filepath.Base(j.InputPath), j.roster)
	if len(warnings) > 0 && j.Strict {
		return nil, nil, &UnknownFieldsError{Problems: warnings}
	}
	for _, w := range warnings {
		j.Logger.Warn(w)
	}
	dir := j.Directory
	if j.Mode == Plan {
		dir = ReadOnly(dir)
	}
	s := &runner{
		job:       j,
		cfg:       j.Config,
		dir:       dir,
		journal:   j.Journal,
		placement: placement,
		columns:   map[string]bool{},
		log:       j.Logger,
		counts:    map[string]int{},
		orgUnits:  newExistence(),
		groups:    newExistence(),
		inMemory:  newKeptRows(),
	}
	for _, field := range []string{"title", "department", "manager", "phone"} {
		s.columns[field] = reader.Provides(field)
	}
	s.provides = reader.Provides
	s.reserver = naming.NewReserver(naming.Options{
		Patterns: patterns,
		Reserved: j.Config.reserved(),
		Taken:    naming.CheckerFunc(j.Journal.NameTaken),
		Ledger:   j.Journal,
	})
	return s, warnings, nil
}

// recover settles what an interrupted invocation left, before any row is
// taken: report lines that reached the disk unrecorded, and side effects
// in flight. A plan has nothing to settle.
func (s *runner) recover(ctx, work context.Context, resumed bool) error {
	if s.job.Mode != Run {
		return nil
	}
	if resumed {
		if err := s.recoverReported(ctx); err != nil {
			return err
		}
		if err := s.journal.SkippedLines(ctx, s.run.ID, s.skippedBefore.add); err != nil {
			return err
		}
	}
	return s.reconcile(work)
}

// pipeline runs the rows of the input through the stages: the reader and
// the workers (process), then the finisher, which records the last rows
// taken before it returns.
func (s *runner) pipeline(ctx, work context.Context, src *source, out *report.File) error {
	if s.job.Mode == Plan {
		out.NoSync()
	}
	if s.job.Progress != nil {
		s.job.Progress.Start(max(src.records-1, 0))
		defer s.job.Progress.Done()
	}
	s.finisher = newFinisher(s, out)
	err := s.process(ctx, work, src.reader)
	if err == nil && ctx.Err() == nil && s.halted() == nil {
		err = s.applyLeavers(ctx, work, s.leavers)
	}
	if ferr := s.finisher.close(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

func (j *Job) setDefaults() {
	if j.SnapshotMaxAge == 0 {
		j.SnapshotMaxAge = time.Hour
	}
	if j.Grace == 0 {
		j.Grace = 30 * time.Second
	}
	if j.Logger == nil {
		j.Logger = slog.New(slog.DiscardHandler)
	}
}

// workContext returns the context of remote calls: it outlives ctx by the
// grace period, so that calls in flight when the job is interrupted can
// finish and have their outcome journaled, and ends at once on Abort.
func (j *Job) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-ctx.Done():
		case <-work.Done():
			return
		}
		timer := time.NewTimer(j.Grace)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-j.Abort:
		case <-work.Done():
		}
		cancel()
	}()
	return work, cancel
}
