package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/provisionhq/provision/batch/input"
)

// Report statuses.
const (
	StatusCreated   = "created"   // the account was created
	StatusConverged = "converged" // the account already existed and was brought in line
	StatusSkipped   = "skipped"   // nothing to do
	StatusFailed    = "failed"    // the row could not be processed; see error
	StatusPlanned   = "planned"   // plan: what run would do
	// The lifecycle: an account changed to match its row, and a leaver
	// (an account of a full file's scope that the file no longer lists)
	// suspended, deleted, or back and unsuspended.
	StatusUpdated     = "updated"
	StatusSuspended   = "suspended"
	StatusUnsuspended = "unsuspended"
	StatusDeleted     = "deleted"
	// StatusIgnored: the row is not provisioned, as the file or the
	// config says (a OneRoster role not configured, a person leaving).
	StatusIgnored = "ignored"
)

// reportHeader is the report's first line.
var header = []string{"line", "id", "firstname", "lastname", "email", "orgunit", "groups", "status", "error", "password"}

// A Line is one row of the report.
type Line struct {
	Line      int // 0 for an account the input does not list (a leaver)
	ID        string
	FirstName string
	LastName  string
	Email     string
	OrgUnit   string
	Groups    []string
	Status    string
	Error     string
	Password  string // only a password the tool generated
}

func (l Line) record() []string {
	line := "" // an account the file does not list: a leaver
	if l.Line > 0 {
		line = strconv.Itoa(l.Line)
	}
	rec := []string{line, l.ID, l.FirstName, l.LastName, l.Email, l.OrgUnit,
		strings.Join(l.Groups, ";"), l.Status, l.Error, l.Password}
	for i := range rec {
		rec[i] = safeCell(rec[i])
	}
	return rec
}

// ReadReport calls fn for every line of the report at path, finding the
// columns by the header's names: the report is read back only through the
// type that writes it. Reading stops, without an error, at a line torn by
// a crash: nothing after it was written.
func Read(path string, fn func(Line) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("read the header of %s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, h := range header {
		if _, ok := col[h]; !ok {
			return fmt.Errorf("%s is not a report: it has no %s column", path, h)
		}
	}
	cr.FieldsPerRecord = len(header)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // a line torn by a crash
		}
		cell := func(name string) string { return unsafeCell(rec[col[name]]) }
		line, err := strconv.Atoi(cell("line"))
		if err != nil {
			continue
		}
		l := Line{Line: line, ID: cell("id"), FirstName: cell("firstname"), LastName: cell("lastname"), Email: cell("email"),
			OrgUnit: cell("orgunit"), Status: cell("status"), Error: cell("error"), Password: cell("password")}
		if g := cell("groups"); g != "" {
			l.Groups = strings.Split(g, ";")
		}
		if err := fn(l); err != nil {
			return err
		}
	}
}

// unsafeCell undoes the formula neutralisation of safeCell.
func unsafeCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// safeCell neutralises a cell a spreadsheet would run as a formula: one
// that starts with = + - @, a tab or a carriage return gets a leading '.
// Generated passwords never start with one of these, so they are never
// changed.
func safeCell(s string) string {
	// A rejected row may hold bytes that are not text, or characters that
	// hide what a line says (ESC, bidi overrides); the report stays valid
	// UTF-8 and shows those as their code points, whatever the input held.
	s = input.Visible(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// A Report is the report file of a run: one line per input row, readable
// only by its owner (it may hold initial passwords). Lines are buffered
// and made durable together (see sync), so that many rows share one fsync.
type File struct {
	path   string
	mu     sync.Mutex
	f      *os.File
	w      *csv.Writer
	noSync bool // a plan's report: flushed, never synced
}

// NoSync makes sync flush the report without forcing it to disk: a plan's
// report holds no password and nothing depends on it surviving a crash.
func (r *File) NoSync() { r.noSync = true }

// OpenReport opens the report at path. With resume, an existing report is
// continued; otherwise an existing report is kept under a new name
// (returned as rotated) and a new one is started, so that no earlier
// report, and no password in it, is ever overwritten. A path that is one
// of protected, a folder, a symbolic link or a file provision did not
// write is refused with an *UnsafeOutputError.
func Open(path string, resume bool, protected []Protected) (r *File, rotated string, err error) {
	var f *os.File
	if resume {
		f, err = appendOutput(path, protected)
	} else {
		f, rotated, err = CreateOutput(path, protected)
	}
	if err != nil {
		return nil, rotated, err
	}
	r = &File{path: path, f: f, w: csv.NewWriter(f)}
	if isEmpty(f) {
		if err := r.write(header); err != nil {
			f.Close()
			return nil, rotated, err
		}
	}
	return r, rotated, nil
}

func isEmpty(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Size() == 0
}

// Path returns the report's path.
func (r *File) Path() string { return r.path }

// Write appends a line and syncs it to disk before returning.
func (r *File) Write(l Line) error {
	if err := r.Add(l); err != nil {
		return err
	}
	return r.Sync()
}

// add buffers a line; it reaches the disk with the next sync.
func (r *File) Add(l Line) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.w.Write(l.record()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// sync writes the buffered lines and forces them to disk.
func (r *File) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Flush()
	if err := r.w.Error(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if r.noSync {
		return nil
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("sync report: %w", err)
	}
	return nil
}

// write writes one record at once, synced: the header.
func (r *File) write(rec []string) error {
	r.mu.Lock()
	err := r.w.Write(rec)
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return r.Sync()
}

// Close closes the report file.
func (r *File) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// An Export writes a report exported from the journal, as `provision
// report` does: the same columns, never a password.
type Export struct {
	cw *csv.Writer
}

// NewExport writes the header to w and returns the export.
func NewExport(w io.Writer) (*Export, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	return &Export{cw: cw}, nil
}

// Write writes a line, without its password.
func (e *Export) Write(l Line) error {
	l.Password = ""
	if err := e.cw.Write(l.record()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Flush writes what is buffered.
func (e *Export) Flush() error {
	e.cw.Flush()
	if err := e.cw.Error(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Columns returns the report's header: the names of its columns.
func Columns() []string { return slices.Clone(header) }
