// Package batch is the provisioning job: it streams a CSV of people,
// validates each row, gives it a username in file order, and then, in a
// bounded pool of workers, creates the account, places it in its org unit
// and adds it to its groups, recording every intent in the journal before
// the side effect so that an interrupted job resumes without creating
// anyone twice.
//
// The directory is reached through the small Directory interface, which
// *directory.Client implements; plan runs the same job against a
// read-only view of it.
package batch
