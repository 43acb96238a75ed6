package main

import (
	"strings"
	"testing"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/report"
)

// "nothing to do" is said of a run that took every row of its file and
// found them all done, not of one a signal stopped part-way.
func TestPrintSummary_nothingToDo(t *testing.T) {
	for _, tt := range []struct {
		name        string
		interrupted bool
		want        bool
	}{
		{"finished", false, true},
		{"interrupted", true, false},
	} {
		var b strings.Builder
		s := &batch.Summary{Mode: batch.Run, Statuses: map[string]int{report.StatusSkipped: 40}, Interrupted: tt.interrupted}
		printSummary(&b, s, "people.csv", "the embedded emulator", "people.journal")
		if got := strings.Contains(b.String(), "nothing to do"); got != tt.want {
			t.Errorf("%s: says nothing to do = %v, want %v:\n%s", tt.name, got, tt.want, b.String())
		}
	}
}
