package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts under testdata/script run provision as a
// command, in the style of age's CLI tests. Journals of the tests never go
// to the real state folder: XDG_STATE_HOME points at a temporary one.
func TestMain(m *testing.M) {
	state, err := os.MkdirTemp("", "provision-test-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", state)
	m2 := mainWithCleanup{TestingM: m, cleanup: func() { os.RemoveAll(state) }}
	testscript.Main(m2, map[string]func(){"provision": main})
}

// mainWithCleanup removes the temporary state folder after the tests, as
// testscript.Main exits the process itself.
type mainWithCleanup struct {
	testscript.TestingM
	cleanup func()
}

func (m mainWithCleanup) Run() int {
	defer m.cleanup()
	return m.TestingM.Run()
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			// Each script keeps its journals in its own work folder.
			e.Setenv("PROVISION_STATE_DIR", filepath.Join(e.WorkDir, "state"))
			return nil
		},
	})
}
