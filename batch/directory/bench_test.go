package directory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// sequentialSnapshot is the plain pager the parallel snapshot is measured
// against: users.list and groups.list one page after another, through the
// same client, limiter and field masks.
func sequentialSnapshot(ctx context.Context, c *Client, sink func([]Name) error) error {
	for _, list := range []listFunc{c.listUsers(nil), c.listGroups} {
		token := ""
		for {
			entries, next, err := list(ctx, "", token)
			if err != nil {
				return err
			}
			var names []Name
			for _, e := range entries {
				names = append(names, e.names...)
			}
			if err := sink(names); err != nil {
				return err
			}
			if next == "" {
				break
			}
			token = next
		}
	}
	return nil
}

// BenchmarkSnapshot loads the names of 200,000 generated users, 300 ms a
// page as Google takes, with the parallel snapshot and with a sequential
// pager, and reports how many times faster the parallel one is. The
// sequential pager sends about 3 requests a second, far under any quota; the
// parallel one is measured at Google's default quota of 2,400 requests a
// minute, where 400-odd pages take at least 10 s whatever the parallelism,
// and at 12,000, a quota Google grants on request.
func BenchmarkSnapshot(b *testing.B) {
	const users = 200_000
	latency := map[string]emulator.Latency{
		"directory.users.list":  {Median: 300 * time.Millisecond},
		"directory.groups.list": {Median: 300 * time.Millisecond},
	}
	emu, url := startEmulator(b, emulator.Options{Seed: 1, Latency: latency})
	if err := emu.Generate(users); err != nil {
		b.Fatal(err)
	}
	count := func(n *int) func([]Name) error {
		return func(batch []Name) error { *n += len(batch); return nil }
	}

	var seqNames int
	seqClient := mustClient(b, Config{Endpoint: url, QuotaPerMinute: 2400, Retry: defaultRetry})
	start := time.Now()
	if err := sequentialSnapshot(b.Context(), seqClient, count(&seqNames)); err != nil {
		b.Fatal(err)
	}
	seq := time.Since(start)
	seqRequests := seqClient.Stats().Requests

	for _, tt := range []struct {
		quota, parallel int
	}{
		{2400, 16},
		{12_000, 64},
	} {
		b.Run(fmt.Sprintf("quota=%d/parallel=%d", tt.quota, tt.parallel), func(b *testing.B) {
			var requests, rateLimited int64
			for b.Loop() {
				c := mustClient(b, Config{Endpoint: url, QuotaPerMinute: tt.quota, SnapshotParallelism: tt.parallel, Retry: defaultRetry})
				names := 0
				if err := c.Snapshot(b.Context(), count(&names)); err != nil {
					b.Fatal(err)
				}
				if names != seqNames {
					b.Fatalf("parallel snapshot delivered %d names, sequential %d", names, seqNames)
				}
				s := c.Stats()
				requests += s.Requests
				rateLimited += s.RateLimited
			}
			par := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(seq)/float64(par), "x-faster")
			b.ReportMetric(seq.Seconds(), "seq-s")
			b.ReportMetric(par.Seconds(), "parallel-s")
			b.ReportMetric(float64(seqRequests), "seq-requests")
			b.ReportMetric(float64(requests)/float64(b.N), "parallel-requests")
			b.ReportMetric(float64(rateLimited)/float64(b.N), "rate-limited")
		})
	}
}

// BenchmarkSnapshotAccounts loads 100,000 generated users, 300 ms a page,
// at 12,000 requests a minute, with Snapshot (addresses) and with
// SnapshotAccounts (every field the lifecycle decides on), and reports the
// requests and time of each: the accounts cost no request more, only
// larger pages.
func BenchmarkSnapshotAccounts(b *testing.B) {
	const users = 100_000
	latency := map[string]emulator.Latency{
		"directory.users.list":  {Median: 300 * time.Millisecond},
		"directory.groups.list": {Median: 300 * time.Millisecond},
	}
	emu, url := startEmulator(b, emulator.Options{Seed: 1, Latency: latency})
	if err := emu.Generate(users); err != nil {
		b.Fatal(err)
	}
	newClient := func() *Client {
		return mustClient(b, Config{Endpoint: url, QuotaPerMinute: 12_000, SnapshotParallelism: 16, Retry: defaultRetry})
	}
	var namesRequests, accountsRequests int64
	var namesTime, accountsTime time.Duration
	for b.Loop() {
		c := newClient()
		start := time.Now()
		if err := c.Snapshot(b.Context(), func([]Name) error { return nil }); err != nil {
			b.Fatal(err)
		}
		namesTime += time.Since(start)
		namesRequests += c.Stats().Requests

		c = newClient()
		start = time.Now()
		accounts := 0
		err := c.SnapshotAccounts(b.Context(), nil, func(batch AccountBatch) error {
			accounts += len(batch.Accounts)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if accounts != users {
			b.Fatalf("SnapshotAccounts delivered %d accounts, want %d", accounts, users)
		}
		accountsTime += time.Since(start)
		accountsRequests += c.Stats().Requests
	}
	n := float64(b.N)
	b.ReportMetric(float64(namesRequests)/n, "names-requests")
	b.ReportMetric(float64(accountsRequests)/n, "accounts-requests")
	b.ReportMetric(namesTime.Seconds()/n, "names-s")
	b.ReportMetric(accountsTime.Seconds()/n, "accounts-s")
}

// BenchmarkSustainedRate runs 64 workers reading users through one client
// against an emulator that allows 6,000 requests a minute, for 15 s, and
// reports the achieved rate as a share of the quota and the share of
// requests refused with a rate-limit answer.
func BenchmarkSustainedRate(b *testing.B) {
	const (
		quota   = 6000
		workers = 64
		window  = 15 * time.Second
	)
	latency := map[string]emulator.Latency{"*": {Median: 40 * time.Millisecond}}
	for b.Loop() {
		emu, url := startEmulator(b, emulator.Options{Seed: 2, QuotaPerMinute: quota, Latency: latency})
		if err := emu.Generate(1000); err != nil {
			b.Fatal(err)
		}
		c := mustClient(b, Config{Endpoint: url, QuotaPerMinute: quota, Retry: defaultRetry})
		st := emu.State()
		ctx, cancel := context.WithTimeout(b.Context(), window)
		var (
			wg     sync.WaitGroup
			done   atomic.Int64
			failed atomic.Int64
		)
		start := time.Now()
		for w := range workers {
			wg.Go(func() {
				for i := w; ; i += workers {
					_, err := c.GetUser(ctx, st.Users[i%len(st.Users)].PrimaryEmail)
					switch {
					case errors.Is(err, context.DeadlineExceeded):
						return
					case err != nil:
						failed.Add(1)
					default:
						done.Add(1)
					}
				}
			})
		}
		wg.Wait()
		cancel()
		elapsed := time.Since(start)
		if n := failed.Load(); n != 0 {
			b.Fatalf("%d reads failed", n)
		}
		es := emu.Stats()
		b.ReportMetric(float64(es.Requests)/elapsed.Minutes()/quota, "achieved/quota")
		b.ReportMetric(float64(es.RateLimited)/float64(es.Requests), "rate-limited/requests")
		b.ReportMetric(float64(done.Load())/elapsed.Seconds(), "reads/s")
	}
}
