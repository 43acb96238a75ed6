package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// directoryFlags say how to reach the Directory API.
type directoryFlags struct {
	endpoint      string
	emulator      bool
	emulatorUsers int
	emulatorState string
	credentials   string
	subject       string
	impersonate   string
}

func (f *directoryFlags) register(fs *flagSet, stateDefault string) {
	fs.StringVar(&f.endpoint, "endpoint", "", "Directory API base `URL` (a loopback URL needs no credentials)")
	fs.BoolVar(&f.emulator, "emulator", false, "use an in-process Directory API emulator; the default when no credentials are configured")
	fs.IntVar(&f.emulatorUsers, "emulator-users", 200, "existing users the embedded emulator starts with, when it has no state file")
	fs.StringVar(&f.emulatorState, "emulator-state", "", "where the embedded emulator keeps its directory between runs (default: "+stateDefault+")")
	fs.StringVar(&f.credentials, "credentials", "", "service account key `file` (default: Application Default Credentials)")
	fs.StringVar(&f.subject, "subject", "", "admin `email` to act as (domain-wide delegation)")
	fs.StringVar(&f.impersonate, "impersonate", "", "service account `email` to impersonate, keyless (Workload Identity)")
}

// jobFlags are the flags run and plan share.
type jobFlags struct {
	directoryFlags
	config      string
	domain      string
	stateDir    string
	journal     string
	report      string
	patterns    listFlag
	delimiter   string
	encoding    string
	concurrency int
	quota       int
	logFormat   string
	yes         bool
	force       bool
	strict      bool
	full        bool
	maxLeavers  int
	format      string
}

func (f *jobFlags) register(fs *flagSet, mode batch.Mode) {
	fs.StringVar(&f.config, "config", "", "YAML config `file`")
	fs.StringVar(&f.domain, "domain", "", "Workspace `domain` the accounts are created in")
	f.directoryFlags.register(fs, "next to the journal")
	registerJournalFlags(fs, &f.stateDir, &f.journal)
	if mode == batch.Plan {
		fs.StringVar(&f.report, "report", "", "plan report `file` (default: next to the CSV, .plan.csv)")
	} else {
		fs.StringVar(&f.report, "report", "", "report `file` (default: next to the CSV, .report.csv)")
	}
	fs.Var(&f.patterns, "pattern", "username `pattern`, tried in order (repeatable; replaces the config's)")
	fs.StringVar(&f.delimiter, "delimiter", "", "CSV field `delimiter`: \",\", \";\", \"|\" or \"tab\" (default \",\")")
	fs.StringVar(&f.encoding, "encoding", "", "character `encoding` of the CSV: "+strings.Join(input.EncodingNames(), ", ")+" (default utf-8)")
	fs.IntVar(&f.concurrency, "concurrency", 0, "rows worked on at once (default 16)")
	fs.IntVar(&f.quota, "quota", 0, "Directory API requests per `minute` (default 2400)")
	fs.StringVar(&f.logFormat, "log-format", "", "log format: text or json (default: text on a terminal, json otherwise)")
	fs.BoolVar(&f.yes, "yes", false, "do not ask for confirmation (needed without a terminal)")
	fs.BoolVar(&f.force, "force", false, "resume an interrupted run although the config changed")
	fs.BoolVar(&f.strict, "strict", false, "stop, before any change, when a pattern or template names a field no column provides (otherwise a warning)")
	fs.StringVar(&f.format, "format", "", "input `format`: csv, or oneroster (a OneRoster v1.1 users.csv) (default: recognised from the header)")
	fs.BoolVar(&f.full, "full", false, "the file lists everyone in scope: accounts in scope it leaves out are leavers (config leavers:)")
	fs.IntVar(&f.maxLeavers, "max-leavers", 0, "let this run act on up to `N` leavers, above the config's leavers limits")
}

