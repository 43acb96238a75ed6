package main

import (
	"context"
	"strings"
	"testing"
)

// suggest refuses what run refuses in a CSV cell, and never prints the
// character it refuses.
func TestRunSuggest_refusesWhatRunRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"escape sequence in a name", []string{"firstname=Ana\x1b[31m", "lastname=Lima"}, "firstname contains a control character (U+001B)"},
		{"right-to-left override", []string{"firstname=Ana", "lastname=Lima\u202e"}, "lastname contains the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE)"},
		{"zero-width space in a custom field", []string{"firstname=Ana", "lastname=Lima", "region=N\u200bord"}, "region contains the invisible character U+200B (ZERO WIDTH SPACE)"},
		{"name over 60 characters", []string{"firstname=" + strings.Repeat("a", 61), "lastname=Lima"}, "firstname is longer than 60 characters (61)"},
		{"angle bracket", []string{"firstname=<b>Ana", "lastname=Lima"}, `firstname contains "<"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"suggest", "--offline"}, tt.args...)
			code, stderr := runCLI(context.Background(), t, args...)
			if code != exitUsage {
				t.Errorf("suggest %q exited %d, want %d", tt.args, code, exitUsage)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("suggest %q wrote %q, want it to contain %q", tt.args, stderr, tt.want)
			}
			if strings.ContainsAny(stderr, "\x1b\u202e\u200b") {
				t.Errorf("suggest %q printed a hidden character: %q", tt.args, stderr)
			}
		})
	}
}
