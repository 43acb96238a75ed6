package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/provisionhq/provision/batch/directory/emulator"
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"directory": cmdDirectory,
			"faults":    cmdFaults,
		},
	})
}

// scriptDirectories holds the emulator a script started last, for faults.
var scriptDirectories sync.Map // *testscript.TestScript → *emulator.Server

// cmdDirectory serves a Directory API emulator for example.org on a free
// port of 127.0.0.1 until the script ends, and sets $DIRECTORY to its URL:
// "a real directory" for scripts, reached with --endpoint.
//
//	directory
func cmdDirectory(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: directory")
	}
	emu, err := emulator.New(emulator.Options{Domain: "example.org"})
	ts.Check(err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: emu}
	go srv.Serve(l)
	scriptDirectories.Store(ts, emu)
	ts.Defer(func() { srv.Close(); scriptDirectories.Delete(ts) })
	ts.Setenv("DIRECTORY", "http://"+l.Addr().String()+"/")
}

// cmdFaults sets the faults of the script's directory, as the emulator's
// --faults flag spells them; ” clears them: the admin fixed the setup.
//
//	faults SPEC
func cmdFaults(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: faults SPEC")
	}
	emu, ok := scriptDirectories.Load(ts)
	if !ok {
		ts.Fatalf("faults: no directory started")
	}
	f, err := emulator.ParseFaults(args[0])
	ts.Check(err)
	emu.(*emulator.Server).SetFaults(f)
}
