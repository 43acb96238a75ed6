package directory

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/singleflight"
)

// ensurer makes sure something exists at most once per key across
// goroutines: concurrent callers for one key share one attempt, and a key
// that succeeded is remembered for the client's lifetime.
type ensurer struct {
	flight singleflight.Group
	known  sync.Map // key → struct{}
}

// leaderGone is the result of an attempt whose caller's context ended: the
// callers that waited for it try again under their own contexts.
type leaderGone struct{ err error }

func (e *leaderGone) Error() string { return e.err.Error() }

// forget drops key from what is known to exist, once it has been deleted,
// so that the next ensure creates it again.
func (e *ensurer) forget(key string) { e.known.Delete(key) }

// ensure runs create for key unless key is known to exist, or waits for the
// goroutine already running it and shares its result.
func (e *ensurer) ensure(ctx context.Context, key string, create func(context.Context) error) error {
	for {
		if _, ok := e.known.Load(key); ok {
			return nil
		}
		ch := e.flight.DoChan(key, func() (any, error) {
			if err := create(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, &leaderGone{err}
				}
				return nil, err
			}
			e.known.Store(key, struct{}{})
			return nil, nil
		})
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case r := <-ch:
			var gone *leaderGone
			if !errors.As(r.Err, &gone) {
				return r.Err
			}
			if ctx.Err() != nil {
				return gone.err
			}
		}
	}
}
