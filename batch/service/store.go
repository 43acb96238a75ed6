package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// busyTimeout is how long SQLite waits for a lock held by another
// connection before it gives up.
const busyTimeout = 10 * time.Second

// States of a name in the store. A name the store does not hold (or whose
// hold has expired) is free as far as the service is concerned.
const (
	stateHeld     = "held"     // suggested, held until it expires
	stateCreating = "creating" // users.insert may be in flight
	stateCreated  = "created"  // the account exists
)

// Errors of BeginCreate; test with errors.Is.
var (
	// ErrNotHeld means no live suggestion holds the name: it was never
	// suggested, was released by a select, or its hold expired.
	ErrNotHeld = errors.New("the name is not held by a suggestion")
	// ErrCreating means a create of the name is in flight or unsettled.
	ErrCreating = errors.New("the name is being created")
	// ErrCreated means this service already created the account.
	ErrCreated = errors.New("the account was already created")
)

// Store is the service's journal: a SQLite file holding the names it has
// suggested (with their hold's expiry), the accounts it has created, the
// [#] counters, and every create as an intent before users.insert and an
// outcome after it. It keeps its own file, so a batch run never waits for
// it, and it survives restarts: holds and created names are not lost.
//
// The file is created 0600; WAL with synchronous=FULL (checked when it
// opens), one connection, and an OS lock so that one process uses it at a
// time. Passwords are never stored.
type Store struct {
	path string
	db   *sql.DB
	lock *os.File
	hold time.Duration
	now  func() time.Time
}

// StoreOptions configure OpenStore.
type StoreOptions struct {
	// Directory names the directory the store belongs to, such as
	// "Google Workspace example.org": a store refuses to serve another.
	Directory string
	// Hold is how long a suggested name is held. Zero means 2 minutes.
	Hold time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// LockedError means another process has the store open.
type LockedError struct{ Path string }

func (e *LockedError) Error() string {
	return fmt.Sprintf("the service journal %s is in use by another process", e.Path)
}

// OtherDirectoryError means the store was made for another directory.
type OtherDirectoryError struct {
	Path       string
	Recorded   string
	Requesting string
}

func (e *OtherDirectoryError) Error() string {
	return fmt.Sprintf("the service journal %s belongs to %s, not %s", e.Path, e.Recorded, e.Requesting)
}

// OpenStore opens the store at path, creating it (mode 0600) when it does
// not exist, and locks it for this process.
func OpenStore(ctx context.Context, path string, opts StoreOptions) (*Store, error) {
	if opts.Hold <= 0 {
		opts.Hold = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open service journal: %w", err)
	}
	s := &Store{path: abs, hold: opts.Hold, now: opts.Now}
	if err := s.lockFile(); err != nil {
		return nil, err
	}
	if err := s.openDB(ctx); err != nil {
		s.unlock()
		return nil, err
	}
	if err := s.claim(ctx, opts.Directory); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// lockFile creates the file 0600 when needed and takes an exclusive OS
// lock on it, held until Close. flock locks are separate from the POSIX
// record locks SQLite uses, so the two do not interfere.
func (s *Store) lockFile() error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create the service journal's directory: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open service journal: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return fmt.Errorf("restrict the service journal to its owner: %w", err)
		}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return &LockedError{Path: s.path}
		}
		return fmt.Errorf("lock service journal %s: %w", s.path, err)
	}
	s.lock = f
	return nil
}

func (s *Store) unlock() {
	if s.lock != nil {
		syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock.Close()
		s.lock = nil
	}
}

// dsn sets WAL, synchronous=FULL (the driver's default, NORMAL, can lose
// the last commits on power loss: a lost intent could be a second
// account), a busy timeout, immediate transactions and foreign keys.
func dsn(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_txlock", "immediate")
	q.Set("_foreign_keys", "1")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func (s *Store) openDB(ctx context.Context) error {
	db, err := sql.Open("sqlite3", dsn(s.path))
	if err != nil {
		return fmt.Errorf("open service journal %s: %w", s.path, err)
	}
	// One connection: SQLite has one writer anyway, and every pragma of
	// the DSN then holds for every statement.
	db.SetMaxOpenConns(1)
	s.db = db
	if err := s.checkPragmas(ctx); err != nil {
		db.Close()
		return err
	}
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil || check != "ok" {
		db.Close()
		return fmt.Errorf("service journal %s is damaged (quick_check: %q, %v)", s.path, check, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return fmt.Errorf("create the service journal's tables: %w", err)
	}
	return nil
}

// checkPragmas verifies that the settings of the DSN took: a driver that
// ignored one would silently weaken the store's guarantees.
func (s *Store) checkPragmas(ctx context.Context) error {
	for _, w := range []struct{ pragma, value string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
	} {
		var got string
		if err := s.db.QueryRowContext(ctx, "PRAGMA "+w.pragma).Scan(&got); err != nil {
			return fmt.Errorf("service journal %s: read PRAGMA %s: %w", s.path, w.pragma, err)
		}
		if got != w.value {
			return fmt.Errorf("service journal %s: PRAGMA %s is %q, want %q (is the file on a local disk?)", s.path, w.pragma, got, w.value)
		}
	}
	return nil
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS names (
	name    TEXT PRIMARY KEY,
	state   TEXT NOT NULL CHECK (state IN ('held', 'creating', 'created')),
	expires INTEGER NOT NULL DEFAULT 0, -- unix ms, for a hold
	changed INTEGER NOT NULL            -- unix ms
);
CREATE INDEX IF NOT EXISTS names_held_expiry ON names (expires) WHERE state = 'held';
CREATE TABLE IF NOT EXISTS counters (
	base TEXT PRIMARY KEY,
	next INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS creates (
	id       INTEGER PRIMARY KEY,
	name     TEXT NOT NULL,
	marker   TEXT NOT NULL UNIQUE, -- the externalIds value written with the account
	state    TEXT NOT NULL CHECK (state IN ('pending', 'created', 'refused')),
	user_id  TEXT NOT NULL DEFAULT '',
	reason   TEXT NOT NULL DEFAULT '',
	started  INTEGER NOT NULL,
	finished INTEGER
);
CREATE INDEX IF NOT EXISTS creates_pending ON creates (name) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS effects (
	id        INTEGER PRIMARY KEY,
	create_id INTEGER REFERENCES creates (id),
	kind      TEXT NOT NULL,
	target    TEXT NOT NULL,
	state     TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'refused')),
	reason    TEXT NOT NULL DEFAULT '',
	started   INTEGER NOT NULL,
	finished  INTEGER
);
CREATE INDEX IF NOT EXISTS effects_pending ON effects (create_id) WHERE state = 'pending';
`

// claim records the directory at first use and refuses another one.
func (s *Store) claim(ctx context.Context, dir string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var recorded string
		err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'directory'").Scan(&recorded)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('directory', ?)", dir)
			return err
		case err != nil:
			return err
		case recorded != dir:
			return &OtherDirectoryError{Path: s.path, Recorded: recorded, Requesting: dir}
		}
		return nil
	})
}

// Path returns the store's absolute path.
func (s *Store) Path() string { return s.path }

// Close closes the file and releases the lock.
func (s *Store) Close() error {
	err := s.db.Close()
	s.unlock()
	if err != nil {
		return fmt.Errorf("close service journal %s: %w", s.path, err)
	}
	return nil
}

// Ping checks that the store answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// tx runs fn in an immediate transaction and commits it.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("service journal: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("service journal: commit: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
