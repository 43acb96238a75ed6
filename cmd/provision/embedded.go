package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
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
	url      string
	customer string // its customer ID, which tells it from another embedded directory
	stop     func()
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
// generated users the first time. Each new directory gets a customer ID of
// its own, so that a journal tells it from another.
func startEmulator(ctx context.Context, c emulatorConfig) (*embeddedEmulator, error) {
	state, err := os.ReadFile(c.statePath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load the embedded emulator's state: %w", err)
	}
	customer := ""
	if state != nil {
		var head struct {
			Domain     string `json:"domain"`
			CustomerID string `json:"customerId"`
		}
		if err := json.Unmarshal(state, &head); err != nil {
			return nil, fmt.Errorf("load the embedded emulator's state from %s: %w", c.statePath, err)
		}
		if !strings.EqualFold(head.Domain, c.domain) {
			return nil, usageErrorf("the emulator state %s is for %s, not %s; give another --emulator-state", c.statePath, head.Domain, c.domain)
		}
		customer = head.CustomerID
	} else {
		customer = newCustomerID()
	}
	emu, err := emulator.New(emulator.Options{
		Domain:         c.domain,
		CustomerID:     customer,
		QuotaPerMinute: c.quota,
		Latency:        embeddedLatency,
		Seed:           1,
	})
	if err != nil {
		return nil, fmt.Errorf("start the embedded emulator: %w", err)
	}
	if state != nil {
		if err := emu.LoadState(bytes.NewReader(state)); err != nil {
			return nil, fmt.Errorf("load the embedded emulator's state from %s: %w", c.statePath, err)
		}
	} else if err := emu.Generate(c.users); err != nil {
		return nil, fmt.Errorf("start the embedded emulator: %w", err)
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
	return &embeddedEmulator{url: url, customer: customer, stop: stop}, nil
}

// newCustomerID returns a customer ID shaped like Google's ("C" and eight
// letters and digits), random.
func newCustomerID() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 8)
	rand.Read(b)
	id := []byte{'C'}
	for _, c := range b {
		id = append(id, alphabet[int(c)%len(alphabet)])
	}
	return string(id)
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
