package directory

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

func TestProbeAlgo(t *testing.T) {
	emu, _ := emulator.New(emulator.Options{Seed: 1, Domain: testDomain})
	if err := emu.Generate(200000); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range emu.State().Users {
		keys = append(keys, u.PrimaryEmail)
	}
	slices.Sort(keys)
	for _, tc := range []struct{ quota, workers int }{{2400, 16}, {12000, 64}, {12000, 32}, {6000, 32}} {
		synctest.Test(t, func(t *testing.T) {
			listing := &sortedListing{keys: keys, pageSize: 500}
			lim := newLimiter(tc.quota)
			list := func(ctx context.Context, prefix, token string) ([]entry, string, error) {
				if err := lim.wait(ctx); err != nil {
					return nil, "", err
				}
				time.Sleep(330 * time.Millisecond)
				return listing.list(ctx, prefix, token)
			}
			s := newScheduler(tc.workers)
			_ = lim
			for _, ch := range firstChars {
				s.add(&shard{list: list, prefix: string(ch), splittable: true})
			}
			out := make(chan []Name, tc.workers)
			var wg sync.WaitGroup
			start := time.Now()
			for range tc.workers {
				wg.Go(func() { s.work(context.Background(), out) })
			}
			go func() { wg.Wait(); close(out) }()
			n := 0
			for b := range out {
				n += len(b)
			}
			el := time.Since(start)
			t.Logf("quota %d workers %d: %d names, %d requests, %v, ratio %.1f", tc.quota, tc.workers, n, listing.requests.Load(), el, 401*0.33/el.Seconds())
		})
	}
}
