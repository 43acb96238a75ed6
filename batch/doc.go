// Package batch is the provisioning job: it streams a CSV of people,
// validates each row, gives it a username in file order, and then, in a
// bounded pool of workers, creates the account, places it in its org unit
// and adds it to its groups, recording every intent in the journal before
// the side effect so that an interrupted job resumes without creating
// anyone twice.
//
// A job is a pipeline of stages, one file each:
//
//	input ──▶ reader goroutine ──▶ workers (errgroup, SetLimit) ──▶ finisher goroutine
//	          prepare.go           apply.go, effect.go               finish.go
//	          reject, skip, or     org unit, create or adopt,        report lines, one fsync
//	          name in file order   aliases, groups: each side        per group, then the rows
//	                               effect an intent, a call and      recorded as finished
//	                               an outcome
//	           │                            │                              ▲
//	           └────── rows finished at once (rejected, skipped) ─────────┘
//
// Before the first row, recover.go settles what an interrupted invocation
// left in flight, snapshot.go loads the directory's names and accounts,
// and, for a full file (or a OneRoster roster, oneroster.go), leaverscope.go
// works out the leavers and checks the safety limits. An existing account
// is brought in line with its row by update.go (the comparison in
// managed.go); after the last row, leavers.go suspends, moves or deletes
// the leavers. undo.go takes a run back. A row's states and the events
// that move it are one state machine, in rowstate.go; every change of a
// row's state goes through its record function, which journals it.
//
// The reader is the pipeline's critical path. What it journals for every
// row (the row read or named, the names held) the journal applies on a
// goroutine of its own (journal/behind.go), so SQLite works on the second
// core while the reader names the next rows. Two goroutines feed the
// reader: one reads and validates the records, 128 at a time, the other
// reads their rows from the journal, with their accounts, in one query,
// while the reader takes the records before; the rows of identities the
// reader took since the query began are read again (pool.go). A plan
// writes no row at all up to a bound, and a run does not rewrite the rows
// it skips: those rows are kept in memory, where a later duplicate line
// finds them (kept.go). A plan's row whose org unit and groups are known
// is planned by the reader itself, without a worker.
//
// The reader stops taking rows when the context is cancelled (SIGINT,
// SIGTERM) or the directory refuses the job itself; workers finish their
// calls under a context that outlives it by a grace period, so that their
// outcomes are journaled. The finisher drains everything queued before the
// job returns.
//
// The directory is reached through the small Directory interface
// (remote.go), which *directory.Client implements; plan runs the same job
// against a read-only view of it.
package batch
