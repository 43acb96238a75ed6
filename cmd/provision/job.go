package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

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
}

// loadConfig reads the config file, if any, and lays the flags that were
// given (on the command line or in the environment) over it.
func (f *jobFlags) loadConfig(fs *flagSet) (batch.Config, error) {
	var cfg batch.Config
	if f.config != "" {
		c, err := batch.LoadConfig(f.config)
		if err != nil {
			return cfg, withHint(usageErrorf("%v", err), "see the config reference in the README")
		}
		cfg = c
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
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

	where, err := f.directoryOf(cfg.Domain)
	if err != nil {
		return err
	}
	journalPath, err := resolveJournal(f.stateDir, f.journal, where)
	if err != nil {
		return err
	}
	if f.journal == "" {
		if legacy, ok := legacyJournal(csvPath); ok {
			fmt.Fprintf(stderr, "provision: note: %s was kept by an earlier provision next to the input; journals now live one per directory (%s)\n", legacy, journalPath)
			fmt.Fprintf(stderr, "provision: hint: give --journal %s to go on with that one\n", legacy)
		}
	}
	reportPath := f.report
	if reportPath == "" {
		reportPath = strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + ".report.csv"
		if mode == batch.Plan {
			reportPath = strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + ".plan.csv"
		}
	}
	statePath := f.emulatorState
	if statePath == "" {
		statePath = strings.TrimSuffix(journalPath, filepath.Ext(journalPath)) + ".emulator.json"
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

// A connection is the Directory API a command talks to.
type connection struct {
	client *directory.Client
	target journal.Directory // which directory it is, as journals record it
	name   string            // what it is, for the summary
	stop   func()
}

// connect returns the Directory API to talk to: Google, a configured
// endpoint, or an emulator started in this process, which keeps its
// directory in statePath (saved at the end when save is set).
func (f *directoryFlags) connect(ctx context.Context, cfg batch.Config, statePath string, save bool, logger *slog.Logger, stderr io.Writer) (*connection, error) {
	target, err := f.directoryOf(cfg.Domain)
	if err != nil {
		return nil, err
	}
	conn := &connection{target: target, name: "Google Workspace", stop: func() {}}
	endpoint := f.endpoint
	if f.useEmulator() {
		emu, err := startEmulator(ctx, emulatorConfig{
			domain:    cfg.Domain,
			users:     f.emulatorUsers,
			quota:     cfg.Quota,
			statePath: statePath,
			save:      save,
			logger:    logger,
		})
		if err != nil {
			return nil, err
		}
		conn.stop = emu.stop
		conn.target.Customer = emu.customer
		endpoint = emu.url
		conn.name = "the embedded emulator (nothing in Google Workspace changes)"
		if !f.emulator {
			fmt.Fprintln(stderr, "provision: note: no Google credentials are configured, so this runs against the embedded Directory API emulator")
			fmt.Fprintln(stderr, "provision: hint: give --subject and --credentials (or --impersonate) to work on your Google Workspace")
		}
	} else if endpoint != "" {
		conn.name = endpoint
	}
	access := directory.GroupRead
	if cfg.Groups.CreatesGroups() {
		access = directory.GroupCreate
	}
	where := endpoint
	if f.useEmulator() {
		where = "the embedded emulator"
	}
	conn.client, err = f.newClient(ctx, directory.Config{
		Endpoint:        endpoint,
		Domain:          cfg.Domain,
		CredentialsFile: f.credentials,
		Subject:         f.subject,
		Impersonate:     f.impersonate,
		Groups:          access,
		QuotaPerMinute:  cfg.Quota,
		Logger:          logger,
	}, where, stderr)
	if err != nil {
		conn.stop()
		return nil, err
	}
	return conn, nil
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
	j, err := journal.Open(ctx, copyPath, journal.Options{Scratch: true, Logger: logger})
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
	for _, status := range []string{report.StatusCreated, report.StatusConverged, report.StatusSkipped, report.StatusPlanned, report.StatusFailed} {
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
	}
	for _, warning := range s.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", input.Visible(warning))
	}
	if s.NoIDColumn {
		fmt.Fprintln(w, "  note: the file has no ID column, so each row is known by its content; a changed row counts as a new person")
	}
	fmt.Fprintf(w, "  report     %s (readable only by you", s.ReportPath)
	if s.Mode == batch.Run && s.Statuses[report.StatusCreated] > 0 {
		fmt.Fprint(w, "; it holds initial passwords: hand them out, then delete it")
	}
	fmt.Fprintln(w, ")")
	if s.Rotated != "" {
		fmt.Fprintf(w, "  earlier report kept as %s\n", s.Rotated)
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
	if s.Mode == batch.Run && s.Halted == nil && total > 0 && s.Statuses[report.StatusCreated] == 0 && s.Statuses[report.StatusConverged] == 0 && s.Failed() == 0 {
		fmt.Fprintln(w, "  nothing to do: every row was done in an earlier run")
	}
}

// printPlan writes what run would create besides accounts.
func printPlan(w io.Writer, s *batch.Summary) {
	fmt.Fprintf(w, "%d rows planned, %d failed; every username is in %s\n", s.Statuses[report.StatusPlanned], s.Failed(), s.ReportPath)
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

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
