package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// journalFlags find the journal of status and report: --journal, or the
// default journal of the directory that --config, --domain and the
// directory flags name, as run and plan find it.
type journalFlags struct {
	directoryFlags
	config   string
	domain   string
	stateDir string
	journal  string
}

func (f *journalFlags) register(fs *flagSet) {
	fs.StringVar(&f.config, "config", "", "YAML config `file` (for the domain)")
	fs.StringVar(&f.domain, "domain", "", "Workspace `domain` whose journal to read")
	f.directoryFlags.register(fs, "next to the journal")
	registerJournalFlags(fs, &f.stateDir, &f.journal)
}

// path returns the journal's path. name is the command, for messages.
func (f *journalFlags) path(name string, args []string) (string, error) {
	if len(args) > 0 {
		return "", withHint(usageErrorf("%s: takes no file: journals are kept one per directory, not one per CSV file", name),
			fmt.Sprintf("provision %s --domain example.org (with run's directory flags), or provision %s --journal FILE", name, name))
	}
	if f.journal != "" {
		return f.journal, nil
	}
	domain := f.domain
	if domain == "" && f.config != "" {
		cfg, err := configFile(name, f.config)
		if err != nil {
			return "", err
		}
		domain = cfg.Domain
	}
	state, err := stateDir(f.stateDir)
	if err != nil {
		return "", err
	}
	if domain == "" {
		hint := fmt.Sprintf("provision %s --domain example.org", name)
		if found := journalsIn(state); len(found) > 0 {
			hint += "; the journals in " + state + " are " + strings.Join(found, ", ")
		}
		return "", withHint(usageErrorf("%s: give --domain (or --config) with the directory flags run used, or --journal", name), hint)
	}
	where, err := f.directoryOf(domain)
	if err != nil {
		return "", err
	}
	return defaultJournalPath(state, where), nil
}

// openForReading opens a journal read-only, with plain-words errors.
func openForReading(ctx context.Context, name, path string) (*journal.Journal, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrorf("%s: there is no journal at %s; no job has run with it yet", name, path)
	}
	j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
	if err != nil {
		return nil, journalError(name, err)
	}
	return j, nil
}

// journalError maps an error of opening a journal: one that cannot be
// used is a usage error (exit 2: nothing was done), one held by another
// process keeps its own exit code.
func journalError(name string, err error) error {
	var unusable *journal.UnusableError
	if errors.As(err, &unusable) {
		hint := unusable.Hint
		if hint == "" {
			hint = "check --journal, or that the disk is there and writable; nothing was changed"
		}
		return withHint(usageErrorf("%s: %v", name, err), hint)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func runStatus(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "[--journal FILE | --domain DOMAIN [directory flags]]", stderr)
	var f journalFlags
	f.register(fs)
	args, err := fs.parse(args)
	if err != nil {
		return err
	}
	path, err := f.path("status", args)
	if err != nil {
		return err
	}
	j, err := openForReading(ctx, "status", path)
	if err != nil {
		return err
	}
	defer j.Close()

	fmt.Fprintf(stdout, "journal   %s\n", j.Path())
	if d, found, err := j.Directory(ctx); err != nil {
		return err
	} else if found {
		fmt.Fprintf(stdout, "directory %s\n", d)
	}
	owner, held, err := j.Lease(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "held by   %s\n", holderState(owner, held, time.Now()))
	runs, err := j.Runs(ctx)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintln(stdout, "no run yet")
		return nil
	}
	run := runs[len(runs)-1]
	fmt.Fprintf(stdout, "last run  %d of %s, started %s, %d invocation(s)\n", run.ID, run.InputPath, run.Started.Format(time.RFC3339), run.Invocations)
	if run.Finished() {
		fmt.Fprintf(stdout, "          finished %s: %s\n", run.Ended.Format(time.RFC3339), run.Outcome)
	} else {
		fmt.Fprintln(stdout, "          unfinished: run the same command again to resume it")
	}
	fmt.Fprintf(stdout, "report    %s\n", run.ReportPath)
	if snap, err := j.Snapshot(ctx); err == nil && !snap.Taken.IsZero() {
		fmt.Fprintf(stdout, "snapshot  %d names of %s, taken %s\n", snap.Names, snap.Domain, snap.Taken.Format(time.RFC3339))
	}
	counts, err := j.CountStates(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "rows")
	total := 0
	for _, s := range journal.States {
		if n := counts[s]; n > 0 {
			fmt.Fprintf(stdout, "  %-16s %7d\n", s, n)
			total += n
		}
	}
	fmt.Fprintf(stdout, "  %-16s %7d\n", "total", total)
	inflight, err := j.InFlight(ctx)
	if err != nil {
		return err
	}
	if len(inflight) > 0 {
		fmt.Fprintf(stdout, "in flight %d side effects will be checked against the directory when the job resumes\n", len(inflight))
	}
	printRuns(stdout, runs)
	return nil
}

