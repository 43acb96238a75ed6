// Command provision onboards people into Google Workspace in bulk: it reads
// a CSV of new users, gives each a collision-free username, creates the
// account through the Admin SDK Directory API, places it in its org unit and
// adds it to its groups, journaling every step so that a rerun resumes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}
