package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/provisionhq/provision/batch/journal"
)

// A journal is the memory of one directory, not of one CSV file: every
// file run for a domain (tonight's export, tomorrow's with another date in
// its name, next semester's) shares it, so that the journal, and not a
// directory listing that can lag by hours, knows who has an account. By
// default journals live in a state folder, one per directory:
//
//	<state>/<domain>.journal                        Google Workspace
//	<state>/emulator/<domain>.journal               the embedded emulator
//	<state>/endpoint/<host>_<port>/<domain>.journal another endpoint
//
// A trial on the embedded emulator never shares a journal with real runs.

// stateDirFlag is the flag that chooses the state folder.
const stateDirFlag = "state-dir"

// stateDir returns the folder journals live in by default: given (the
// --state-dir flag or $PROVISION_STATE_DIR), else $XDG_STATE_HOME/provision,
// else ~/.local/state/provision.
func stateDir(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "provision"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return "", withHint(usageErrorf("there is no home folder to keep journals in"),
			"give --journal FILE, or --"+stateDirFlag+" DIR ($"+envName(stateDirFlag)+"), on a disk that lasts (on Kubernetes, the PersistentVolumeClaim)")
	}
	return filepath.Join(home, ".local", "state", "provision"), nil
}

// directoryOf says which directory the flags reach for domain, without
// connecting: the journal's path depends on it. The embedded emulator's
// customer ID is only known once it runs.
func (f *directoryFlags) directoryOf(domain string) (journal.Directory, error) {
	d := journal.Directory{Domain: strings.ToLower(domain)}
	switch {
	case f.useEmulator():
		d.Kind = journal.EmulatorDirectory
	case f.endpoint == "" || sameEndpoint(f.endpoint, googleEndpoint):
		d.Kind = journal.GoogleDirectory
	default:
		endpoint, err := normalEndpoint(f.endpoint)
		if err != nil {
			return d, usageErrorf("--endpoint: %v", err)
		}
		d.Kind, d.Endpoint = journal.EndpointDirectory, endpoint
	}
	return d, nil
}

// googleEndpoint is Google's Directory API root, as --endpoint may name it.
const googleEndpoint = "https://admin.googleapis.com/"

// normalEndpoint returns an endpoint URL in one spelling: scheme and host
// lowercased, the path ending with "/".
func normalEndpoint(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%q is not an http or https URL such as %s", s, googleEndpoint)
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String(), nil
}

func sameEndpoint(a, b string) bool {
	na, errA := normalEndpoint(a)
	nb, errB := normalEndpoint(b)
	return errA == nil && errB == nil && na == nb
}

// defaultJournalPath returns the journal of directory d in the state
// folder.
func defaultJournalPath(state string, d journal.Directory) string {
	name := d.Domain + ".journal"
	switch d.Kind {
	case journal.EmulatorDirectory:
		return filepath.Join(state, "emulator", name)
	case journal.EndpointDirectory:
		u, _ := url.Parse(d.Endpoint)
		return filepath.Join(state, "endpoint", fileSafe(u.Host+strings.TrimSuffix(u.Path, "/")), name)
	}
	return filepath.Join(state, name)
}

// fileSafe turns s into one file name: every character but letters,
// digits, '.' and '-' becomes '_'.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// legacyJournal returns the journal an earlier provision kept next to the
// input, when there is one.
func legacyJournal(input string) (string, bool) {
	p := strings.TrimSuffix(input, filepath.Ext(input)) + ".journal"
	fi, err := os.Stat(p)
	return p, err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}

// journalsIn lists the journals of a state folder, for a message.
func journalsIn(state string) []string {
	var found []string
	filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".journal") {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// errNoJournal is returned by commands that read a journal that is not
// there.
var errNoJournal = errors.New("no journal")
