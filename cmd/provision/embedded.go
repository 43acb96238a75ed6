package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// emulatorConfig configures the emulator run and plan start in-process.
type emulatorConfig struct {
	domain    string
	users     int    // existing users generated when there is no state
	quota     int    // requests per minute, as Google's would be
	statePath string // where its directory is kept between runs
	save      bool   // write the state back at the end (run, not plan)
	logger    *slog.Logger
}

// embeddedEmulator is an emulator serving on 127.0.0.1 in this process.
type embeddedEmulator struct {
	url  string
	stop func()
}

// embeddedLatency makes the embedded emulator answer about as fast as
// Google does, so that the demo shows what a real run feels like.
var embeddedLatency = map[string]emulator.Latency{
	"*":                        {Median: 40 * time.Millisecond, Jitter: 20 * time.Millisecond},
	"directory.users.insert":   {Median: 120 * time.Millisecond, Jitter: 40 * time.Millisecond},
	"directory.members.insert": {Median: 80 * time.Millisecond, Jitter: 30 * time.Millisecond},
	"directory.users.list":     {Median: 150 * time.Millisecond, Jitter: 50 * time.Millisecond},
}

// startEmulator starts the emulator with its saved directory, or with
// generated users the first time.
func startEmulator(ctx context.Context, c emulatorConfig) (*embeddedEmulator, error) {
	emu, err := emulator.New(emulator.Options{
		Domain:         c.domain,
		QuotaPerMinute: c.quota,
		Latency:        embeddedLatency,
		Seed:           1,
	})
	if err != nil {
		return nil, fmt.Errorf("start the embedded emulator: %w", err)
	}
	switch f, err := os.Open(c.statePath); {
	case err == nil:
		err = emu.LoadState(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("load the embedded emulator's state from %s: %w", c.statePath, err)
		}
		if emu.Domain() != c.domain {
			return nil, usageErrorf("the emulator state %s is for %s, not %s; give another --emulator-state", c.statePath, emu.Domain(), c.domain)
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := emu.Generate(c.users); err != nil {
			return nil, fmt.Errorf("start the embedded emulator: %w", err)
		}
	default:
		return nil, fmt.Errorf("load the embedded emulator's state: %w", err)
	}
	url, stopServing, err := serveLoopback(ctx, emu)
	if err != nil {
		return nil, fmt.Errorf("start the embedded emulator: %w", err)
	}
	stop := func() {
		stopServing()
		if c.save {
			if err := saveState(emu, c.statePath); err != nil {
				c.logger.Error("could not save the embedded emulator's state", "path", c.statePath, "err", err)
			}
		}
	}
	return &embeddedEmulator{url: url, stop: stop}, nil
}

// serveLoopback serves emu on a free port of 127.0.0.1 until stop is
// called, not until ctx ends: calls in flight when a job is interrupted
// still need their answers.
func serveLoopback(ctx context.Context, emu *emulator.Server) (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- emu.Serve(serveCtx, l) }()
	return "http://" + l.Addr().String() + "/", func() { cancel(); <-served }, nil
}

// saveState writes the emulator's directory atomically, readable only by
// its owner.
func saveState(emu *emulator.Server, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := emu.WriteState(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
