package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// UnusableError means a journal cannot be opened or trusted: the path is a
// folder or another kind of file, it is damaged, or it cannot be read or
// written. Nothing was changed.
type UnusableError struct {
	Path string
	Err  error
	Hint string // what to do, in plain words; "" when Err says it
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("cannot use the journal %s: %v", e.Path, e.Err)
}

func (e *UnusableError) Unwrap() error { return e.Err }

// sqliteMagic is how every SQLite database file starts.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkJournalFile refuses a path that is not a journal before anything
// opens, locks or changes it: a folder, a device, or a file with other
// content (a CSV given as --journal by mistake). A missing or empty file is
// a new journal, unless readOnly.
func checkJournalFile(path string, readOnly bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !readOnly:
		return nil
	case err != nil:
		return &UnusableError{Path: path, Err: err}
	case fi.IsDir():
		return &UnusableError{Path: path, Err: errors.New("it is a folder"), Hint: "give the path of a journal file with --journal"}
	case !fi.Mode().IsRegular():
		return &UnusableError{Path: path, Err: errors.New("it is not a regular file")}
	case fi.Size() == 0 && !readOnly:
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return &UnusableError{Path: path, Err: err}
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteMagic) {
		return &UnusableError{Path: path, Err: errors.New("it is not a journal: the file holds something else, and provision leaves it as it is"),
			Hint: "check --journal (or PROVISION_JOURNAL): it names the journal file, not the CSV or the report"}
	}
	return nil
}
