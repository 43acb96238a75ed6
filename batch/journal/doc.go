// Package journal is the durable memory of a provisioning job: a SQLite
// file (github.com/mattn/go-sqlite3) that records every row, every username
// reservation and every remote side effect, so that an interrupted job
// resumes without creating anyone twice or forgetting anyone. A row a run
// skips (done before, nothing to change) is not rewritten: the run records
// the skip, by line, apart from the rows (skips.go).
//
// Every remote write is preceded by an intent committed to disk (Intent)
// and followed by its outcome (Outcome). Bookkeeping that needs no such
// guarantee (rows read, names reserved) is grouped into larger
// transactions and committed at the next intent or the next Commit (a job
// commits at least once a second while it finishes rows). The most frequent of it, a row saved and a name
// held, is not even applied by the caller: a goroutine of the journal's
// own applies it while the caller goes on, and lookups see it at once
// (behind.go).
//
// Two locks guard a journal: mu, the SQLite connection and its
// transaction, and mem, what it keeps in memory (filters, caches, the
// queue of writes). mem is taken alone or inside mu: a lookup that memory
// answers never waits for a statement.
//
// The database runs in WAL mode with synchronous=FULL: the driver's default,
// NORMAL, can lose the last commits on power loss, and a lost intent is a
// possible duplicate account. Open checks that every pragma took.
//
// Only one process may use a journal at a time. Open takes an OS lock on the
// file and a lease row with a heartbeat; a second process gets a *HeldError
// naming the holder. Passwords and tokens are never stored.
package journal
