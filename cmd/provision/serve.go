package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/service"
)

// serveFlags are the flags of provision serve.
type serveFlags struct {
	directoryFlags
	config         string
	domain         string
	patterns       listFlag
	quota          int
	addr           string
	suggestions    int
	hold           time.Duration
	stateDir       string
	journal        string
	origins        listFlag
	apiKeyFile     string
	tlsCert        string
	tlsKey         string
	plainHTTP      bool
	clientIPHeader string
	rateLimit      int
	logFormat      string
}

func (f *serveFlags) register(fs *flagSet) {
	fs.StringVar(&f.config, "config", "", "YAML config `file` (domain, patterns, templates, and serve: settings)")
	fs.StringVar(&f.domain, "domain", "", "Workspace `domain` the accounts are created in")
	fs.Var(&f.patterns, "pattern", "username `pattern`, tried in order (repeatable; replaces the config's)")
	fs.IntVar(&f.quota, "quota", 0, "Directory API requests per `minute` (default 2400)")
	f.directoryFlags.register(fs, "next to the journal")
	fs.StringVar(&f.addr, "addr", batch.DefaultServeAddr, "`address` to listen on; off loopback it needs --api-key-file and TLS")
	fs.IntVar(&f.suggestions, "suggestions", batch.DefaultServeSuggestions, "names one suggest answers with, 1 to 10")
	fs.DurationVar(&f.hold, "hold", batch.DefaultServeHold, "how long a suggested name stays held")
	fs.StringVar(&f.stateDir, stateDirFlag, "", "`folder` of the journals, one per directory (default $XDG_STATE_HOME/provision or ~/.local/state/provision)")
	fs.StringVar(&f.journal, "journal", "", "the service's journal `file` of holds and creates (default: DOMAIN.serve.journal beside the directory's journal in the state folder)")
	fs.Var(&f.origins, "allow-origin", "browser `origin` allowed to call the API, such as https://intranet.example.org (repeatable;\non a loopback address every origin is allowed when none is given)")
	fs.StringVar(&f.apiKeyFile, "api-key-file", "", "`file` of API keys clients send as Authorization: Bearer KEY, one a line (several for rotation)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate `file` (PEM)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS key `file` (PEM)")
	fs.BoolVar(&f.plainHTTP, "plain-http", false, "serve plain HTTP off loopback: a TLS-terminating proxy (an ingress) is in front")
	fs.StringVar(&f.clientIPHeader, "client-ip-header", "", "`header` a proxy in front sets to the client's address, for the rate limit (X-Forwarded-For)")
	fs.IntVar(&f.rateLimit, "rate-limit", batch.DefaultServeRateLimit, "REST `requests` one client may send a minute")
	fs.StringVar(&f.logFormat, "log-format", "", "log format: text or json (default: text on a terminal, json otherwise)")
}

// loadConfig reads the config file, if any, and lays the flags that were
// given (on the command line or in the environment) over it: a flag's
// default never hides the file's setting.
func (f *serveFlags) loadConfig(fs *flagSet) (batch.Config, error) {
	cfg, err := configFile("serve", f.config)
	if err != nil {
		return cfg, err
	}
	set := fs.given()
	s := &cfg.Serve
	for name, apply := range map[string]func(){
		"domain":           func() { cfg.Domain = f.domain },
		"pattern":          func() { cfg.Patterns = f.patterns },
		"quota":            func() { cfg.Quota = f.quota },
		"addr":             func() { s.Addr = f.addr },
		"suggestions":      func() { s.Suggestions = f.suggestions },
		"hold":             func() { s.Hold = f.hold },
		"journal":          func() { s.Journal = f.journal },
		"allow-origin":     func() { s.AllowOrigins = f.origins },
		"api-key-file":     func() { s.APIKeyFile = f.apiKeyFile },
		"tls-cert":         func() { s.TLSCert = f.tlsCert },
		"tls-key":          func() { s.TLSKey = f.tlsKey },
		"plain-http":       func() { s.PlainHTTP = f.plainHTTP },
		"client-ip-header": func() { s.ClientIPHeader = f.clientIPHeader },
		"rate-limit":       func() { s.RateLimit = f.rateLimit },
	} {
		if set[name] {
			apply()
		}
	}
	// Zero means "the default" in the file; given as a flag it is a
	// mistake, not a wish for the default.
	switch {
	case set["hold"] && f.hold <= 0:
		return cfg, usageErrorf("serve: --hold %s is out of range: use 1s to 24h", f.hold)
	case set["suggestions"] && f.suggestions <= 0:
		return cfg, usageErrorf("serve: --suggestions %d is out of range: use 1 to 10", f.suggestions)
	case set["rate-limit"] && f.rateLimit <= 0:
		return cfg, usageErrorf("serve: --rate-limit %d must be a positive number of requests per minute", f.rateLimit)
	}
	cfg = cfg.WithDefaults()
	cfg.Serve = cfg.Serve.WithDefaults()
	if err := errors.Join(cfg.Validate(), cfg.Serve.Validate()); err != nil {
		return cfg, withHint(usageErrorf("serve: %v", err), "fix the config file or give the setting as a flag")
	}
	return cfg, nil
}

