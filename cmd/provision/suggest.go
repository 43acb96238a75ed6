package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

func runSuggest(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("suggest", "[flags] field=value ...", stderr)
	var patterns, taken listFlag
	var dir directoryFlags
	fs.Var(&patterns, "pattern", "username `pattern`, tried in order (repeatable; default: the config's, or the built-in list)")
	fs.Var(&taken, "taken", "a `name` to treat as already taken (repeatable)")
	n := fs.Int("n", 3, "how many names to print, 1 to 10")
	offline := fs.Bool("offline", false, "check only --taken names and the reserved list, without a directory")
	config := fs.String("config", "", "YAML config `file` (for the domain, patterns and reserved names)")
	domain := fs.String("domain", "", "Workspace `domain` whose names are checked")
	dir.register(fs, "none: it starts with generated users")
	args, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *n < 1 || *n > 10 {
		return usageErrorf("suggest: -n %d is out of range; ask for 1 to 10 names", *n)
	}
	fields, err := parseFieldArgs(args)
	if err != nil {
		return err
	}
	cfg, err := configFile("suggest", *config)
	if err != nil {
		return err
	}
	if len(patterns) > 0 {
		cfg.Patterns = patterns
	}
	if *domain != "" {
		cfg.Domain = *domain
	}
	parsed, err := naming.ParsePatterns(cfg.Patterns)
	if err != nil {
		return withHint(usageErrorf("suggest: %v", err), "fields look like [firstname], [C1_lastname], [region]; the counter is [#]")
	}
	for _, w := range naming.Lint(parsed) {
		fmt.Fprintf(stderr, "provision: warning: %s\n", w)
	}
	checker := naming.Checker(naming.NewNameSet(taken...))
	if !*offline {
		cfg = cfg.WithDefaults()
		if err := cfg.Validate(); err != nil {
			return withHint(usageErrorf("suggest: %v", err), "or add --offline to check only --taken names and the reserved list")
		}
		conn, err := dir.connect(ctx, cfg, dir.emulatorState, false, slog.New(slog.DiscardHandler), stderr)
		if err != nil {
			return err
		}
		defer conn.stop()
		checker = naming.AnyOf(checker, liveChecker(conn.client, cfg.Domain))
	}
	reserver := naming.NewReserver(naming.Options{
		Patterns: parsed,
		Reserved: slices.Concat(naming.DefaultReserved, cfg.ReservedNames),
		Taken:    checker,
	})
	names, err := reserver.Suggest(ctx, fields, *n)
	var fieldErr *naming.FieldError
	var creds *directory.CredentialsError
	var refused *directory.SystemicError
	switch {
	case errors.As(err, &fieldErr):
		return withHint(usageErrorf("suggest: %v", err), fmt.Sprintf("give it as %s=VALUE", fieldErr.Field))
	case errors.Is(err, naming.ErrNoName):
		return usageErrorf("suggest: %v", err)
	case errors.As(err, &creds):
		return withHint(usageErrorf("suggest: %v", err), "see \"Credentials\" in the README")
	case errors.As(err, &refused):
		// The directory refuses the setup itself; suggest changed nothing.
		return withHint(usageErrorf("suggest: %v", err), refused.Fix)
	case err != nil:
		return fmt.Errorf("suggest: %w", err)
	}
	for _, name := range names {
		fmt.Fprintln(stdout, name)
	}
	return nil
}

// liveChecker asks the directory, by point reads, whether an address is a
// user (or a user's alias) or a group (or a group's alias).
func liveChecker(client *directory.Client, domain string) naming.Checker {
	return naming.CheckerFunc(func(ctx context.Context, name string) (bool, error) {
		address := name + "@" + domain
		for _, get := range []func() error{
			func() error { _, err := client.GetUser(ctx, address); return err },
			func() error { _, err := client.GetGroup(ctx, address); return err },
		} {
			switch err := get(); {
			case err == nil:
				return true, nil
			case !directory.IsNotFound(err):
				return false, err
			}
		}
		return false, nil
	})
}

// parseFieldArgs turns field=value arguments into naming.Fields.
func parseFieldArgs(args []string) (naming.Fields, error) {
	if len(args) == 0 {
		return nil, withHint(usageErrorf("suggest: no fields given"), "give at least firstname=VALUE lastname=VALUE")
	}
	fields := naming.Fields{}
	for _, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, withHint(usageErrorf("suggest: %q is not a field", arg), "give fields as name=value, such as firstname=Ana")
		}
		key := strings.ToLower(name)
		if _, dup := fields[key]; dup {
			return nil, usageErrorf("suggest: field %s is given twice", name)
		}
		// The rules of run's CSV cells: a name suggest accepts is one run
		// accepts too.
		check := input.CheckValue
		if key == naming.FirstName || key == naming.LastName {
			check = input.CheckName
		}
		if err := check(value); err != nil {
			return nil, usageErrorf("suggest: %s %v", input.Visible(name), err)
		}
		fields[key] = value
	}
	return fields, nil
}
