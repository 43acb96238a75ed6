package journal

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// State is where a row stands. The states, and the events that move a
// row between them, are the job's state machine (batch/rowstate.go); the
// journal only keeps them.
type State string

// Row states.
const (
	Pending        State = "pending"         // read in a run, no name yet
	Named          State = "named"           // holds its username, no account yet
	Created        State = "created"         // has an account, its steps not all done
	Done           State = "done"            // finished: created, converged, skipped or planned
	Failed         State = "failed"          // finished without an account
	NeedsAttention State = "needs-attention" // finished with an account, but a step failed
)

// States lists every state in order.
var States = []State{Pending, Named, Created, Done, Failed, NeedsAttention}

// Terminal reports whether a row in state s is finished for its run.
func (s State) Terminal() bool {
	return s == Done || s == Failed || s == NeedsAttention
}

// PasswordState says what is known of a row's initial password. The
// password itself is never stored.
type PasswordState string

const (
	// PasswordGiven: the input gave the password (or its hash); there is
	// nothing to report.
	PasswordGiven PasswordState = "given"
	// PasswordGenerated: the tool generated a password and set it, and no
	// report holds it yet. If the process dies now, the password is lost
	// and a resumed run must reset it.
	PasswordGenerated PasswordState = "generated"
	// PasswordReported: a generated password is in a report on disk.
	PasswordReported PasswordState = "reported"
	// PasswordNone: no password was set by this tool (yet).
	PasswordNone PasswordState = "none"
)

// A Row is one person of the input, by identity.
type Row struct {
	Identity    string // "id:<external id>" or "row:<content hash>", or "line:<n>" for a row without identity
	RunID       int64  // the run that saw it last
	Line        int    // its line in that run's input
	ExternalID  string // the value written to the account's externalIds
	FirstName   string
	LastName    string
	Email       string   // the primary address, once named
	OrgUnit     string   // the org unit path it belongs in
	Groups      []string // group addresses it belongs to
	State       State
	Status      string // the report status: created, converged, skipped, failed, planned
	Error       string // why it failed, was skipped or needs attention
	UserID      string // the directory's ID of the account
	Password    PasswordState
	ReportedRun int64 // the run whose report holds its line, 0 if none
	// Stored says the journal holds a record of the row: it was read from
	// it or saved to it. FinishRows then changes only what finishing does.
	Stored bool
}

const rowColumns = "identity, run_id, line, external_id, firstname, lastname, email, org_unit, groups, state, status, error, user_id, password, reported_run"

func scanRow(s interface{ Scan(...any) error }) (Row, error) {
	var r Row
	var groups string
	err := s.Scan(r.dest(&groups)...)
	r.scanned(groups, err)
	return r, err
}

// dest returns where the rowColumns of r are scanned to, the groups
// column to groups (see scanned).
func (r *Row) dest(groups *string) []any {
	return []any{&r.Identity, &r.RunID, &r.Line, &r.ExternalID, &r.FirstName, &r.LastName, &r.Email, &r.OrgUnit,
		groups, &r.State, &r.Status, &r.Error, &r.UserID, &r.Password, &r.ReportedRun}
}

// scanned completes a row scanned to dest, with err the scan's error.
func (r *Row) scanned(groups string, err error) {
	if groups != "" {
		r.Groups = strings.Split(groups, ";")
	}
	r.Stored = err == nil
}

// Row returns the row with identity, if the journal has it: the row
// still queued, if its save is.
func (j *Journal) Row(ctx context.Context, identity string) (Row, bool, error) {
	rows, _, err := j.rowsOf(ctx, []string{identity}, false)
	r, found := rows[identity]
	return r, found, err
}

// SaveRow inserts or replaces a row. The write is batched: it is durable
// after the next Commit or Intent.
func (j *Journal) SaveRow(ctx context.Context, r Row) error {
	return j.SaveRows(ctx, []*Row{&r})
}

// rowsPerStatement is how many rows one statement reads or finishes: the
// cost of a statement through cgo is paid once for them all.
const rowsPerStatement = 128

// rowUpsert is the statement that inserts or replaces a row.
const rowUpsert = `INSERT INTO rows (` + rowColumns + `, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (identity) DO UPDATE SET run_id = excluded.run_id, line = excluded.line, external_id = excluded.external_id,
			firstname = excluded.firstname, lastname = excluded.lastname, email = excluded.email, org_unit = excluded.org_unit,
			groups = excluded.groups, state = excluded.state, status = excluded.status, error = excluded.error,
			user_id = excluded.user_id, password = excluded.password, reported_run = excluded.reported_run,
			updated_at = excluded.updated_at`

