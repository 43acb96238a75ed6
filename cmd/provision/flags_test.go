package main

import (
	"errors"
	"io"
	"slices"
	"testing"
)

func TestFlagSet_parse(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		env            map[string]string
		wantPositional []string
		wantPatterns   []string
		wantN          int
	}{
		{"flags first", []string{"--pattern", "a", "-n", "2", "x=1"}, nil, []string{"x=1"}, []string{"a"}, 2},
		{"flags after positionals", []string{"x=1", "--pattern", "a", "y=2", "-n", "4"}, nil, []string{"x=1", "y=2"}, []string{"a"}, 4},
		{"double dash ends flags", []string{"-n", "2", "--", "--pattern"}, nil, []string{"--pattern"}, nil, 2},
		{"repeatable from env, one per line, commas kept", nil,
			map[string]string{"PROVISION_PATTERN": "[firstname].[lastname]\n [a],[b] \n\n"}, nil, []string{"[firstname].[lastname]", "[a],[b]"}, 3},
		{"command line beats env", []string{"--pattern", "cli"}, map[string]string{"PROVISION_PATTERN": "env"}, nil, []string{"cli"}, 3},
		{"single-letter flags have no env", nil, map[string]string{"PROVISION_N": "7"}, nil, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs := newFlagSet("test", "", io.Discard)
			var patterns listFlag
			fs.Var(&patterns, "pattern", "")
			n := fs.Int("n", 3, "")
			got, err := fs.parse(tt.args)
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.args, err)
			}
			if !slices.Equal(got, tt.wantPositional) {
				t.Errorf("positional = %q, want %q", got, tt.wantPositional)
			}
			if !slices.Equal([]string(patterns), tt.wantPatterns) {
				t.Errorf("patterns = %q, want %q", patterns, tt.wantPatterns)
			}
			if *n != tt.wantN {
				t.Errorf("n = %d, want %d", *n, tt.wantN)
			}
		})
	}
}

func TestFlagSet_parse_errors(t *testing.T) {
	t.Setenv("PROVISION_COUNT", "many")
	fs := newFlagSet("test", "", io.Discard)
	fs.Int("count", 1, "")
	_, err := fs.parse(nil)
	var u *usageError
	if !errors.As(err, &u) {
		t.Fatalf("parse with a bad $PROVISION_COUNT = %v, want a usage error", err)
	}
	if _, err := fs.parse([]string{"--nope"}); !errors.As(err, &u) {
		t.Errorf("parse(--nope) = %v, want a usage error", err)
	}
}
