package directory

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

func TestLimiter_slowDownAndClimb(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(600)
		check := func(step string, want float64) {
			t.Helper()
			if got := l.perMinute(); math.Abs(got-want) > 0.01 {
				t.Errorf("%s: perMinute = %.2f, want %.2f", step, got, want)
			}
		}
		check("start", 600)
		l.slowDown()
		check("after a rate-limit answer", 420)
		l.slowDown()
		check("a second answer within the hold", 420)
		time.Sleep(slowHold)
		l.slowDown()
		check("an answer after the hold", 294)
		time.Sleep(slowHold + 15*time.Second)
		check("15s of climbing", 294+15*600/recoverySeconds)
		time.Sleep(time.Minute)
		check("a minute later", 600)
		for range 50 {
			time.Sleep(slowHold)
			l.slowDown()
		}
		check("floor", 600*floorFraction)
	})
}

// load runs workers that read one user through c until the fake clock has
// advanced by d, and returns how many reads failed.
func load(t *testing.T, c *Client, workers int, d time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	for range workers {
		wg.Go(func() {
			for {
				_, err := c.GetUser(ctx, "ada@"+testDomain)
				if errors.Is(err, context.DeadlineExceeded) {
					return
				}
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return failed
}

func TestLimiter_neverAboveQuota(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const quota = 1200 // per minute: 20 a second
		var (
			mu    sync.Mutex
			times []time.Time
		)
		observe := func(*http.Request) {
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
		}
		emu, c, stop := startPipeEmulator(t, emulator.Options{QuotaPerMinute: quota},
			Config{QuotaPerMinute: quota, Retry: defaultRetry}, observe)
		defer stop()
		if _, err := c.InsertUser(t.Context(), newUser("ada", "")); err != nil {
			t.Fatal(err)
		}
		if failed := load(t, c, 32, 2*time.Minute); failed != 0 {
			t.Errorf("%d reads failed", failed)
		}
		if n := emu.Stats().RateLimited; n != 0 {
			t.Errorf("emulator answered %d requests with its rate limit, want none", n)
		}
		// In any window of one second: the rate plus the burst.
		burst := int(math.Ceil(quota / 60.0 / 10))
		for i := range times {
			j := i
			for j < len(times) && times[j].Sub(times[i]) < time.Second {
				j++
			}
			if n := j - i; n > quota/60+burst {
				t.Fatalf("%d requests within a second from %v, want at most %d", n, times[i], quota/60+burst)
			}
		}
		perMinute := float64(len(times)) / 2
		t.Logf("%d requests in 2m: %.0f a minute", len(times), perMinute)
		if perMinute > quota+float64(burst) || perMinute < 0.95*quota {
			t.Errorf("achieved %.0f requests a minute, want close to and not above %d", perMinute, quota)
		}
	})
}

func TestLimiter_adaptsToAServerQuota(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const serverQuota, clientQuota = 600, 1200
		emu, c, stop := startPipeEmulator(t, emulator.Options{QuotaPerMinute: serverQuota},
			Config{QuotaPerMinute: clientQuota, Retry: defaultRetry}, nil)
		defer stop()
		if _, err := c.InsertUser(t.Context(), newUser("ada", "")); err != nil {
			t.Fatal(err)
		}
		if failed := load(t, c, 16, 2*time.Minute); failed != 0 {
			t.Errorf("%d reads failed", failed)
		}
		es, cs := emu.Stats(), c.Stats()
		t.Logf("%d requests in 2m, %d refused, limiter at %.0f/min", es.Requests, es.RateLimited, cs.PerMinute)
		if cs.RateLimited == 0 || cs.RateLimited != es.RateLimited {
			t.Errorf("client saw %d rate-limit answers, emulator sent %d; want equal and nonzero", cs.RateLimited, es.RateLimited)
		}
		// Sending at the client's quota, twice the server's, would have
		// half the requests refused; slowing down keeps it to a few.
		if share := float64(es.RateLimited) / float64(es.Requests); share > 0.1 {
			t.Errorf("%d of %d requests were refused (%.0f%%), want under 10%%", es.RateLimited, es.Requests, 100*share)
		}
		if cs.PerMinute >= clientQuota {
			t.Errorf("under load, PerMinute = %.0f, want below %d", cs.PerMinute, clientQuota)
		}
		time.Sleep(time.Minute)
		if got := c.Stats().PerMinute; got != clientQuota {
			t.Errorf("a minute after the load, PerMinute = %.0f, want back to %d", got, clientQuota)
		}
	})
}
