package emulator

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Latency is the distribution of the time a method takes to answer: a
// log-normal distribution whose median is Median and whose spread is
// Jitter, so that most answers fall within Median ± Jitter and a few take
// much longer, as Google's do. A zero Jitter means a quarter of Median.
type Latency struct {
	Median time.Duration
	Jitter time.Duration
}

// maxLatencyFactor caps a drawn latency at this multiple of the median, so
// that the tail stays long without stalling a test.
const maxLatencyFactor = 10

// sample draws one latency; z is a standard normal variate.
func (l Latency) sample(z float64) time.Duration {
	if l.Median <= 0 {
		return 0
	}
	jitter := l.Jitter
	if jitter <= 0 {
		jitter = l.Median / 4
	}
	sigma := math.Log1p(float64(jitter) / float64(l.Median))
	d := time.Duration(float64(l.Median) * math.Exp(sigma*z))
	return min(d, maxLatencyFactor*l.Median)
}

func (l Latency) validate() error {
	if l.Median < 0 || l.Jitter < 0 {
		return fmt.Errorf("negative latency %v~%v", l.Median, l.Jitter)
	}
	if l.Median == 0 && l.Jitter > 0 {
		return fmt.Errorf("jitter %v without a median", l.Jitter)
	}
	return nil
}

// ParseLatency parses the --latency flag: a comma-separated list of
// method=median[~jitter], where method is a method id with or without its
// "directory." prefix ("users.insert", "directory.members.insert") or "*"
// for every method not listed, for example
// "users.insert=120ms~40ms,members.insert=80ms,*=30ms".
func ParseLatency(spec string) (map[string]Latency, error) {
	out := map[string]Latency{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		method, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("latency %q: want method=duration[~jitter]", item)
		}
		method = canonicalMethod(strings.TrimSpace(method))
		if !knownMethod(method) {
			return nil, fmt.Errorf("latency %q: unknown method %q", item, method)
		}
		median, jitter, hasJitter := strings.Cut(strings.TrimSpace(value), "~")
		var l Latency
		var err error
		if l.Median, err = time.ParseDuration(strings.TrimSpace(median)); err != nil {
			return nil, fmt.Errorf("latency %q: %w", item, err)
		}
		if hasJitter {
			if l.Jitter, err = time.ParseDuration(strings.TrimSpace(jitter)); err != nil {
				return nil, fmt.Errorf("latency %q: %w", item, err)
			}
		}
		if err := l.validate(); err != nil {
			return nil, fmt.Errorf("latency %q: %w", item, err)
		}
		if _, dup := out[method]; dup {
			return nil, fmt.Errorf("latency %q: %s given twice", item, method)
		}
		out[method] = l
	}
	return out, nil
}

// canonicalMethod adds the "directory." prefix to a method id given
// without it.
func canonicalMethod(m string) string {
	if m == "*" || strings.HasPrefix(m, "directory.") {
		return m
	}
	return "directory." + m
}

// sleep waits for the latency drawn for method, or until ctx is done.
func (s *Server) sleep(ctx context.Context, method string) error {
	l, ok := s.opts.Latency[method]
	if !ok {
		l = s.opts.Latency["*"]
	}
	if l.Median == 0 {
		return nil
	}
	d := l.sample(s.latencyRand.NormFloat64())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
