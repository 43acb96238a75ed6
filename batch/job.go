package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

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

// ErrInterrupted is returned when the job stopped before its end because
// its context was cancelled; the same command resumes it. It is
// context.Canceled to errors.Is.
var ErrInterrupted error = interrupted{}

type interrupted struct{}

func (interrupted) Error() string        { return "interrupted before the end" }
func (interrupted) Is(target error) bool { return target == context.Canceled }

// ConfigChangedError means an unfinished run is being resumed with
// settings that change what it does.
type ConfigChangedError struct {
	Changes []string
}

func (e *ConfigChangedError) Error() string {
	return "the config changed since this run started, so resuming it would mix two configurations:\n  " + strings.Join(e.Changes, "\n  ")
}

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
	in, err := os.Open(j.InputPath)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	defer in.Close()
	hash, records, err := input.Scan(in, j.Config.Encoding)
	if err != nil {
		return nil, fmt.Errorf("read input %s: %w", j.InputPath, err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read input %s: %w", j.InputPath, err)
	}
	delim, _ := j.Config.delimiter()
	reader, err := input.NewReader(in, input.ReaderOptions{Delimiter: delim, Columns: j.Config.Columns, Domain: j.Config.Domain, Encoding: j.Config.Encoding})
	if err != nil {
		return nil, err
	}
	patterns, err := j.Config.patterns()
	if err != nil {
		return nil, err
	}
	placement, err := newPlacement(j.Config)
	if err != nil {
		return nil, err
	}
	warnings := unknownFields(j.Config, patterns, reader, filepath.Base(j.InputPath))
	if len(warnings) > 0 && j.Strict {
		return nil, &UnknownFieldsError{Problems: warnings}
	}
	for _, w := range warnings {
		j.Logger.Warn(w)
	}

	// A journal is the memory of one directory: used for another, what it
	// knows of accounts and names would be false there.
	if err := j.Journal.BindDirectory(ctx, j.Target); err != nil {
		return nil, err
	}
	// The report is checked before the run is recorded, and created only
	// once the directory has answered: a job that cannot start leaves no
	// empty report and no run that needs it behind.
	protected, err := j.protected(ctx)
	if err != nil {
		return nil, err
	}
	if err := report.Check(j.ReportPath, false, protected); err != nil {
		return nil, err
	}
	run, resumed, abandoned, err := j.beginRun(ctx, hash, records)
	if err != nil {
		return nil, err
	}
	if err := report.Check(run.ReportPath, resumed, protected); err != nil {
		return nil, err
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
		run:       run,
		placement: placement,
		log:       j.Logger,
		counts:    map[string]int{},
		orgUnits:  newExistence(),
		groups:    newExistence(),
	}
	s.reserver = naming.NewReserver(naming.Options{
		Patterns: patterns,
		Reserved: j.Config.reserved(),
		Taken:    naming.CheckerFunc(j.Journal.NameTaken),
		Ledger:   j.Journal,
	})

	work, stopWork := j.workContext(ctx)
	defer stopWork()
	if j.Mode == Run {
		if resumed {
			if err := s.recoverReported(ctx); err != nil {
				return nil, err
			}
		}
		if err := s.reconcile(work); err != nil {
			return nil, err
		}
	}
	if err := s.loadSnapshot(ctx); err != nil {
		return nil, err
	}
	out, rotated, err := report.Open(run.ReportPath, resumed, protected)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	if rotated != "" {
		j.Logger.Info("kept the earlier report", "path", rotated)
	}
	if j.Mode == Plan {
		out.NoSync()
	}
	if j.Progress != nil {
		j.Progress.Start(max(records-1, 0))
		defer j.Progress.Done()
	}
	s.finisher = newFinisher(s, out)
	err = s.process(ctx, work, reader)
	// Every row taken is finished or stopped by now: the finisher records
	// the last of them.
	if ferr := s.finisher.close(); ferr != nil && err == nil {
		err = ferr
	}
	halted := s.halted()
	interrupted := ctx.Err() != nil && halted == nil
	if err != nil && !(interrupted && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))) {
		return nil, err
	}

	summary := &Summary{
		Mode:           j.Mode,
		RunID:          run.ID,
		Resumed:        resumed,
		ReportPath:     out.Path(),
		Rotated:        rotated,
		NoIDColumn:     !reader.HasID(),
		ThisInvocation: s.counts,
		Elapsed:        time.Since(start),
		Warnings:       warnings,
	}
	if j.Stats != nil {
		summary.Directory = j.Stats()
	}
	if j.Mode == Plan {
		// Missing ones that may not be created are row errors instead.
		if j.Config.OrgUnit.CreateMissing {
			summary.OrgUnitsToCreate = s.orgUnits.missingList()
		}
		summary.GroupsToCreate = s.groupsToCreate.list()
	}
	if j.Mode == Plan {
		// A plan is one invocation of a run of its own.
		summary.Statuses = maps.Clone(s.counts)
	} else if summary.Statuses, err = j.Journal.CountStatuses(context.WithoutCancel(ctx), run.ID); err != nil {
		return nil, err
	}
	if abandoned.run.ID != 0 {
		a, err := j.account(context.WithoutCancel(ctx), abandoned)
		if err != nil {
			return nil, err
		}
		if a.Rows > 0 {
			summary.Abandoned = a
			j.Logger.Warn("rows of an earlier unfinished run are still unfinished; run provision on its input again",
				"run", a.Run.ID, "input", a.Run.InputPath, "rows", a.Rows, "exact", a.Exact)
		}
	}
	if halted != nil {
		summary.Halted = halted
		return summary, &DirectoryStoppedError{Err: halted}
	}
	if interrupted {
		return summary, ErrInterrupted
	}
	outcome := fmt.Sprintf("%d rows, %d failed", summary.Total(), summary.Failed())
	if err := j.Journal.EndRun(ctx, run.ID, outcome); err != nil {
		return nil, err
	}
	return summary, nil
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
			if last.ReportPath != j.ReportPath {
				if _, err := os.Lstat(last.ReportPath); errors.Is(err, fs.ErrNotExist) {
					// The run stopped before its report was created: the
					// report asked for now is its report.
					if err := j.Journal.SetRunReport(ctx, last.ID, j.ReportPath); err != nil {
						return journal.Run{}, false, abandonment{}, err
					}
					last.ReportPath = j.ReportPath
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
		InputPath:   j.InputPath,
		InputHash:   inputHash,
		Fingerprint: fingerprint,
		Config:      summary,
		ReportPath:  j.ReportPath,
		Records:     records,
	})
	return run, false, abandoned, err
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

