package report

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/provisionhq/provision/batch/journal"
)

// UnsafeOutputError means an output path would destroy or expose
// something: it is the input, the journal, a folder, a symbolic link, a
// report a run still needs, or a file provision did not write. It is
// refused before anything changes.
type UnsafeOutputError struct {
	Path   string
	Reason string
}

func (e *UnsafeOutputError) Error() string {
	return fmt.Sprintf("will not write to %s: %s", e.Path, e.Reason)
}

// A Protected is a file an output must never be: the input, the journal
// and its -wal and -shm files, the report of an unfinished run.
type Protected struct {
	Path string
	What string // what it is, for the message: "the input", "the journal"
}

// JournalFiles returns the journal at path and the files SQLite keeps
// beside it, as outputs must not be any of them.
func JournalFiles(path string) []Protected {
	return []Protected{
		{path, "the journal"},
		{path + "-wal", "the journal's write-ahead log"},
		{path + "-shm", "the journal's shared memory file"},
	}
}

// checkOutput refuses an output path that is one of protected, a folder,
// a symbolic link or anything but a regular file. It returns whether the
// file exists.
func checkOutput(path string, protected []Protected) (exists bool, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false, &UnsafeOutputError{Path: path, Reason: err.Error()}
	}
	fi, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, &UnsafeOutputError{Path: path, Reason: err.Error()}
	case fi.Mode()&fs.ModeSymlink != 0:
		return false, &UnsafeOutputError{Path: path, Reason: "it is a symbolic link; give the path of the file itself"}
	case fi.IsDir():
		return false, &UnsafeOutputError{Path: path, Reason: "it is a folder; give a file name in it"}
	case !fi.Mode().IsRegular():
		return false, &UnsafeOutputError{Path: path, Reason: "it is not a regular file"}
	}
	exists = err == nil
	for _, p := range protected {
		if p.Path == "" {
			continue
		}
		pabs, err := filepath.Abs(p.Path)
		if err != nil {
			continue
		}
		same := pabs == abs
		if !same && exists {
			// A hard link or another spelling of the same file.
			if pfi, err := os.Stat(pabs); err == nil {
				same = os.SameFile(fi, pfi)
			}
		}
		if same {
			return false, &UnsafeOutputError{Path: path, Reason: "it is " + p.What}
		}
	}
	return exists, nil
}

// isReport reports whether the file at path starts with the report's
// header: a file provision wrote, which it may keep under another name.
func isReport(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return false
	}
	return strings.TrimRight(line, "\r\n") == strings.Join(header, ",")
}

// CreateOutput creates a new report file at path, readable only by its
// owner, refusing a path that is one of protected (see checkOutput). An
// existing file is kept under a dated name (returned as kept) when it is a
// report provision wrote, and refused otherwise. The new file is created
// exclusively and never through a symbolic link.
func CreateOutput(path string, protected []Protected) (f *os.File, kept string, err error) {
	exists, err := checkOutput(path, protected)
	if err != nil {
		return nil, "", err
	}
	if exists {
		if !isReport(path) {
			return nil, "", &UnsafeOutputError{Path: path, Reason: "it exists and is not a report provision wrote; move it away or choose another file"}
		}
		if kept, err = keepEarlier(path); err != nil {
			return nil, "", err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, kept, fmt.Errorf("create the folder of %s: %w", path, err)
	}
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, kept, fmt.Errorf("create %s: %w", path, err)
	}
	return f, kept, nil
}

// checkReport checks, without changing anything, that OpenReport would
// accept path.
func Check(path string, resume bool, protected []Protected) error {
	exists, err := checkOutput(path, protected)
	switch {
	case err != nil || !exists || isReport(path):
		return err
	case resume:
		return &UnsafeOutputError{Path: path, Reason: "the report of the run being resumed is not a report provision wrote (it was replaced); move it away to resume"}
	}
	return &UnsafeOutputError{Path: path, Reason: "it exists and is not a report provision wrote; move it away or choose another file"}
}

// appendOutput opens an existing report to go on writing it, refusing it
// as CreateOutput would and when it is not a report provision wrote.
func appendOutput(path string, protected []Protected) (*os.File, error) {
	exists, err := checkOutput(path, protected)
	switch {
	case err != nil:
		return nil, err
	case !exists:
		f, _, err := CreateOutput(path, protected)
		return f, err
	case !isReport(path):
		return nil, &UnsafeOutputError{Path: path, Reason: "the report of the run being resumed is not a report provision wrote (it was replaced); move it away to resume"}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open report: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("restrict report permissions: %w", err)
	}
	return f, nil
}

// keepEarlier moves an earlier report to a free name with its
// modification time before the extension, without ever replacing a file.
func keepEarlier(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("keep the earlier report: %w", err)
	}
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	stamp := fi.ModTime().UTC().Format("20060102T150405Z")
	name := base + "." + stamp + ext
	for i := 2; ; i++ {
		// A link fails when the name exists: nothing is ever replaced.
		err := os.Link(path, name)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 1000 {
			return "", fmt.Errorf("keep the earlier report: %w", err)
		}
		name = fmt.Sprintf("%s.%s-%d%s", base, stamp, i, ext)
	}
	if err := os.Remove(path); err != nil {
		return "", fmt.Errorf("keep the earlier report: %w", err)
	}
	return name, nil
}

// RunReports returns the reports of runs, as files a plan or an export
// must never write over: they may hold initial passwords, and an
// unfinished run goes on writing its own.
func RunReports(runs []journal.Run) []Protected {
	var p []Protected
	for _, r := range runs {
		p = append(p, Protected{Path: r.ReportPath, What: fmt.Sprintf("the report of run %d of the journal, which may hold initial passwords", r.ID)})
	}
	return p
}
