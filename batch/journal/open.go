package journal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3" // also the database/sql driver "sqlite3"
)

// busyTimeout is how long SQLite waits for a lock held by another
// connection before it gives up.
const busyTimeout = 10 * time.Second

// Options configure Open.
type Options struct {
	// LeaseTTL is how long the lease stays valid without a heartbeat.
	// Zero means 30 seconds.
	LeaseTTL time.Duration
	// ReadOnly opens the journal for reading without taking the lease:
	// for status and report, which may run while a job holds it.
	ReadOnly bool
	// CopyOnly opens a read-only journal only to copy it (CopyTo), so a
	// journal of an earlier layout is accepted: the copy is upgraded.
	CopyOnly bool
	// Scratch opens a throwaway copy, such as plan's: nothing is synced to
	// disk, since nothing in it needs to survive the process.
	Scratch bool
	// CopyOf is the journal a scratch journal copies: its refusals (a
	// journal of another directory) name it, not the copy.
	CopyOf string
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// A Journal is an open journal file. Its methods are safe for concurrent
// use: they share one SQLite connection, in turn.
type Journal struct {
	path   string
	db     *sql.DB
	lock   *os.File // holds the OS lock; nil when read-only
	owner  Owner
	opts   Options
	logger *slog.Logger

	mu        sync.Mutex // serialises use of conn
	conn      *sql.Conn
	tx        bool      // a transaction is open on conn
	pending   int       // writes in the open transaction
	txStarted time.Time // when the open transaction began
	stmts     map[string]*sql.Stmt
	run       int64 // the run started or resumed: the run of the effects written
	// lookups counts the lookups waiting for mu: the applier lets them
	// in between two writes (see drainLocked).
	lookups atomic.Int32
	// appliedSeq is the sequence number of the last queued write applied
	// (see behind.go): a counter that moved after a write still queued is
	// not saved before that write.
	appliedSeq uint64

	// mem guards what the journal keeps in memory: the filters and caches
	// that answer lookups, and the writes queued for the applier (see
	// behind.go). It is taken alone, or with mu held, never the other way
	// round: a lookup answered from memory never waits for a statement.
	mem           sync.Mutex
	filters       map[string]*filter      // negative lookups answered in memory (see filter.go)
	holders       *recent[string]         // recent holders of names
	counters      *recent[int]            // recent [#] counters
	taken         *recent[bool]           // recent answers of NameTaken
	dirtyCounters map[string]movedCounter // counters moved since the last commit
	queue         writeQueue
	room          *sync.Cond // on mem: the queue has room, or the journal is unusable
	appliers      sync.WaitGroup
	shut          bool  // closed, as seen under mem
	broken        error // why the journal lost writes it had taken, if it did

	// Group commit (see groupCommit): writes are numbered; waiters of
	// grouped writes wait under cmu until theirs is committed or lost.
	written       uint64        // writes applied so far; under mu
	commitAsked   chan struct{} // a grouped write waits for a commit
	committers    sync.WaitGroup
	cmu           sync.Mutex
	committedCond *sync.Cond
	committed     uint64 // writes committed (or given up as lost)
	lostFrom      uint64 // writes lostFrom+1 to lostThrough were rolled back, with lostErr
	lostThrough   uint64
	lostErr       error
	stopped       bool          // the journal is closed: nobody will commit
	heartbeat     chan struct{} // closed to stop the heartbeat goroutine
	stopHeartbeat sync.Once
	heartbeats    sync.WaitGroup
	closed        bool
	lost          bool // the lease was taken by another process
}

// Owner identifies the process holding a journal.
type Owner struct {
	ID        string    // random, unique per Open
	Host      string    // hostname (the pod name on Kubernetes)
	PID       int       // process id
	Acquired  time.Time // when the lease was taken
	Heartbeat time.Time // the last heartbeat
	Expires   time.Time // when the lease lapses without a heartbeat
}

func (o Owner) String() string {
	return fmt.Sprintf("process %d on %s", o.PID, o.Host)
}

// HeldError means another process holds the journal.
type HeldError struct {
	Path   string
	Holder Owner // zero when only the OS lock told
}

func (e *HeldError) Error() string {
	if e.Holder.PID == 0 {
		return fmt.Sprintf("journal %s is in use by another process", e.Path)
	}
	return fmt.Sprintf("journal %s is in use by %s since %s (last heartbeat %s, lease until %s)",
		e.Path, e.Holder, e.Holder.Acquired.Format(time.RFC3339), e.Holder.Heartbeat.Format(time.RFC3339), e.Holder.Expires.Format(time.RFC3339))
}

// Open opens the journal at path, creating it with mode 0600 when it does
// not exist, and takes it for this process. It returns a *HeldError when
// another process holds it.
func Open(ctx context.Context, path string, opts Options) (*Journal, error) {
	if opts.LeaseTTL == 0 {
		opts.LeaseTTL = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j := &Journal{path: abs, opts: opts, logger: logger, stmts: map[string]*sql.Stmt{}, filters: map[string]*filter{},
		holders: newRecent[string](), counters: newRecent[int](), taken: newRecent[bool](), dirtyCounters: map[string]movedCounter{},
		queue: newWriteQueue(), commitAsked: make(chan struct{}, 1)}
	j.committedCond = sync.NewCond(&j.cmu)
	j.room = sync.NewCond(&j.mem)
	if err := checkJournalFile(abs, opts.ReadOnly); err != nil {
		return nil, err
	}
	if !opts.ReadOnly {
		if err := j.lockFile(); err != nil {
			return nil, err
		}
	}
	if err := j.openDB(ctx); err != nil {
		j.unlockFile()
		return nil, err
	}
	if err := j.migrate(ctx); err != nil {
		j.closeDB()
		j.unlockFile()
		return nil, err
	}
	if !opts.ReadOnly {
		// Only now that the file is known to be a journal may its mode be
		// changed.
		if err := j.restrictMode(); err != nil {
			j.closeDB()
			j.unlockFile()
			return nil, err
		}
		if err := j.takeLease(ctx); err != nil {
			j.closeDB()
			j.unlockFile()
			return nil, err
		}
		j.heartbeat = make(chan struct{})
		j.heartbeats.Add(1)
		go j.beat()
		j.committers.Add(1)
		go j.groupCommit()
		j.queue.wake = make(chan struct{}, 1)
		j.appliers.Add(1)
		go j.applyQueued()
	}
	return j, nil
}

// lockFile creates the journal file 0600 if needed and takes an exclusive
// OS lock on it, held until Close. flock locks are separate from the POSIX
// record locks SQLite uses, so the two do not interfere.
func (j *Journal) lockFile() error {
	if err := os.MkdirAll(filepath.Dir(j.path), 0o700); err != nil {
		return &UnusableError{Path: j.path, Err: fmt.Errorf("create its folder: %w", err)}
	}
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return &UnusableError{Path: j.path, Err: err}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			held := &HeldError{Path: j.path}
			if owner, ok := readLeaseHolder(j.path); ok {
				held.Holder = owner
			}
			return held
		}
		return fmt.Errorf("lock journal %s: %w", j.path, err)
	}
	j.lock = f
	return nil
}