// printRuns lists the runs a journal has seen, newest first: every file
// run for the directory.
func printRuns(w io.Writer, runs []journal.Run) {
	fmt.Fprintln(w, "runs (newest first)")
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		outcome := "unfinished"
		if r.Finished() {
			outcome = r.Outcome
		} else if i < len(runs)-1 {
			outcome = "unfinished, left for a newer file"
		}
		fmt.Fprintf(w, "  %4d  %s  %s  %s\n", r.ID, r.Started.Format(time.RFC3339), input.Visible(r.InputPath), outcome)
	}
}

// holderState says who holds a journal: a live process, a process on this
// host that is gone, or a lease that lapsed.
func holderState(o journal.Owner, held bool, now time.Time) string {
	if !held {
		return "nobody"
	}
	host, _ := os.Hostname()
	switch {
	case o.Host == host && !processAlive(o.PID):
		return fmt.Sprintf("nobody (%s is gone; it stopped without releasing the journal at %s)", o, o.Heartbeat.Format(time.RFC3339))
	case !o.Expires.After(now):
		return fmt.Sprintf("nobody (the lease of %s lapsed at %s, without a heartbeat since %s)", o, o.Expires.Format(time.RFC3339), o.Heartbeat.Format(time.RFC3339))
	}
	return fmt.Sprintf("%s since %s (last heartbeat %s ago)", o, o.Acquired.Format(time.RFC3339), now.Sub(o.Heartbeat).Round(time.Second))
}

// processAlive reports whether a process with pid runs on this host.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func runReport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "[--journal FILE | --domain DOMAIN [directory flags]] [--run N] [-o FILE]", stderr)
	var f journalFlags
	f.register(fs)
	out := fs.String("o", "", "write the report to a new `file` (mode 0600) instead of standard output")
	runID := fs.Int64("run", 0, "the `run` to export (default: the last; provision status lists them)")
	args, err := fs.parse(args)
	if err != nil {
		return err
	}
	path, err := f.path("report", args)
	if err != nil {
		return err
	}
	j, err := openForReading(ctx, "report", path)
	if err != nil {
		return err
	}
	defer j.Close()
	runs, err := j.Runs(ctx)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return usageErrorf("report: the journal %s holds no run yet", path)
	}
	run := runs[len(runs)-1]
	if *runID != 0 {
		found := false
		for _, r := range runs {
			if r.ID == *runID {
				run, found = r, true
			}
		}
		if !found {
			return withHint(usageErrorf("report: the journal %s holds no run %d", path, *runID), "provision status lists the runs")
		}
	}
	w := stdout
	if *out != "" {
		// Never over the journal, a run's report (it may hold passwords
		// and an unfinished run goes on writing it) or anything else.
		protected := append(report.JournalFiles(j.Path()), report.RunReports(runs)...)
		file, kept, err := report.CreateOutput(*out, protected)
		if err != nil {
			var unsafe *report.UnsafeOutputError
			if errors.As(err, &unsafe) {
				return withHint(usageErrorf("report: %v", err), "choose another -o file")
			}
			return fmt.Errorf("report: %w", err)
		}
		defer file.Close()
		if kept != "" {
			fmt.Fprintf(stderr, "provision: note: the earlier export %s was kept as %s\n", *out, kept)
		}
		w = file
	}
	export, err := report.NewExport(w)
	if err != nil {
		return err
	}
	err = batch.ExportRun(ctx, j, run.ID, export.Write)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := export.Flush(); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && w != stdout {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return f.Close()
	}
	return nil
}
