package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// abortOnSecondSignal returns a channel closed by a SIGINT or SIGTERM that
// arrives after ctx was cancelled (by the first one): the job then stops at
// once instead of letting calls in flight finish. The journal still holds
// every intent. stop releases the signal handler.
func abortOnSecondSignal(ctx context.Context) (abort <-chan struct{}, stop func()) {
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		select {
		case <-sig:
			close(ch)
		case <-done:
		}
	}()
	return ch, func() { close(done) }
}