// loadConfig reads the config file, if any, and lays the flags that were
// given (on the command line or in the environment) over it.
func (f *jobFlags) loadConfig(fs *flagSet) (batch.Config, error) {
	cfg, err := configFile(fs.Name(), f.config)
	if err != nil {
		return cfg, err
	}
	set := fs.given()
	if set["domain"] {
		cfg.Domain = f.domain
	}
	if set["pattern"] {
		cfg.Patterns = f.patterns
	}
	if set["delimiter"] {
		cfg.Delimiter = f.delimiter
	}
	if set["encoding"] {
		cfg.Encoding = f.encoding
	}
	if set["concurrency"] {
		cfg.Concurrency = f.concurrency
	}
	if set["quota"] {
		cfg.Quota = f.quota
	}
	if set["full"] {
		cfg.Leavers.Full = f.full
	}
	if set["format"] {
		cfg.Format = f.format
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, withHint(usageErrorf("%v", err), "fix the config file or give the setting as a flag; nothing was changed")
	}
	return cfg, nil
}

// useEmulator reports whether the job runs against the embedded emulator:
// when asked, or when nothing says how to reach Google.
func (f *directoryFlags) useEmulator() bool {
	if f.emulator {
		return true
	}
	_, adc := os.LookupEnv("GOOGLE_APPLICATION_CREDENTIALS")
	return f.endpoint == "" && f.credentials == "" && f.subject == "" && f.impersonate == "" && !adc
}

func runRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runJob(ctx, batch.Run, args, stdin, stdout, stderr)
}

func runPlan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runJob(ctx, batch.Plan, args, stdin, stdout, stderr)
}

func runJob(ctx context.Context, mode batch.Mode, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	name := "run"
	if mode == batch.Plan {
		name = "plan"
	}
	fs := newFlagSet(name, "[flags] FILE.csv", stderr)
	var f jobFlags
	f.register(fs, mode)
	args, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return withHint(usageErrorf("%s: give one CSV file (got %d arguments)", name, len(args)), fmt.Sprintf("provision %s [flags] students.csv", name))
	}
	csvPath := args[0]
	if fi, err := os.Stat(csvPath); err != nil || fi.IsDir() {
		return usageErrorf("%s: cannot read the input %s", name, csvPath)
	}
	cfg, err := f.loadConfig(fs)
	if err != nil {
		return err
	}
	logger, quiet, err := newLogger(stderr, f.logFormat)
	if err != nil {
		return err
	}

	journalPath, reportPath, statePath, err := f.paths(mode, cfg, csvPath, stderr)
	if err != nil {
		return err
	}
	conn, err := f.connect(ctx, cfg, statePath, mode == batch.Run, logger, stderr)
	if err != nil {
		return err
	}
	defer conn.stop()

	if mode == batch.Run && !f.useEmulator() && !f.yes {
		if err := confirm(stdin, stderr, fmt.Sprintf("Create accounts in %s from %s?", cfg.Domain, csvPath)); err != nil {
			return err
		}
	}

	j, cleanup, err := openJournal(ctx, mode, journalPath, logger)
	if err != nil {
		return journalError(name, err)
	}
	defer cleanup()

	failpoint, err := failpointFromEnv()
	if err != nil {
		return err
	}
	progress := newProgress(stderr, logger, quiet)
	abort, stopAbort := abortOnSecondSignal(ctx)
	defer stopAbort()
	job := &batch.Job{
		Config:     cfg,
		InputPath:  csvPath,
		ReportPath: reportPath,
		Journal:    j,
		Directory:  conn.client,
		Target:     conn.target,
		Protected:  report.JournalFiles(journalPath),
		Mode:       mode,
		Force:      f.force,
		Strict:     f.strict,
		MaxLeavers: f.maxLeavers,
		Abort:      abort,
		Stats:      conn.client.Stats,
		Logger:     logger,
		Progress:   progress,
		Failpoint:  failpoint,
	}
	summary, err := job.Run(ctx)
	if summary != nil {
		printSummary(stderr, summary, csvPath, conn.name, journalPath)
		if mode == batch.Plan {
			printPlan(stdout, summary)
		}
	}
	return jobError(name, summary, err)
}