// runner is what one invocation of a job shares between its reader and its
// workers.
type runner struct {
	job       *Job
	cfg       Config
	dir       Directory
	journal   *journal.Journal
	run       journal.Run
	finisher  *finisher // the finishing stage: report lines, then the journal
	placement *placement
	reserver  *naming.Reserver
	log       *slog.Logger
	orgUnits  *existence
	groups    *existence
	// groupsToCreate are the missing groups plan found run would create.
	groupsToCreate stringSet

	mu     sync.Mutex
	counts map[string]int // statuses of rows finished by this invocation
	// stop is the systemic refusal that halted the job, once one did.
	stop *directory.SystemicError
}

// halt stops the job taking rows, for a systemic refusal of the directory.
func (s *runner) halt(sys *directory.SystemicError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop == nil {
		s.stop = sys
		s.log.Error("the directory refuses the job itself; stopping: no new row is taken, rows not finished stay pending",
			"refusal", sys.Kind.String(), "fix", sys.Fix)
	}
}

// halted returns the refusal that halted the job, or nil.
func (s *runner) halted() *directory.SystemicError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop
}

// process reads the input in order, names each row, and hands the rows
// that need remote work to a bounded pool of workers. It stops taking rows
// when ctx is cancelled; workers use work, which outlives ctx by the grace
// period.
func (s *runner) process(ctx, work context.Context, reader *input.Reader) error {
	g, gctx := errgroup.WithContext(work)
	g.SetLimit(s.cfg.Concurrency)
	readErr := s.readAhead(reader, func(rec input.Record, known *prefetched) (bool, error) {
		if ctx.Err() != nil || gctx.Err() != nil || s.halted() != nil {
			return false, nil
		}
		t, err := s.prepare(ctx, rec, known)
		if err != nil || t == nil {
			return err == nil, err
		}
		g.Go(func() error { return s.work(ctx, gctx, t) })
		return true, nil
	})
	werr := g.Wait()
	if readErr != nil {
		return readErr
	}
	if werr != nil {
		return werr
	}
	return ctx.Err()
}

// count records a finished row.
func (s *runner) count(status string) {
	s.mu.Lock()
	s.counts[status]++
	s.mu.Unlock()
	if s.job.Progress != nil {
		s.job.Progress.Row(status)
	}
}

// readAheadRecords is how many records the reader takes at a time: their
// rows are read from the journal in one query.
const readAheadRecords = 128

// prefetched holds the journal's rows of the records read ahead.
type prefetched struct {
	rows  map[string]journal.Row
	asked map[string]bool
}

// take returns the prefetched row of identity, once: a second record with
// the same identity reads the journal again, to see what the first did.
func (p *prefetched) take(identity string) (row journal.Row, known, ok bool) {
	if p == nil || !p.asked[identity] {
		return journal.Row{}, false, false
	}
	delete(p.asked, identity)
	row, known = p.rows[identity]
	delete(p.rows, identity)
	return row, known, true
}

// readAhead reads the input in file order and calls fn with each record
// until fn returns false or an error. A goroutine of its own reads and
// validates the records, a few at a time, while fn works on the ones
// before; the journal's rows of each few are read in one query.
func (s *runner) readAhead(reader *input.Reader, fn func(input.Record, *prefetched) (bool, error)) error {
	type chunk struct {
		recs []input.Record
		ids  []string
		err  error
	}
	chunks := make(chan chunk, 2)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(chunks)
		for {
			c := chunk{recs: make([]input.Record, 0, readAheadRecords)}
			for len(c.recs) < readAheadRecords {
				rec, err := reader.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					c.err = fmt.Errorf("read input %s: %w", s.job.InputPath, err)
					break
				}
				c.recs = append(c.recs, rec)
				if rec.Err == nil {
					c.ids = append(c.ids, identityOf(rec, s.cfg).key)
				}
			}
			if len(c.recs) == 0 && c.err == nil {
				return
			}
			select {
			case chunks <- c:
			case <-stop:
				return
			}
			if c.err != nil || len(c.recs) < readAheadRecords {
				return
			}
		}
	}()
	ctx := context.Background()
	for c := range chunks {
		rows, err := s.journal.RowsOf(ctx, c.ids)
		if err != nil {
			return err
		}
		known := &prefetched{rows: rows, asked: make(map[string]bool, len(c.ids))}
		for _, id := range c.ids {
			known.asked[id] = true
		}
		for _, rec := range c.recs {
			goOn, err := fn(rec, known)
			if err != nil || !goOn {
				return err
			}
		}
		if c.err != nil {
			return c.err
		}
	}
	return nil
}
