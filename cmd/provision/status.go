package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/journal"
)

// journalPath resolves the journal of status and report: --journal, or the
// default journal of the CSV file given as the argument.
func journalPath(name string, given string, args []string) (string, error) {
	switch {
	case given != "" && len(args) == 0:
		return given, nil
	case given == "" && len(args) == 1:
		return defaultJournal(args[0]), nil
	}
	return "", withHint(usageErrorf("%s: give the journal with --journal, or the CSV file it belongs to", name),
		fmt.Sprintf("provision %s --journal students.journal", name))
}

// openForReading opens a journal read-only, with plain-words errors.
func openForReading(ctx context.Context, name, path string) (*journal.Journal, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrorf("%s: there is no journal at %s; no job has run with it yet", name, path)
	}
	j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return j, nil
}

func runStatus(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "[--journal FILE | FILE.csv]", stderr)
	given := fs.String("journal", "", "journal `file`")
	args, err := fs.parse(args)
	if err != nil {
		return err
	}
	path, err := journalPath("status", *given, args)
	if err != nil {
		return err
	}
	j, err := openForReading(ctx, "status", path)
	if err != nil {
		return err
	}
	defer j.Close()

	fmt.Fprintf(stdout, "journal   %s\n", j.Path())
	if owner, held, err := j.Lease(ctx); err != nil {
		return err
	} else if held && owner.Expires.After(time.Now()) {
		fmt.Fprintf(stdout, "held by   %s since %s (last heartbeat %s ago)\n", owner, owner.Acquired.Format(time.RFC3339),
			time.Since(owner.Heartbeat).Round(time.Second))
	} else if held {
		fmt.Fprintf(stdout, "held by   nobody (%s stopped without releasing it at %s)\n", owner, owner.Heartbeat.Format(time.RFC3339))
	} else {
		fmt.Fprintln(stdout, "held by   nobody")
	}
	run, found, err := j.LastRun(ctx)
	if err != nil {
		return err
	}
	if !found {
		fmt.Fprintln(stdout, "no run yet")
		return nil
	}
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
	return nil
}

func runReport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "[--journal FILE | FILE.csv] [-o FILE]", stderr)
	given := fs.String("journal", "", "journal `file`")
	out := fs.String("o", "", "write the report to `file` (mode 0600) instead of standard output")
	args, err := fs.parse(args)
	if err != nil {
		return err
	}
	path, err := journalPath("report", *given, args)
	if err != nil {
		return err
	}
	j, err := openForReading(ctx, "report", path)
	if err != nil {
		return err
	}
	defer j.Close()
	run, found, err := j.LastRun(ctx)
	if err != nil {
		return err
	}
	if !found {
		return usageErrorf("report: the journal %s holds no run yet", path)
	}
	w := stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		defer f.Close()
		w = f
	}
	export, err := batch.NewReportExport(w)
	if err != nil {
		return err
	}
	err = j.Rows(ctx, func(r journal.Row) error {
		if r.RunID != run.ID {
			return nil
		}
		return export.Write(r)
	})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return export.Flush()
}
