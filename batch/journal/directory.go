package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Kinds of directory a journal can work on.
const (
	// GoogleDirectory is Google Workspace, at Google's endpoint.
	GoogleDirectory = "google"
	// EndpointDirectory is the Directory API at another URL: a proxy, or
	// an emulator served by `provision emulator`.
	EndpointDirectory = "endpoint"
	// EmulatorDirectory is the emulator a job starts in its own process,
	// told apart from another by its customer ID.
	EmulatorDirectory = "emulator"
)

// A Directory is the one directory a journal is the memory of: one
// Workspace domain on one endpoint. What the journal knows of accounts,
// names and counters is true of that directory only.
type Directory struct {
	Kind     string // GoogleDirectory, EndpointDirectory or EmulatorDirectory
	Endpoint string // the API root URL of an EndpointDirectory; "" otherwise
	Domain   string // the Workspace domain, lowercased
	// Customer is the customer ID the directory gave, once known: Google's
	// answers carry it, and an embedded emulator has its own.
	Customer string
}

// String names the directory for a person.
func (d Directory) String() string {
	var s string
	switch d.Kind {
	case GoogleDirectory:
		s = "Google Workspace, domain " + d.Domain
	case EmulatorDirectory:
		s = "the embedded emulator, domain " + d.Domain
	default:
		s = "the Directory API at " + d.Endpoint + ", domain " + d.Domain
	}
	if d.Customer != "" {
		s += " (customer " + d.Customer + ")"
	}
	return s
}

// same reports whether d and o are one directory: the same kind, endpoint
// and domain, and the same customer when both know theirs.
func (d Directory) same(o Directory) bool {
	return d.Kind == o.Kind && d.Endpoint == o.Endpoint && strings.EqualFold(d.Domain, o.Domain) &&
		(d.Customer == "" || o.Customer == "" || d.Customer == o.Customer)
}

// WrongDirectoryError means a journal is being used for another directory
// than the one it remembers.
type WrongDirectoryError struct {
	Path    string
	Journal Directory // the directory the journal belongs to
	Asked   Directory // the directory the job works on
}

func (e *WrongDirectoryError) Error() string {
	return fmt.Sprintf("the journal %s belongs to %s, but this job works on %s; what it remembers of accounts and names is not true there",
		e.Path, e.Journal, e.Asked)
}

// meta keys of the directory.
var directoryKeys = []string{"directory_kind", "directory_endpoint", "directory_domain", "directory_customer"}

// Directory returns the directory the journal belongs to; false when no
// job has used it yet.
func (j *Journal) Directory(ctx context.Context) (Directory, bool, error) {
	var d Directory
	var found bool
	err := j.read(func() (err error) {
		d, found, err = j.directoryLocked(ctx)
		return err
	})
	return d, found, err
}

func (j *Journal) directoryLocked(ctx context.Context) (Directory, bool, error) {
	values := make([]string, len(directoryKeys))
	for i, k := range directoryKeys {
		q, err := j.queryRow(ctx, "SELECT value FROM meta WHERE key = ?", k)
		if err != nil {
			return Directory{}, false, err
		}
		switch err := q.Scan(&values[i]); {
		case errors.Is(err, sql.ErrNoRows):
			if i == 0 {
				return Directory{}, false, nil
			}
		case err != nil:
			return Directory{}, false, fmt.Errorf("read the journal's directory: %w", err)
		}
	}
	return Directory{Kind: values[0], Endpoint: values[1], Domain: values[2], Customer: values[3]}, true, nil
}

// BindDirectory records d as the journal's directory at its first use,
// and checks it at every later one: a journal used for another directory
// returns a *WrongDirectoryError and changes nothing. A customer ID the
// journal did not know yet is recorded.
func (j *Journal) BindDirectory(ctx context.Context, d Directory) error {
	if d.Kind == "" || d.Domain == "" {
		return errors.New("bind journal: the directory has no kind or domain")
	}
	d.Domain = strings.ToLower(d.Domain)
	return j.write(ctx, durable, func() error {
		known, found, err := j.directoryLocked(ctx)
		if err != nil {
			return err
		}
		if found && !known.same(d) {
			path := j.path
			if j.opts.CopyOf != "" {
				path = j.opts.CopyOf
			}
			return &WrongDirectoryError{Path: path, Journal: known, Asked: d}
		}
		if found && (known.Customer != "" || d.Customer == "") {
			return nil
		}
		values := []string{d.Kind, d.Endpoint, d.Domain, d.Customer}
		for i, k := range directoryKeys {
			if _, err := j.exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", k, values[i]); err != nil {
				return fmt.Errorf("record the journal's directory: %w", err)
			}
		}
		return nil
	})
}
