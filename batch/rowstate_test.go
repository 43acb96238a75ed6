package batch

import (
	"testing"

	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// Every transition of a row's state machine, allowed and refused.
func TestTransition(t *testing.T) {
	const (
		none    = journal.State("")
		pending = journal.Pending
		named   = journal.Named
		created = journal.Created
		done    = journal.Done
		failed  = journal.Failed
		needs   = journal.NeedsAttention
	)
	row := func(s journal.State, email, userID, status string) journal.Row {
		return journal.Row{Identity: "id:1", Line: 2, State: s, Email: email, UserID: userID, Status: status}
	}
	tests := []struct {
		name string
		row  journal.Row
		ev   event
		want journal.State // "" for refused
	}{
		{"a new row is seen", row(none, "", "", ""), evSeen, pending},
		{"a row named before is seen named", row(failed, "a@x.org", "", ""), evSeen, named},
		{"a row with an account is seen created", row(done, "a@x.org", "u1", ""), evSeen, created},
		{"a pending row is named", row(pending, "a@x.org", "", ""), evNamed, named},
		{"a named row is renamed", row(named, "a2@x.org", "", ""), evNamed, named},
		{"a row is not named without a name", row(pending, "", "", ""), evNamed, ""},
		{"a row with an account is not named", row(created, "a@x.org", "u1", ""), evNamed, ""},
		{"a named row goes to disk with an intent", row(named, "a@x.org", "", ""), evIntent, named},
		{"a created row goes to disk with an intent", row(created, "a@x.org", "u1", ""), evIntent, created},
		{"a finished row has no intent", row(done, "a@x.org", "u1", ""), evIntent, ""},
		{"a named row gets its account", row(named, "a@x.org", "u1", ""), evCreated, created},
		{"an account needs an ID", row(named, "a@x.org", "", ""), evCreated, ""},
		{"resume reopens a row that could not tell", row(failed, "a@x.org", "u1", ""), evCreated, created},
		{"a named row adopts an account", row(named, "a@x.org", "u1", ""), evAdopted, created},
		{"a created row is adopted again when moved", row(created, "a@x.org", "u1", ""), evAdopted, created},
		{"a done row adopts nothing", row(done, "a@x.org", "u1", ""), evAdopted, ""},
		{"resume finds an insert did not land", row(named, "a@x.org", "", ""), evNotCreated, named},
		{"only a named row waits for an account", row(created, "a@x.org", "u1", ""), evNotCreated, ""},
		{"resume finds the name taken", row(named, "", "", ""), evNameLost, pending},
		{"a lost name is cleared first", row(named, "a@x.org", "", ""), evNameLost, ""},
		{"a stopped row stays where it is", row(named, "a@x.org", "", ""), evStopped, named},
		{"a finished row is not stopped", row(failed, "", "", ""), evStopped, ""},
		{"created finishes done", row(created, "a@x.org", "u1", report.StatusCreated), evFinished, done},
		{"converged finishes done", row(created, "a@x.org", "u1", report.StatusConverged), evFinished, done},
		{"created needs an account", row(named, "a@x.org", "", report.StatusCreated), evFinished, ""},
		{"failed without an account", row(named, "a@x.org", "", report.StatusFailed), evFinished, failed},
		{"a new record that cannot be read fails", row(none, "", "", report.StatusFailed), evFinished, failed},
		{"failed with an account needs attention", row(created, "a@x.org", "u1", report.StatusFailed), evFinished, needs},
		{"done before is skipped", row(done, "a@x.org", "u1", report.StatusSkipped), evFinished, done},
		{"only a done row is skipped", row(named, "a@x.org", "", report.StatusSkipped), evFinished, ""},
		{"planned", row(named, "a@x.org", "", report.StatusPlanned), evFinished, done},
		{"an unknown status", row(created, "a@x.org", "u1", "bogus"), evFinished, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.row
			got, err := transition(&r, tt.ev)
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("transition(%s, %s) = %q, want it refused", tt.row.State, tt.ev, got)
			case tt.want != "" && err != nil:
				t.Errorf("transition(%s, %s) = %v, want %q", tt.row.State, tt.ev, err, tt.want)
			case got != tt.want:
				t.Errorf("transition(%s, %s) = %q, want %q", tt.row.State, tt.ev, got, tt.want)
			}
		})
	}
}
