package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		want       int
		wantStderr []string
	}{
		{"success", nil, exitOK, nil},
		{"help", errHelp, exitOK, nil},
		{"usage", withHint(usageErrorf("bad flag"), "try --help"), exitUsage, []string{"provision: error: bad flag\n", "provision: hint: try --help\n"}},
		{"wrapped usage", fmt.Errorf("load: %w", usageErrorf("bad config")), exitUsage, []string{"provision: error: load: bad config\n"}},
		{"interrupted", fmt.Errorf("run: %w", context.Canceled), exitInterrupted, []string{"hint: run the same command again to resume"}},
		{"other", errors.New("3 rows failed."), exitRowsFailed, []string{"provision: error: 3 rows failed\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitCode(tt.err, &stderr); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("exitCode(%v) wrote %q, want it to contain %q", tt.err, stderr.String(), s)
				}
			}
			if tt.wantStderr == nil && stderr.Len() > 0 {
				t.Errorf("exitCode(%v) wrote %q, want nothing", tt.err, stderr.String())
			}
		})
	}
}