func runServe(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	fs := newFlagSet("serve", "[flags]", stderr)
	var f serveFlags
	f.register(fs)
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return withHint(usageErrorf("serve: unexpected argument %q", rest[0]), "serve takes flags only")
	}
	cfg, err := f.loadConfig(fs)
	if err != nil {
		return err
	}
	keys, err := f.apiKeys(cfg.Serve)
	if err != nil {
		return err
	}
	exposure := service.Exposure{Addr: cfg.Serve.Addr, APIKeys: len(keys), TLS: cfg.Serve.TLSCert != "", PlainHTTP: cfg.Serve.PlainHTTP}
	if err := service.CheckExposure(exposure); err != nil {
		var ee *service.ExposureError
		if errors.As(err, &ee) {
			return withHint(usageErrorf("serve: %s", ee.Msg), ee.Hint)
		}
		return err
	}
	logger, err := serveLogger(stderr, f.logFormat)
	if err != nil {
		return err
	}

	where, err := f.directoryOf(cfg.Domain)
	if err != nil {
		return err
	}
	journalPath, err := f.journalPath(cfg.Serve.Journal, where)
	if err != nil {
		return err
	}
	statePath := f.emulatorState
	if statePath == "" {
		statePath = strings.TrimSuffix(journalPath, ".journal") + ".emulator.json"
	}
	conn, err := f.connect(ctx, cfg, statePath, true, logger, stderr)
	if err != nil {
		return err
	}
	defer conn.stop()
	store, err := service.OpenStore(ctx, journalPath, service.StoreOptions{Directory: where.String(), Hold: cfg.Serve.Hold})
	if err != nil {
		return storeError(err)
	}
	defer store.Close()

	svc, err := service.New(service.Options{
		Config:    cfg,
		Directory: conn.client,
		Store:     store,
		APIKeys:   keys,
		Loopback:  service.IsLoopback(cfg.Serve.Addr),
		Logger:    logger,
	})
	if err != nil {
		return withHint(usageErrorf("serve: %v", err), "fix the config file")
	}
	if err := svc.Recover(ctx); err != nil {
		return fmt.Errorf("serve: settle what the last run left unfinished: %w", err)
	}
	l, err := net.Listen("tcp", cfg.Serve.Addr)
	if err != nil {
		return withHint(usageErrorf("serve: %v", err), "is another process using the port? give another --addr")
	}
	scheme := "http"
	if cfg.Serve.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stderr, "provision: serving %s://%s/ (the page at /, the API under /rest/) for %s against %s\n", scheme, l.Addr(), cfg.Domain, conn.name)
	fmt.Fprintf(stderr, "provision: journal %s; names are held for %s\n", store.Path(), cfg.Serve.Hold)
	return svc.Serve(ctx, l, cfg.Serve.TLSCert, cfg.Serve.TLSKey)
}

// apiKeys reads the API key file, when one is given.
func (f *serveFlags) apiKeys(s batch.ServeConfig) ([]string, error) {
	if s.APIKeyFile == "" {
		return nil, nil
	}
	keys, err := service.LoadAPIKeys(s.APIKeyFile)
	if err != nil {
		return nil, withHint(usageErrorf("serve: %v", err), "put one key a line, each at least 16 random characters, such as the output of: openssl rand -hex 32")
	}
	return keys, nil
}

// journalPath is the service's journal: the one given, or else
// DOMAIN.serve.journal beside the directory's own journal in the state
// folder. It is a file of its own, so a batch run never waits for the
// service, and like every journal it belongs to one directory: a trial on
// the embedded emulator never shares it with a real domain.
func (f *serveFlags) journalPath(given string, where journal.Directory) (string, error) {
	if given != "" {
		return given, nil
	}
	state, err := stateDir(f.stateDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(defaultJournalPath(state, where)), where.Domain+".serve.journal"), nil
}

// storeError explains why the service's journal could not be opened.
func storeError(err error) error {
	var locked *service.LockedError
	var other *service.OtherDirectoryError
	switch {
	case errors.As(err, &locked):
		return withHint(usageErrorf("serve: %v", err), "another provision serve uses it: stop that one, or give another --journal")
	case errors.As(err, &other):
		return withHint(usageErrorf("serve: %v", err), "give another --journal for this directory")
	}
	return fmt.Errorf("serve: %w", err)
}

// serveLogger logs every request: text on a terminal, JSON otherwise.
func serveLogger(w io.Writer, format string) (*slog.Logger, error) {
	if format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usageErrorf("serve: --log-format %q: use text or json", format)
}