// jobError maps what a job returned to what the command returns: a usage
// error (exit 2, with a hint) for everything that stopped it before it
// changed anything, its own errors for the other exit codes.
func jobError(name string, summary *batch.Summary, err error) error {
	var changed *batch.ConfigChangedError
	var header *input.HeaderError
	var encoding *input.EncodingError
	var creds *directory.CredentialsError
	var wrong *journal.WrongDirectoryError
	var unsafe *report.UnsafeOutputError
	switch {
	case errors.As(err, &creds):
		// The first calls read (the snapshot): nothing was changed.
		return withHint(usageErrorf("%s: %v", name, err), "see \"Credentials\" in the README; nothing was changed")
	case errors.As(err, &wrong):
		return withHint(usageErrorf("%s: %v", name, err), "give the journal of this directory with --journal (or leave --journal out for its default), or the directory flags of the journal's own; nothing was changed")
	case errors.As(err, &unsafe):
		return withHint(usageErrorf("%s: %v", name, err), "choose another --report; nothing was changed")
	case errors.As(err, new(*batch.MoveToMissingError)):
		return withHint(usageErrorf("%s: %v", name, err), "create the org unit, or set orgUnit.createMissing: true")
	case errors.As(err, new(*batch.FullNeedsIDError)):
		return withHint(usageErrorf("%s: %v", name, err), "add the people's IDs as a column (map it with columns: in the config), or run without --full")
	case errors.As(err, new(*batch.LeaverLimitError)):
		return withHint(usageErrorf("%s: %v", name, err),
			"check that the file is complete; if these people have left, give --max-leavers N for this run (or raise leavers.maxCount / leavers.maxPercent)")
	case errors.As(err, new(*batch.UnknownFieldsError)):
		return withHint(usageErrorf("%s: %v", name, err), "fix the pattern or template, or name the column in the config's columns; nothing was changed")
	case errors.As(err, &changed):
		return withHint(usageErrorf("%s: %v", name, err), "give --force to resume with the new config, or put the old config back")
	case errors.As(err, &header):
		return withHint(usageErrorf("%s: %v", name, err), "fix the CSV header or map the column with columns: in the config; nothing was changed")
	case errors.As(err, &encoding):
		return withHint(usageErrorf("%s: %v", name, err), encodingHint(encoding))
	case errors.As(err, new(*batch.NothingChangedError)):
		hint := "nothing was changed in the directory; fix the cause and run the same command again"
		if sys, ok := directory.AsSystemic(err); ok {
			hint = sys.Fix + "; nothing was changed in the directory"
		}
		return withHint(usageErrorf("%s: %v", name, err), hint)
	case errors.As(err, new(*batch.DirectoryStoppedError)):
		sys, _ := directory.AsSystemic(err)
		return &stoppedByDirectoryError{err: err, fix: sys.Fix}
	case err != nil:
		return err
	case summary.Failed() > 0:
		return &rowsFailedError{failed: summary.Failed(), total: summary.Total(), report: summary.ReportPath}
	}
	return nil
}

// paths returns the files of a job: its journal (the directory's, by
// default), its report (next to the CSV, by default) and the embedded
// emulator's directory (next to the journal).
func (f *jobFlags) paths(mode batch.Mode, cfg batch.Config, csvPath string, stderr io.Writer) (journalPath, reportPath, statePath string, err error) {
	where, err := f.directoryOf(cfg.Domain)
	if err != nil {
		return "", "", "", err
	}
	journalPath, err = resolveJournal(f.stateDir, f.journal, where)
	if err != nil {
		return "", "", "", err
	}
	if f.journal == "" {
		if legacy, ok := legacyJournal(csvPath); ok {
			fmt.Fprintf(stderr, "provision: note: %s was kept by an earlier provision next to the input; journals now live one per directory (%s)\n", legacy, journalPath)
			fmt.Fprintf(stderr, "provision: hint: give --journal %s to go on with that one\n", legacy)
		}
	}
	reportPath = f.report
	if reportPath == "" {
		reportPath = strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + ".report.csv"
		if mode == batch.Plan {
			reportPath = strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + ".plan.csv"
		}
	}
	statePath = f.emulatorState
	if statePath == "" {
		statePath = strings.TrimSuffix(journalPath, filepath.Ext(journalPath)) + ".emulator.json"
	}
	return journalPath, reportPath, statePath, nil
}

