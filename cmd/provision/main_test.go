package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts under testdata/script run provision as a
// command, in the style of age's CLI tests.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"provision": main})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
