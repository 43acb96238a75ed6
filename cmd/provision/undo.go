package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

func runUndo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("undo", "[--run N] [--delete] [--yes] [--config FILE] [--domain DOMAIN] [directory flags]", stderr)
	var f jobFlags
	fs.StringVar(&f.config, "config", "", "YAML config `file` (domain, leavers limits)")
	fs.StringVar(&f.domain, "domain", "", "Workspace `domain` of the journal's directory")
	f.directoryFlags.register(fs, "next to the journal")
	registerJournalFlags(fs, &f.stateDir, &f.journal)
	fs.StringVar(&f.report, "report", "", "undo report `file` (default: next to the journal, undo-run-N.report.csv)")
	fs.StringVar(&f.logFormat, "log-format", "", "log format: text or json (default: text on a terminal, json otherwise)")
	fs.BoolVar(&f.yes, "yes", false, "do not ask for confirmation (needed without a terminal)")
	runID := fs.Int64("run", 0, "the `run` to undo (default: the last run that is not an undo; provision status lists them)")
	del := fs.Bool("delete", false, "delete the run's accounts, and the groups and org units it created when empty, instead of suspending the accounts")
	maxAccounts := fs.Int("max", 0, "let the undo touch up to `N` accounts, above the config's leavers.maxCount")
	args, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(args) != 0 {
		return usageErrorf("undo: takes no arguments (got %q)", args)
	}
	cfg, err := f.loadConfig(fs)
	if err != nil {
		return err
	}
	logger, _, err := newLogger(stderr, f.logFormat)
	if err != nil {
		return err
	}
	journalPath, _, statePath, err := f.paths(batch.Run, cfg, "", io.Discard)
	if err != nil {
		return err
	}
	conn, err := f.connect(ctx, cfg, statePath, true, logger, stderr)
	if err != nil {
		return err
	}
	defer conn.stop()
	j, err := journal.Open(ctx, journalPath, journal.Options{Logger: logger})
	if err != nil {
		return journalError("undo", err)
	}
	defer j.Close()
	u := &batch.Undo{
		Config: cfg, Journal: j, Directory: conn.client, Target: conn.target,
		Run: *runID, Delete: *del, Max: *maxAccounts, ReportPath: f.report,
		Protected: report.JournalFiles(journalPath), Logger: logger,
		Confirm: func(plan *batch.UndoPlan) error {
			printUndoPlan(stdout, plan, conn.name)
			if f.yes {
				return nil
			}
			return confirm(stdin, stderr, "Go ahead?")
		},
	}
	if u.ReportPath == "" {
		// The run to undo is known only once the journal is read: the
		// default report is named after it, next to the journal.
		u.ReportPath = filepath.Join(filepath.Dir(journalPath), "undo.report.csv")
	}
	plan, counts, err := u.Do(ctx)
	if plan != nil && counts != nil {
		fmt.Fprintf(stderr, "\nprovision undo of run %d against %s\n", plan.Run.ID, conn.name)
		for _, status := range []string{report.StatusSuspended, report.StatusDeleted, report.StatusFailed} {
			if n := counts[status]; n > 0 {
				fmt.Fprintf(stderr, "  %-10s %6d\n", status, n)
			}
		}
		fmt.Fprintf(stderr, "  report     %s\n", shownPath(u.ReportPath))
	}
	return undoError(err, counts)
}

// printUndoPlan says what an undo will do, before it does it.
func printUndoPlan(w io.Writer, plan *batch.UndoPlan, target string) {
	verb := "suspend"
	if plan.Delete {
		verb = "delete"
	}
	fmt.Fprintf(w, "undo of run %d (%s, started %s) against %s:\n", plan.Run.ID, shownPath(plan.Run.InputPath),
		plan.Run.Started.Format("2006-01-02 15:04"), target)
	fmt.Fprintf(w, "  %s the %d accounts it created:\n", verb, len(plan.Accounts))
	for _, a := range plan.Accounts {
		fmt.Fprintf(w, "    %s\n", a)
	}
	if plan.Memberships > 0 {
		fmt.Fprintf(w, "  remove the %d memberships it added\n", plan.Memberships)
	}
	for _, g := range plan.Groups {
		fmt.Fprintf(w, "  delete the group %s it created, if empty\n", g)
	}
	for _, ou := range plan.OrgUnits {
		fmt.Fprintf(w, "  delete the org unit %s it created, if empty\n", ou)
	}
	fmt.Fprintln(w, "  nothing else: accounts it adopted or updated, and everything other runs did, stay as they are")
	if plan.Suspended > 0 {
		fmt.Fprintf(w, "  (it also suspended %d leavers: undo does not lift those; the file that lists them does)\n", plan.Suspended)
	}
}

// undoError maps what an undo returned to what the command returns.
func undoError(err error, counts map[string]int) error {
	var wrong *journal.WrongDirectoryError
	switch {
	case err == nil && counts[report.StatusFailed] > 0:
		return &rowsFailedError{failed: counts[report.StatusFailed], total: counts[report.StatusFailed] + counts[report.StatusSuspended] + counts[report.StatusDeleted]}
	case err == nil:
		return nil
	case errors.As(err, new(*batch.UndoLimitError)):
		return withHint(usageErrorf("undo: %v", err), "check the run is the one to undo (provision status lists them), then give --max N")
	case errors.As(err, new(*batch.UndoneError)):
		return usageErrorf("undo: %v", err)
	case errors.As(err, new(*batch.UndoRefusedError)):
		return withHint(usageErrorf("undo: %v", err), "provision status lists the journal's runs; give --run N")
	case errors.As(err, &wrong):
		return withHint(usageErrorf("undo: %v", err), "give the journal of this directory with --journal, or the directory flags of the journal's own; nothing was changed")
	case errors.Is(err, batch.ErrInterrupted):
		return err
	}
	return jobError("undo", nil, err)
}
