package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// runEmulator serves the Directory API emulator until ctx is cancelled
// (SIGINT or SIGTERM), then saves its state when --state is given.
func runEmulator(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("emulator", "[flags]", stderr)
	addr := fs.String("addr", "127.0.0.1:8085", "`address` to listen on; keep it loopback, the emulator has no authentication")
	domain := fs.String("domain", "example.com", "the account's primary `domain`")
	users := fs.Int("users", 0, "generate `N` users, with aliases, org units and groups, unless --state holds a directory")
	quota := fs.Int("quota", 0, "`requests` per minute before answering 403 userRateLimitExceeded; 0 is unlimited, Google's default is 2400")
	burst := fs.Int("quota-burst", 0, "`requests` that may arrive at once (default: one second of the quota)")
	latency := fs.String("latency", "", "answer latency per method: a `spec` of method=median[~jitter],\nsuch as users.insert=120ms~40ms,members.insert=80ms,*=30ms")
	faults := fs.String("faults", "", "faults to inject: a `spec` of kind=fraction or kind=duration,\nsuch as 503=0.05,403=0.02,429=0.02,412=0.01,member404=2s,drop=0.01;\nkinds: 503, 403, 429, quota, 412, window, member404, searchlag, drop;\nand refusals answered every time: unauthorized, accessNotConfigured,\nforbidden, domainNotFound (=all, =writes or =METHOD such as\nmembers.insert; all when left out), userLimit=USERS")
	seed := fs.Int64("seed", 1, "`seed` of every random choice: ids, faults, latencies, generated users")
	statePath := fs.String("state", "", "JSON `file` to load the directory from at start, if it exists, and save it to at shutdown")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return withHint(usageErrorf("emulator: unexpected argument %q", rest[0]), "the emulator takes flags only")
	}
	if *users < 0 {
		return usageErrorf("emulator: --users %d is negative", *users)
	}
	opts := emulator.Options{Domain: *domain, QuotaPerMinute: *quota, QuotaBurst: *burst, Seed: *seed}
	if opts.Latency, err = emulator.ParseLatency(*latency); err != nil {
		return withHint(usageErrorf("emulator: --latency: %v", err), "give method=median[~jitter] pairs, such as users.insert=120ms~40ms,*=30ms")
	}
	if opts.Faults, err = emulator.ParseFaults(*faults); err != nil {
		return withHint(usageErrorf("emulator: --faults: %v", err), "give kind=fraction or kind=duration pairs, such as 503=0.05,member404=2s, or refusals such as forbidden=writes,userLimit=250")
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(stderr, nil)
	default:
		return usageErrorf("emulator: --log-format %q: want text or json", *logFormat)
	}
	logger := slog.New(handler)
	opts.Logger = logger
	srv, err := emulator.New(opts)
	if err != nil {
		return usageErrorf("%v", err)
	}

	loaded, err := loadEmulatorState(srv, *statePath)
	if err != nil {
		return withHint(usageErrorf("emulator: %v", err), "fix or move the state file away to start from an empty directory")
	}
	switch {
	case loaded && *users > 0:
		logger.Info("state loaded; --users not generated", "state", *statePath, "users", srv.UserCount())
	case *users > 0:
		if err := srv.Generate(*users); err != nil {
			return fmt.Errorf("emulator: %w", err)
		}
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	if ip := l.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		logger.Warn("listening beyond this machine: anyone who reaches it can read and change the directory", "addr", l.Addr().String())
	}
	fmt.Fprintf(stdout, "emulator: serving %s at http://%s/ (%d users)\n", srv.Domain(), l.Addr(), srv.UserCount())
	logger.Info("emulator serving", "addr", l.Addr().String(), "domain", srv.Domain(), "customer", srv.CustomerID(),
		"users", srv.UserCount(), "quota", *quota, "latency", *latency, "faults", *faults, "seed", *seed)

	serveErr := srv.Serve(ctx, l)
	if *statePath == "" {
		return serveErr
	}
	// saveState (embedded.go) writes a 0600 temporary file and renames it.
	if err := saveState(srv, *statePath); err != nil {
		return errors.Join(serveErr, fmt.Errorf("emulator: save state to %s: %w", *statePath, err))
	}
	logger.Info("state saved", "state", *statePath, "users", srv.UserCount())
	return serveErr
}

// loadEmulatorState loads the state file at path into srv and reports
// whether there was one.
func loadEmulatorState(srv *emulator.Server, path string) (bool, error) {
	if path == "" {
		return false, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := srv.LoadState(bufio.NewReader(f)); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}