// rowUpsertNew is rowUpsert for a row without status, error, account,
// password or report yet: those columns take their defaults.
const rowUpsertNew = `INSERT INTO rows (identity, run_id, line, external_id, firstname, lastname, email, org_unit, groups, state, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (identity) DO UPDATE SET run_id = excluded.run_id, line = excluded.line, external_id = excluded.external_id,
			firstname = excluded.firstname, lastname = excluded.lastname, email = excluded.email, org_unit = excluded.org_unit,
			groups = excluded.groups, state = excluded.state, status = '', error = '', user_id = '', password = 'none',
			reported_run = 0, updated_at = excluded.updated_at`

// SaveRows inserts or replaces rows. The writes are batched, as SaveRow's,
// and queued (see behind.go): the rows are seen at once by Row and
// RowsAndAccountsOf.
func (j *Journal) SaveRows(ctx context.Context, rows []*Row) error {
	for _, r := range rows {
		if r.Password == "" {
			r.Password = PasswordNone
		}
		r.Stored = true
		saved := *r
		saved.Groups = slices.Clone(r.Groups) // the applier reads it after the caller goes on
		err := j.enqueue(queuedWrite{row: &saved}, func() error {
			j.noteMemLocked(rowKeys, r.Identity)
			return nil
		})
		if err != nil {
			return fmt.Errorf("save row %s (line %d): %w", r.Identity, r.Line, err)
		}
	}
	return nil
}

// rowFinish returns the statement that records n rows as finished: only
// what finishing changes, and what a row read again changes without a save
// of its own before (its run, line, names, address and place); the first
// value is the time.
func rowFinish(n int) string {
	return `UPDATE rows SET run_id = v.column2, line = v.column3, firstname = v.column4, lastname = v.column5, state = v.column6,
		status = v.column7, error = v.column8, password = v.column9, reported_run = v.column10, email = v.column11,
		org_unit = v.column12, groups = v.column13, user_id = v.column14, updated_at = ?
		FROM (VALUES ` + tuples(n, 14) + `) AS v WHERE rows.identity = v.column1`
}

// FinishRows records rows as finished, many to a statement: rows the
// journal holds get only the columns finishing changes, the others are
// saved whole. The write is batched, as SaveRow's.
func (j *Journal) FinishRows(ctx context.Context, rows []*Row) error {
	var stored, others []*Row
	for _, r := range rows {
		if r.Stored {
			stored = append(stored, r)
		} else {
			others = append(others, r)
		}
	}
	if len(others) > 0 {
		if err := j.SaveRows(ctx, others); err != nil {
			return err
		}
	}
	now := timestamp(j.opts.Now())
	failed, err := j.writeChunks(ctx, stored, func(chunk []*Row) (string, []any) {
		args := make([]any, 0, 1+14*len(chunk))
		args = append(args, now)
		for _, r := range chunk {
			if r.Password == "" {
				r.Password = PasswordNone
			}
			args = append(args, r.Identity, r.RunID, r.Line, r.FirstName, r.LastName, string(r.State), r.Status, r.Error,
				string(r.Password), r.ReportedRun, r.Email, r.OrgUnit, strings.Join(r.Groups, ";"), r.UserID)
		}
		return rowFinish(len(chunk)), args
	})
	if err != nil {
		return fmt.Errorf("record %d rows from %s (line %d) as finished: %w", len(failed), failed[0].Identity, failed[0].Line, err)
	}
	return nil
}

// RowsAndAccountsOf returns the rows of the journal with the given
// identities, by identity, and the accounts on record (Account) of those
// that have one, by lowercased address, read with them, many to a query:
// identities the journal certainly does not hold cost nothing, and rows
// whose save is queued are answered from the queue.
func (j *Journal) RowsAndAccountsOf(ctx context.Context, identities []string) (map[string]Row, map[string]Account, error) {
	return j.rowsOf(ctx, identities, true)
}

// rowAccountJoin is what rowsOf reads besides a row when it reads its
// account too: whether there is one, and its columns.
const rowAccountJoin = `, a.email IS NOT NULL, coalesce(a.email, ''), coalesce(a.id, ''), coalesce(a.org_unit, ''),
	coalesce(a.suspended, 0), coalesce(a.suspension_reason, ''), coalesce(a.admin, 0), coalesce(a.given_name, ''),
	coalesce(a.family_name, ''), coalesce(a.fields, '{}')
	FROM rows LEFT JOIN accounts a ON rows.user_id != '' AND a.email = lower(rows.email)`