// restrictMode makes the journal readable by its owner only.
func (j *Journal) restrictMode() error {
	fi, err := j.lock.Stat()
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return err
	}
	j.logger.Warn("journal file was readable by others; restricting it to its owner", "path", j.path, "mode", fi.Mode().Perm().String())
	if err := j.lock.Chmod(0o600); err != nil {
		return fmt.Errorf("restrict journal permissions: %w", err)
	}
	return nil
}

func (j *Journal) unlockFile() {
	if j.lock != nil {
		syscall.Flock(int(j.lock.Fd()), syscall.LOCK_UN)
		j.lock.Close()
		j.lock = nil
	}
}

// dsn returns the data source name: WAL, synchronous=FULL (OFF for a
// scratch copy), a busy timeout, immediate transactions and foreign keys.
func dsn(path string, readOnly bool, sync string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", sync)
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_txlock", "immediate")
	q.Set("_foreign_keys", "1")
	if sync == "OFF" {
		// A scratch copy keeps more of itself in memory between commits.
		q.Set("_cache_size", "-32768")
	}
	if readOnly {
		// mode=ro rather than query_only: a read-only connection may still
		// write a copy of the journal elsewhere (VACUUM INTO, for plan).
		q.Set("mode", "ro")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func (j *Journal) openDB(ctx context.Context) error {
	db, err := sql.Open("sqlite3", dsn(j.path, j.opts.ReadOnly, j.synchronous()))
	if err != nil {
		return &UnusableError{Path: j.path, Err: err}
	}
	// One connection: SQLite has one writer anyway, and the journal's
	// batching relies on every statement seeing the open transaction.
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return j.damaged(&UnusableError{Path: j.path, Err: err})
	}
	j.db, j.conn = db, conn
	if err := j.checkPragmas(ctx); err != nil {
		j.closeDB()
		return j.damaged(err)
	}
	if err := j.quickCheck(ctx); err != nil {
		j.closeDB()
		return j.damaged(err)
	}
	return nil
}

// damagedHint is what to do about a damaged journal.
const damagedHint = "restore it from a backup, or move it away and let the next run start a new one " +
	"(the directory snapshot and the accounts' external IDs will keep anyone from being created twice)"

// damaged says err in the words of a damaged journal when SQLite found
// the file corrupt, wherever in the file the damage is: quick_check
// reports damage in the tables, SQLite's own error damage in the header.
func (j *Journal) damaged(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrCorrupt && se.Code != sqlite3.ErrNotADB {
		return err
	}
	return &UnusableError{Path: j.path, Err: fmt.Errorf("it is damaged (%v)", se), Hint: damagedHint}
}

// quickCheck runs SQLite's quick_check: a journal damaged by a disk, a
// copy taken while it was written, or an editor is refused before a job
// trusts what it says.
func (j *Journal) quickCheck(ctx context.Context) error {
	q, err := j.conn.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return &UnusableError{Path: j.path, Err: err}
	}
	defer q.Close()
	var problems []string
	for q.Next() {
		var p string
		if err := q.Scan(&p); err != nil {
			return &UnusableError{Path: j.path, Err: err}
		}
		if p != "ok" {
			problems = append(problems, p)
		}
	}
	if err := q.Err(); err != nil {
		return &UnusableError{Path: j.path, Err: err}
	}
	if len(problems) > 0 {
		return &UnusableError{Path: j.path, Err: fmt.Errorf("it is damaged (%s)", strings.Join(problems, "; ")), Hint: damagedHint}
	}
	return nil
}

