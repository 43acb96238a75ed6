package emulator

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseLatency(t *testing.T) {
	tests := []struct {
		spec    string
		want    map[string]Latency
		wantErr string
	}{
		{"", map[string]Latency{}, ""},
		{"users.insert=120ms~40ms,members.insert=80ms,*=30ms", map[string]Latency{
			"directory.users.insert":   {120 * time.Millisecond, 40 * time.Millisecond},
			"directory.members.insert": {Median: 80 * time.Millisecond},
			"*":                        {Median: 30 * time.Millisecond},
		}, ""},
		{"directory.users.list = 1s ~ 200ms", map[string]Latency{"directory.users.list": {time.Second, 200 * time.Millisecond}}, ""},
		{"users.teleport=1s", nil, `unknown method "directory.users.teleport"`},
		{"users.insert", nil, "want method=duration"},
		{"users.insert=fast", nil, "invalid duration"},
		{"users.insert=1s~wobbly", nil, "invalid duration"},
		{"users.insert=-1s", nil, "negative latency"},
		{"users.insert=0~1s", nil, "jitter 1s without a median"},
		{"users.insert=1s,directory.users.insert=2s", nil, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseLatency(tt.spec)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ParseLatency(%q) = %v", tt.spec, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ParseLatency(%q) = %v, %v; want error containing %q", tt.spec, got, err, tt.wantErr)
			case err == nil && !mapsEqual(got, tt.want):
				t.Errorf("ParseLatency(%q) = %v, want %v", tt.spec, got, tt.want)
			}
		})
	}
}

func mapsEqual(a, b map[string]Latency) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestLatency_sample(t *testing.T) {
	l := Latency{Median: 100 * time.Millisecond, Jitter: 30 * time.Millisecond}
	if got := l.sample(0); got != l.Median {
		t.Errorf("sample(0) = %v, want the median %v", got, l.Median)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var draws []time.Duration
	for range 10000 {
		draws = append(draws, l.sample(r.NormFloat64()))
	}
	slices.Sort(draws)
	median, p16, p84, top := draws[5000], draws[1600], draws[8400], draws[len(draws)-1]
	if median < 95*time.Millisecond || median > 105*time.Millisecond {
		t.Errorf("median of draws = %v, want about 100ms", median)
	}
	// One standard deviation of the log spans the jitter on either side.
	if p16 < 70*time.Millisecond || p16 > 85*time.Millisecond || p84 < 120*time.Millisecond || p84 > 140*time.Millisecond {
		t.Errorf("16th and 84th percentiles = %v, %v; want about 77ms and 130ms", p16, p84)
	}
	if top > maxLatencyFactor*l.Median || draws[0] <= 0 {
		t.Errorf("draws range over [%v, %v], want positive and capped at %v", draws[0], top, maxLatencyFactor*l.Median)
	}
	if got := (Latency{Median: 80 * time.Millisecond}).sample(1); got == 80*time.Millisecond {
		t.Errorf("sample(1) without jitter = the median; want the default jitter to spread it")
	}
	if got := (Latency{}).sample(3); got != 0 {
		t.Errorf("zero Latency sample = %v, want 0", got)
	}
}

func TestServer_latency(t *testing.T) {
	lat := map[string]Latency{
		"directory.users.get": {Median: 20 * time.Millisecond, Jitter: 10 * time.Millisecond},
		"*":                   {Median: time.Millisecond},
	}
	_, svc := start(t, Options{Latency: lat, Seed: 3})
	var took []time.Duration
	for range 8 {
		begin := time.Now()
		svc.Users.Get("nobody@example.com").Do()
		took = append(took, time.Since(begin))
	}
	slices.Sort(took)
	if took[0] < 5*time.Millisecond {
		t.Errorf("fastest users.get took %v, want about 20ms", took[0])
	}
	if took[len(took)-1]-took[0] < 2*time.Millisecond {
		t.Errorf("users.get took %v: want a spread, not a constant", took)
	}
	begin := time.Now()
	svc.Users.List().Customer("my_customer").Do()
	if d := time.Since(begin); d > 15*time.Millisecond {
		t.Errorf("users.list took %v, want about the 1ms default", d)
	}
}

func TestServer_latencyHonoursTheContext(t *testing.T) {
	s, svc := start(t, Options{Latency: map[string]Latency{"*": {Median: 10 * time.Second}}})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := svc.Users.Get("nobody@example.com").Context(ctx).Do()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get = %v, want the deadline", err)
	}
	// The handler gives up too rather than sleeping on: the test server's
	// Close would wait for it.
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Get took %v", d)
	}
	if st := s.Stats(); st.Requests != 1 {
		t.Errorf("Stats = %+v, want one request", st)
	}
}
