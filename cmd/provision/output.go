package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/report"
)

// isTerminal reports whether v is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newLogger returns the job's logger on w: text on a terminal, JSON
// otherwise or when asked. quiet says a progress bar will share the
// terminal, so only warnings are logged.
func newLogger(w io.Writer, format string) (logger *slog.Logger, quiet bool, err error) {
	tty := isTerminal(w)
	switch format {
	case "":
		if tty {
			format = "text"
		} else {
			format = "json"
		}
	case "text", "json":
	default:
		return nil, false, usageErrorf("--log-format %q: use text or json", format)
	}
	quiet = tty && format == "text"
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), quiet, nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), quiet, nil
}

// newProgress shows progress: a bar on a terminal, or a log line every
// ten seconds for a CronJob's logs.
func newProgress(w io.Writer, logger *slog.Logger, bar bool) batch.Progress {
	if bar {
		return &barProgress{w: w}
	}
	return &logProgress{logger: logger, every: 10 * time.Second}
}

// barProgress draws a progress bar with the counts so far.
type barProgress struct {
	w   io.Writer
	mu  sync.Mutex
	bar *progressbar.ProgressBar
	ok  int
	bad int
}

func (p *barProgress) Start(rows int) {
	p.bar = progressbar.NewOptions(rows,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("rows"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Row(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if status == report.StatusFailed {
		p.bad++
	} else {
		p.ok++
	}
	p.bar.Describe(fmt.Sprintf("done %d, failed %d", p.ok, p.bad))
	p.bar.Add(1)
}

func (p *barProgress) Done() {
	p.bar.Finish()
}

// logProgress logs the counts periodically.
type logProgress struct {
	logger *slog.Logger
	every  time.Duration

	mu     sync.Mutex
	start  time.Time
	last   time.Time
	rows   int
	counts map[string]int
}

func (p *logProgress) Start(rows int) {
	p.start, p.last, p.rows, p.counts = time.Now(), time.Now(), rows, map[string]int{}
	p.logger.Info("started", "estimated_rows", rows)
}

func (p *logProgress) Row(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[status]++
	if time.Since(p.last) >= p.every {
		p.last = time.Now()
		p.log("progress")
	}
}

func (p *logProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log("finished")
}

func (p *logProgress) log(msg string) {
	done := 0
	for _, n := range p.counts {
		done += n
	}
	elapsed := time.Since(p.start).Seconds()
	attrs := []any{"done", done, "estimated_rows", p.rows, "failed", p.counts[report.StatusFailed]}
	if elapsed > 0 {
		attrs = append(attrs, "rows_per_second", float64(int(float64(done)/elapsed*10))/10)
	}
	p.logger.Info(msg, attrs...)
}