// synchronous returns the journal's synchronous setting: FULL, since the
// driver's default, NORMAL, can lose the last commits on power loss, and a
// lost intent is a possible duplicate account; OFF for a scratch copy.
func (j *Journal) synchronous() string {
	if j.opts.Scratch {
		return "OFF"
	}
	return "FULL"
}

// checkPragmas verifies that the settings of the DSN took: a driver that
// ignored one would silently weaken the journal's guarantees.
func (j *Journal) checkPragmas(ctx context.Context) error {
	want := []struct {
		pragma string
		value  string
	}{
		{"journal_mode", "wal"},
		{"synchronous", map[string]string{"FULL": "2", "OFF": "0"}[j.synchronous()]},
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
	}
	for _, w := range want {
		var got string
		if err := j.conn.QueryRowContext(ctx, "PRAGMA "+w.pragma).Scan(&got); err != nil {
			return &UnusableError{Path: j.path, Err: fmt.Errorf("read PRAGMA %s: %w", w.pragma, err)}
		}
		if got != w.value {
			return &UnusableError{Path: j.path, Err: fmt.Errorf("PRAGMA %s is %q, want %q", w.pragma, got, w.value),
				Hint: "keep the journal on a local disk (on Kubernetes, a PersistentVolumeClaim), never on a network filesystem"}
		}
	}
	return nil
}

func (j *Journal) closeDB() {
	for _, s := range j.stmts {
		s.Close()
	}
	if j.conn != nil {
		j.conn.Close()
	}
	if j.db != nil {
		j.db.Close()
	}
}

// Path returns the journal's absolute path.
func (j *Journal) Path() string { return j.path }

// Owner returns this process's lease.
func (j *Journal) Owner() Owner { return j.owner }

// Close commits what is pending, releases the lease and the OS lock, and
// closes the file.
func (j *Journal) Close() error {
	j.stopHeartbeat.Do(func() {
		if j.heartbeat != nil {
			close(j.heartbeat)
			j.heartbeats.Wait()
		}
	})
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	ctx := context.Background()
	j.mem.Lock()
	j.queue.closing = true // what is queued from now on would be lost
	j.mem.Unlock()
	err := j.commitLocked(ctx)
	j.closed = true
	if !j.opts.ReadOnly && err == nil {
		_, err = j.conn.ExecContext(ctx, "DELETE FROM lease WHERE owner = ?", j.owner.ID)
	}
	j.closeDB()
	j.unlockFile()
	// No write can ask for a commit any more, nor queue: it finds the
	// journal closed.
	close(j.commitAsked)
	j.mem.Lock()
	j.shut = true
	if j.queue.wake != nil {
		close(j.queue.wake)
	}
	j.room.Broadcast()
	j.mem.Unlock()
	j.mu.Unlock()
	j.committers.Wait()
	j.appliers.Wait()
	j.cmu.Lock()
	j.stopped = true
	j.committedCond.Broadcast()
	j.cmu.Unlock()
	if err != nil {
		return fmt.Errorf("close journal %s: %w", j.path, err)
	}
	return nil
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// CopyTo writes a consistent copy of the journal to path, which must not
// exist: plan works on a copy, so that it sees what the job holds and
// changes none of it.
func (j *Journal) CopyTo(ctx context.Context, path string) error {
	return j.read(func() error {
		if _, err := j.conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
			return fmt.Errorf("copy journal to %s: %w", path, err)
		}
		// SQLite creates the copy with the umask's mode.
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("copy journal to %s: %w", path, err)
		}
		return nil
	})
}