// registerJournalFlags registers --state-dir and --journal.
func registerJournalFlags(fs *flagSet, stateDir, journal *string) {
	fs.StringVar(stateDir, stateDirFlag, "", "`folder` of the journals, one per directory (default $XDG_STATE_HOME/provision or ~/.local/state/provision)")
	fs.StringVar(journal, "journal", "", "journal `file` (default: the directory's journal in the state folder)")
}

// resolveJournal returns the journal to use: the one given, or the
// default journal of directory where in the state folder.
func resolveJournal(stateFlag, given string, where journal.Directory) (string, error) {
	if given != "" {
		return given, nil
	}
	state, err := stateDir(stateFlag)
	if err != nil {
		return "", err
	}
	return defaultJournalPath(state, where), nil
}

// stoppedByDirectoryError means the directory refused the job itself
// after it had changed something: exit 5, and run it again after the fix.
type stoppedByDirectoryError struct {
	err error
	fix string
}

func (e *stoppedByDirectoryError) Error() string { return e.err.Error() }
func (e *stoppedByDirectoryError) Unwrap() error { return e.err }

// rowsFailedError means the job ran to its end and some rows failed.
type rowsFailedError struct {
	failed, total int
	report        string
}

func (e *rowsFailedError) Error() string {
	return fmt.Sprintf("%d of %d rows failed; the report %s says why for each", e.failed, e.total, e.report)
}

// openJournal opens the job's journal. Plan works on a copy, so that it
// sees what the job holds and changes none of it.
func openJournal(ctx context.Context, mode batch.Mode, path string, logger *slog.Logger) (*journal.Journal, func(), error) {
	if mode == batch.Run {
		j, err := journal.Open(ctx, path, journal.Options{Logger: logger})
		if err != nil {
			return nil, nil, err
		}
		return j, func() { j.Close() }, nil
	}
	scratch, err := os.MkdirTemp("", "provision-plan-")
	if err != nil {
		return nil, nil, fmt.Errorf("plan: %w", err)
	}
	copyPath := filepath.Join(scratch, "plan.journal")
	if _, err := os.Stat(path); err == nil {
		// Read-only: another process may be running a job on it.
		src, err := journal.Open(ctx, path, journal.Options{ReadOnly: true, CopyOnly: true, Logger: logger})
		if err != nil {
			os.RemoveAll(scratch)
			return nil, nil, err
		}
		err = src.CopyTo(ctx, copyPath)
		src.Close()
		if err != nil {
			os.RemoveAll(scratch)
			return nil, nil, err
		}
	}
	j, err := journal.Open(ctx, copyPath, journal.Options{Scratch: true, CopyOf: path, Logger: logger})
	if err != nil {
		os.RemoveAll(scratch)
		return nil, nil, err
	}
	return j, func() { j.Close(); os.RemoveAll(scratch) }, nil
}

// confirm asks a yes/no question on a terminal. Without one, it refuses:
// an unattended run must say --yes.
func confirm(stdin io.Reader, stderr io.Writer, question string) error {
	if !isTerminal(stdin) {
		return withHint(usageErrorf("run: refusing to change the directory without confirmation"), "give --yes to run unattended, as in a CronJob")
	}
	fmt.Fprintf(stderr, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return usageErrorf("run: not confirmed; nothing was changed")
}
