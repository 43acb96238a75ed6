package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/provisionhq/provision/batch"
)

// errHelp is returned when the user asked for --help; it exits 0.
var errHelp = flag.ErrHelp

// envPrefix is prepended to a flag's name, upper-cased with dashes turned
// into underscores, to give the environment variable that sets it.
const envPrefix = "PROVISION_"

// envName returns the environment variable for the flag name.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// flagSet is a subcommand's flags.
type flagSet struct {
	*flag.FlagSet
	usage func()
}

// newFlagSet returns a flag set for a subcommand whose usage text lists
// every flag with the environment variable that can also set it.
func newFlagSet(name, synopsis string, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(io.Discard)
	// The flag package calls Usage on every parse error; parse prints the
	// usage itself, only when it was asked for.
	fs.Usage = func() {}
	fs.usage = func() {
		fmt.Fprintf(stderr, "Usage: provision %s %s\n\nFlags:\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			arg, usage := flag.UnquoteUsage(f)
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			line := "  " + dash + f.Name
			if arg != "" {
				line += " " + arg
			}
			fmt.Fprintf(stderr, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			if len(f.Name) > 1 {
				fmt.Fprintf(stderr, " ($%s)", envName(f.Name))
			}
			fmt.Fprintln(stderr)
		})
	}
	return fs
}

// parse parses args into fs, allowing flags after positional
// arguments ("run file.csv --yes"), and returns the positional arguments.
// A flag not given on the command line is taken from its environment
// variable when that is set. A bad flag is a usage error.
func (fs *flagSet) parse(args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.usage()
				return nil, errHelp
			}
			return nil, withHint(usageErrorf("%s: %v", fs.Name(), err),
				fmt.Sprintf("run 'provision %s --help' to see its flags", fs.Name()))
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			positional = append(positional, args[1:]...)
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || len(f.Name) == 1 || envErr != nil {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		values := []string{v}
		if _, repeatable := f.Value.(*listFlag); repeatable {
			// Repeatable flags take one value per line, never split on
			// commas: patterns and names may contain them.
			values = splitLines(v)
		}
		for _, v := range values {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = usageErrorf("$%s: %v", envName(f.Name), err)
				return
			}
		}
	})
	return positional, envErr
}

func splitLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// listFlag is a repeatable string flag: each occurrence appends one value.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// given returns the names of the flags that were given, on the command
// line or in the environment: only those override the config file.
func (fs *flagSet) given() map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set
}

// configFile reads the YAML config file of command at path; no path is
// the empty config.
func configFile(command, path string) (batch.Config, error) {
	if path == "" {
		return batch.Config{}, nil
	}
	cfg, err := batch.LoadConfig(path)
	if err != nil {
		return batch.Config{}, withHint(usageErrorf("%s: %v", command, err), "see the config reference in the README")
	}
	return cfg, nil
}
