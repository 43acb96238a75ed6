package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/provisionhq/provision/naming"
)

func runSuggest(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("suggest", "[flags] field=value ...", stderr)
	var patterns, taken listFlag
	fs.Var(&patterns, "pattern", "username `pattern`, tried in order (repeatable; default: the built-in list)")
	fs.Var(&taken, "taken", "a `name` to treat as already taken (repeatable)")
	n := fs.Int("n", 3, "how many names to print, 1 to 10")
	offline := fs.Bool("offline", false, "check only --taken names and the reserved list, without a directory")
	args, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *n < 1 || *n > 10 {
		return usageErrorf("suggest: -n %d is out of range; ask for 1 to 10 names", *n)
	}
	if !*offline {
		return withHint(usageErrorf("suggest: checking names against a directory is not available yet"),
			"add --offline to check only --taken names and the reserved list")
	}
	fields, err := parseFieldArgs(args)
	if err != nil {
		return err
	}
	parsed, err := naming.ParsePatterns(patterns)
	if err != nil {
		return withHint(usageErrorf("suggest: %v", err), "fields look like [firstname], [C1_lastname], [region]; the counter is [#]")
	}
	for _, w := range naming.Lint(parsed) {
		fmt.Fprintf(stderr, "provision: warning: %s\n", w)
	}
	reserver := naming.NewReserver(naming.Options{
		Patterns: parsed,
		Taken:    naming.NewNameSet(taken...),
	})
	names, err := reserver.Suggest(ctx, fields, *n)
	var fieldErr *naming.FieldError
	switch {
	case errors.As(err, &fieldErr):
		return withHint(usageErrorf("suggest: %v", err), fmt.Sprintf("give it as %s=VALUE", fieldErr.Field))
	case errors.Is(err, naming.ErrNoName):
		return usageErrorf("suggest: %v", err)
	case err != nil:
		return fmt.Errorf("suggest: %w", err)
	}
	for _, name := range names {
		fmt.Fprintln(stdout, name)
	}
	return nil
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
		fields[key] = value
	}
	return fields, nil
}
