package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
)

// Exit codes, as documented in the README.
const (
	exitOK          = 0 // every row done or skipped
	exitRowsFailed  = 1 // the job ran, some rows failed
	exitUsage       = 2 // usage or config error, before any side effect
	exitInterrupted = 3 // interrupted or stopped part-way; run the same command again to resume
	exitLocked      = 4 // the journal is held by another process
	exitStopped     = 5 // stopped part-way by a systemic refusal of the directory; fix it and run again
)

// command is one subcommand of provision.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// commands lists the subcommands in the order --help shows them.
func commands() []command {
	return append([]command{
		{"run", "create, place and group the accounts of a CSV file", runRun},
		{"plan", "show what run would do, changing nothing", runPlan},
		{"undo", "take back what a run did: suspend (or delete) the accounts it created", runUndo},
		{"status", "show what a journal holds", runStatus},
		{"report", "export the report of the last run from its journal", runReport},
		{"suggest", "print available usernames for one person", runSuggest},
		{"serve", "serve the REST API and operator page that suggest names and create accounts one at a time", runServe},
		{"emulator", "serve the Directory API emulator", runEmulator},
	}, testCommands...)
}

// testCommands are the commands of test builds (the provisiontest build
// tag), such as bench: the release binary does not have them.
var testCommands []command

// run is main without the process: it parses args, runs one subcommand and
// returns its error. Tests call it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usageErrorf("no command given")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	printUsage(stderr)
	return usageErrorf("unknown command %q", name)
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: provision <command> [flags] [args]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'provision <command> --help' for the flags of a command.\n")
}

// usageError is a mistake in the command line or the configuration. It is
// reported before any side effect, with exit code 2.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// withHint attaches a hint line to a usage error.
func withHint(err error, hint string) error {
	var u *usageError
	if errors.As(err, &u) {
		return &usageError{msg: u.msg, hint: hint}
	}
	return &usageError{msg: err.Error(), hint: hint}
}

// exitCode reports err on stderr in plain words and maps it to the exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	code := exitRowsFailed
	var hint string
	var u *usageError
	var held *journal.HeldError
	var stopped *stoppedByDirectoryError
	switch {
	case errors.As(err, &u):
		code, hint = exitUsage, u.hint
	case errors.As(err, &held):
		code = exitLocked
		hint = "wait for that process to finish or stop it; 'provision status' shows the holder"
	case errors.Is(err, context.Canceled):
		code = exitInterrupted
		hint = "run the same command again to resume"
	case errors.As(err, &stopped):
		code = exitStopped
		hint = stopped.fix + "; then run the same command again: it does the rest"
	case errors.As(err, new(*batch.StoppedError)):
		code = exitInterrupted
		hint = "the journal holds every intent: fix the cause, then run the same command again to resume"
	}
	fmt.Fprintf(stderr, "provision: error: %s\n", visibleLines(strings.TrimSuffix(err.Error(), ".")))
	if hint != "" {
		fmt.Fprintf(stderr, "provision: hint: %s\n", visibleLines(hint))
	}
	return code
}

// visibleLines returns a message with every hidden character written out
// as its code point, line by line: an error may quote a value from the
// input, and an ESC in it would otherwise rewrite the terminal.
func visibleLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = input.Visible(l)
	}
	return strings.Join(lines, "\n")
}
