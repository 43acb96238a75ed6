package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// schemaVersion is the layout this code reads and writes.
const schemaVersion = 5

const schema = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- The process holding the journal; at most one row.
CREATE TABLE lease (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	owner        TEXT NOT NULL,
	host         TEXT NOT NULL,
	pid          INTEGER NOT NULL,
	acquired_at  TEXT NOT NULL,
	heartbeat_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL
) STRICT;

-- One run is one input file taken to its end, over one or more
-- invocations of the same command.
CREATE TABLE runs (
	id          INTEGER PRIMARY KEY,
	input_path  TEXT NOT NULL,
	input_hash  TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	config      TEXT NOT NULL,
	report_path TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	ended_at    TEXT NOT NULL DEFAULT '',
	outcome     TEXT NOT NULL DEFAULT '',
	invocations INTEGER NOT NULL DEFAULT 1
) STRICT;

-- One person, by identity key; line and run are where it was last changed
-- (a run that only skips it says so in skips).
CREATE TABLE rows (
	identity     TEXT PRIMARY KEY,
	run_id       INTEGER NOT NULL REFERENCES runs(id),
	line         INTEGER NOT NULL,
	external_id  TEXT NOT NULL DEFAULT '',
	firstname    TEXT NOT NULL DEFAULT '',
	lastname     TEXT NOT NULL DEFAULT '',
	email        TEXT NOT NULL DEFAULT '',
	org_unit     TEXT NOT NULL DEFAULT '',
	groups       TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL,
	status       TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT '',
	user_id      TEXT NOT NULL DEFAULT '',
	password     TEXT NOT NULL DEFAULT 'none',
	reported_run INTEGER NOT NULL DEFAULT 0,
	updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX rows_by_run_line ON rows(run_id, line);

-- Usernames held by rows, for every run: UNIQUE by construction.
CREATE TABLE reservations (
	name       TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
CREATE INDEX reservations_by_owner ON reservations(owner);

-- The next number to try for each [#] base.
CREATE TABLE counters (
	base TEXT PRIMARY KEY,
	next INTEGER NOT NULL
) STRICT;

-- Remote side effects: an intent before the call, an outcome after it.
CREATE TABLE effects (
	id         INTEGER PRIMARY KEY,
	identity   TEXT NOT NULL REFERENCES rows(identity),
	kind       TEXT NOT NULL,
	target     TEXT NOT NULL,
	state      TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	remote_id  TEXT NOT NULL DEFAULT '',
	error      TEXT NOT NULL DEFAULT '',
	updated_at TEXT NOT NULL,
	UNIQUE (identity, kind, target)
) STRICT;
CREATE INDEX effects_in_flight ON effects(state) WHERE state = 'intent';

-- The directory's names when the snapshot was taken: local parts in the
-- job's domain of every primary address, user alias, group and group alias.
CREATE TABLE names (
	name TEXT PRIMARY KEY,
	kind TEXT NOT NULL
) STRICT;

-- External IDs of the directory's users, for identity checks.
CREATE TABLE directory_ids (
	external_id TEXT NOT NULL,
	email       TEXT NOT NULL,
	PRIMARY KEY (external_id, email)
) STRICT;
` + schemaV2 + schemaV3 + schemaV4 + schemaV5

// upgrades are the statements that take a journal from each layout to
// the next: upgrades[v] from v to v+1.
var upgrades = map[int]string{1: schemaV2, 2: schemaV3, 3: schemaV4, 4: schemaV5}

// schemaV2 is what version 2 added to version 1.
const schemaV2 = `
-- Accounts a point read showed (a 409 answered by users.get), with their
-- external IDs: unlike the snapshot's, kept until the account is gone,
-- since a listing can miss a new account for hours.
CREATE TABLE known_ids (
	external_id TEXT NOT NULL,
	email       TEXT NOT NULL,
	PRIMARY KEY (external_id, email)
) STRICT;

-- How many records a run's input holds; -1 when unknown.
ALTER TABLE runs ADD COLUMN records INTEGER NOT NULL DEFAULT -1;
`

// schemaV3 gives rows only the states the job's state machine has
// (creating, grouping and skipped were written but never read), and gives
// effects states of their own instead of the rows' words.
const schemaV3 = `
UPDATE rows SET state = 'named' WHERE state = 'creating';
UPDATE rows SET state = 'created' WHERE state = 'grouping';
UPDATE rows SET state = 'done' WHERE state = 'skipped';
UPDATE effects SET state = 'applied' WHERE state = 'done';
UPDATE effects SET state = 'refused' WHERE state = 'failed';
-- Nothing looks rows up by state alone; the index only slowed every write.
DROP INDEX IF EXISTS rows_by_state;
`

// schemaV4 is what the lifecycle needs: the accounts of the snapshot (what
// an update compares with, what the leavers' rules protect) and the run of
// each side effect (what undo takes back).
const schemaV4 = `
-- The directory's users when the snapshot was taken, by primary address:
-- what a row's account is compared with, and who may be a leaver.
-- fields holds names, organizations, relations and phones as JSON.
CREATE TABLE accounts (
	email             TEXT PRIMARY KEY,
	id                TEXT NOT NULL,
	org_unit          TEXT NOT NULL DEFAULT '',
	suspended         INTEGER NOT NULL DEFAULT 0,
	suspension_reason TEXT NOT NULL DEFAULT '',
	admin             INTEGER NOT NULL DEFAULT 0,
	given_name        TEXT NOT NULL DEFAULT '',
	family_name       TEXT NOT NULL DEFAULT '',
	fields            TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- The run that last attempted each side effect.
ALTER TABLE effects ADD COLUMN run_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX effects_by_run ON effects(run_id, kind);
`

// schemaV5 records the rows a run skips apart from the rows themselves.
const schemaV5 = `
-- The rows each run finished as skipped (done before, nothing to change),
-- by line. Skipping a row does not rewrite it in rows, where it keeps the
-- run and line that last changed it: rerunning a cumulative file of done
-- rows appends a few bytes for each. Kept until a later run that saw the
-- same row ends.
CREATE TABLE skips (
	run_id   INTEGER NOT NULL,
	line     INTEGER NOT NULL,
	identity TEXT NOT NULL,
	PRIMARY KEY (run_id, line)
) STRICT, WITHOUT ROWID;
`

// migrate creates the schema in a new journal and checks the version of an
// existing one.
func (j *Journal) migrate(ctx context.Context) error {
	var tables int
	if err := j.conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'").Scan(&tables); err != nil {
		return &UnusableError{Path: j.path, Err: err}
	}
	if tables > 0 {
		var version string
		err := j.conn.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema'").Scan(&version)
		if err != nil {
			return &UnusableError{Path: j.path, Err: errors.New("it is an SQLite database that provision did not write, and provision leaves it as it is"),
				Hint: "check --journal (or PROVISION_JOURNAL)"}
		}
		switch v, _ := strconv.Atoi(version); {
		case v == schemaVersion:
			return nil
		case v >= 1 && v < schemaVersion && !j.opts.ReadOnly:
			return j.upgrade(ctx, v)
		case v >= 1 && v < schemaVersion && j.opts.CopyOnly:
			return nil
		case v >= 1 && v < schemaVersion:
			return &UnusableError{Path: j.path, Err: errors.New("it was written by an earlier provision"),
				Hint: "run a job with it once (provision run): the journal is upgraded when a job opens it"}
		}
		return &UnusableError{Path: j.path, Err: fmt.Errorf("it has layout version %s; this provision reads version %d", version, schemaVersion)}
	}
	if j.opts.ReadOnly {
		return &UnusableError{Path: j.path, Err: errors.New("it is empty: no job has used it yet")}
	}
	tx, err := j.conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create journal schema: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create journal schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('schema', ?), ('created_at', ?)",
		strconv.Itoa(schemaVersion), timestamp(j.opts.Now())); err != nil {
		return fmt.Errorf("create journal schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create journal schema: %w", err)
	}
	return nil
}

// upgrade takes a journal of layout from to the current one, in one
// transaction.
func (j *Journal) upgrade(ctx context.Context, from int) error {
	tx, err := j.conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("upgrade journal: %w", err)
	}
	defer tx.Rollback()
	for v := from; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, upgrades[v]); err != nil {
			return fmt.Errorf("upgrade journal from layout %d: %w", v, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'schema'", strconv.Itoa(schemaVersion)); err != nil {
		return fmt.Errorf("upgrade journal: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("upgrade journal: %w", err)
	}
	j.logger.Info("upgraded the journal's layout", "path", j.path, "from", from, "to", schemaVersion)
	return nil
}