func (j *Journal) rowsOf(ctx context.Context, identities []string, withAccounts bool) (map[string]Row, map[string]Account, error) {
	rows := make(map[string]Row, len(identities))
	var accounts map[string]Account
	if withAccounts {
		accounts = make(map[string]Account, len(identities))
	}
	var ask []any
	var queuedEmails []string // of queued rows with an account
	if err := j.lockMem(ctx, rowKeys); err != nil {
		return nil, nil, err
	}
	for _, id := range identities {
		if q, ok := j.queue.rows[id]; ok {
			r := *q.row
			r.Groups = slices.Clone(r.Groups) // the applier may be reading it
			rows[id] = r
			if q.row.UserID != "" && q.row.Email != "" {
				queuedEmails = append(queuedEmails, q.row.Email)
			}
		} else if j.mayHoldMemLocked(rowKeys, id) {
			ask = append(ask, id)
		}
	}
	j.mem.Unlock()
	if len(ask) == 0 && (!withAccounts || len(queuedEmails) == 0) {
		return rows, accounts, nil
	}
	query := "SELECT " + rowColumns + " FROM rows WHERE identity IN "
	if withAccounts {
		query = "SELECT " + qualified("rows", rowColumns) + rowAccountJoin + " WHERE rows.identity IN "
	}
	// One set of scan targets for the whole read: a row costs only its
	// values.
	var r Row
	var a Account
	var groups string
	var hasAccount bool
	dest := r.dest(&groups)
	if withAccounts {
		dest = append(append(dest, &hasAccount), a.dest()...)
	}
	err := j.lookup(func() error {
		err := j.eachInLocked(ctx, "rows", query, ask, func(q *sql.Rows) error {
			r = Row{}
			if err := q.Scan(dest...); err != nil {
				return fmt.Errorf("read rows: %w", err)
			}
			r.scanned(groups, nil)
			rows[r.Identity] = r
			if withAccounts && hasAccount {
				accounts[a.Email] = a
			}
			return nil
		})
		if err != nil || !withAccounts {
			return err
		}
		return j.accountsOfLocked(ctx, queuedEmails, accounts)
	})
	return rows, accounts, err
}

// qualified prefixes each of a list of columns with table.
func qualified(table, columns string) string {
	return table + "." + strings.ReplaceAll(columns, ", ", ", "+table+".")
}

// CountStates returns how many rows are in each state.
func (j *Journal) CountStates(ctx context.Context) (map[State]int, error) {
	return countBy[State](ctx, j, "row states", "SELECT state, count(*) FROM rows GROUP BY state")
}

// CountStatuses returns how many rows of a run ended with each report
// status, over every invocation of the run; its skips are counted apart
// (CountSkips).
func (j *Journal) CountStatuses(ctx context.Context, run int64) (map[string]int, error) {
	return countBy[string](ctx, j, "row statuses", "SELECT status, count(*) FROM rows WHERE reported_run = ? GROUP BY status", run)
}

// UnreportedPasswords returns the rows of a run whose account has a
// generated password no report line is known to hold: rows a crash caught
// between setting the password and recording its report line.
func (j *Journal) UnreportedPasswords(ctx context.Context, run int64) ([]Row, error) {
	var rows []Row
	err := j.each(ctx, "unreported passwords",
		"SELECT "+rowColumns+" FROM rows WHERE run_id = ? AND password = 'generated' AND reported_run != ? AND user_id != '' ORDER BY line",
		scanInto("unreported passwords", &rows, func(q *sql.Rows) (Row, error) { return scanRow(q) }), run, run)
	return rows, err
}

// CountUnfinished returns how many rows last seen by a run are not
// finished.
func (j *Journal) CountUnfinished(ctx context.Context, run int64) (int, error) {
	var n int
	err := j.read(func() error {
		return j.conn.QueryRowContext(ctx, "SELECT count(*) FROM rows WHERE run_id = ? AND state NOT IN ('done', 'failed', 'needs-attention')", run).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count unfinished rows: %w", err)
	}
	return n, nil
}

// CountRowsOf returns how many rows a run saw last, finished or not, its
// skips included.
func (j *Journal) CountRowsOf(ctx context.Context, run int64) (int, error) {
	var n int
	err := j.read(func() error {
		return j.conn.QueryRowContext(ctx,
			"SELECT (SELECT count(*) FROM rows WHERE run_id = ?1) + (SELECT count(*) FROM skips WHERE run_id = ?1)", run).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count the rows of run %d: %w", run, err)
	}
	return n, nil
}
