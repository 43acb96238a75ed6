//go:build provisiontest

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/batch/journal"
)

func init() {
	testCommands = append(testCommands, command{"bench", "measure speed and memory against the emulator, as ratios", runBench})
}

// realisticLatency is what Google's Directory API answers take, roughly:
// inserts a few hundred milliseconds, reads and member inserts less.
var realisticLatency = map[string]emulator.Latency{
	"*":                        {Median: 80 * time.Millisecond, Jitter: 30 * time.Millisecond},
	"directory.users.insert":   {Median: 300 * time.Millisecond, Jitter: 100 * time.Millisecond},
	"directory.members.insert": {Median: 150 * time.Millisecond, Jitter: 50 * time.Millisecond},
	"directory.users.list":     {Median: 300 * time.Millisecond, Jitter: 100 * time.Millisecond},
}

// benchSizes are the sizes of one bench run.
type benchSizes struct {
	rows           int // P1 and P5: rows of the run
	sequentialRows int // P1: rows of the concurrency-1 baseline
	planSmall      int // P3: rows of the smaller plan
	planLarge      int // P3: rows of the larger plan
	directory      int // P3: existing users
}

func runBench(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "[--quick] [--only P1,P3,P5]", stderr)
	quick := fs.Bool("quick", false, "smaller sizes, for a quick look (the goals are for the full sizes)")
	only := fs.String("only", "P1,P3,P5", "scenarios to run")
	dir := fs.String("dir", "", "work `directory` (default: a temporary one)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	sizes := benchSizes{rows: 2000, sequentialRows: 100, planSmall: 100_000, planLarge: 1_000_000, directory: 1_000_000}
	if *quick {
		sizes = benchSizes{rows: 300, sequentialRows: 20, planSmall: 10_000, planLarge: 100_000, directory: 100_000}
	}
	work := *dir
	if work == "" {
		tmp, err := os.MkdirTemp("", "provision-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	b := &bench{ctx: ctx, out: stdout, dir: work, sizes: sizes}
	for _, name := range strings.Split(strings.ToUpper(*only), ",") {
		var err error
		switch strings.TrimSpace(name) {
		case "P1":
			err = b.p1()
		case "P3":
			err = b.p3()
		case "P5":
			err = b.p5()
		default:
			return usageErrorf("bench: unknown scenario %q; the bench command runs P1, P3 and P5 (P2 and P4 are Go benchmarks: make bench)", name)
		}
		if err != nil {
			return fmt.Errorf("bench %s: %w", name, err)
		}
	}
	return nil
}

type bench struct {
	ctx   context.Context
	out   io.Writer
	dir   string
	sizes benchSizes
	runs  int
}

// result prints one figure next to its goal.
func (b *bench) result(name, what string, value float64, goal string, met bool) {
	verdict := "met"
	if !met {
		verdict = "MISSED"
	}
	fmt.Fprintf(b.out, "%-3s %-58s %8.2f   goal %-8s %s\n", name, what, value, goal, verdict)
}

// p1 measures a realistic run against the quota-bound maximum and against
// a sequential run.
func (b *bench) p1() error {
	const quota = 6000
	perRow := 3.0 // one users.insert, two members.insert
	max := quota / 60.0 / perRow
	full, err := b.job(emulator.Options{QuotaPerMinute: quota, Latency: realisticLatency}, b.sizes.rows, quota, 64)
	if err != nil {
		return err
	}
	seq, err := b.job(emulator.Options{QuotaPerMinute: quota, Latency: realisticLatency}, b.sizes.sequentialRows, quota, 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "P1  %d rows, quota %d/min, realistic latency: %.1f rows/s (%d requests, %.1f/s); sequential: %.2f rows/s; quota-bound maximum %.1f rows/s\n",
		b.sizes.rows, quota, full.rowsPerSecond(), full.Directory.Requests, full.requestsPerSecond(), seq.rowsPerSecond(), max)
	b.result("P1", "rows/s ÷ quota-bound maximum", full.rowsPerSecond()/max, "≥ 0.95", full.rowsPerSecond()/max >= 0.95)
	b.result("P1", "rows/s ÷ sequential rows/s", full.rowsPerSecond()/seq.rowsPerSecond(), "≥ 10", full.rowsPerSecond()/seq.rowsPerSecond() >= 10)
	limited := 100 * float64(full.Directory.RateLimited) / float64(full.Directory.Requests)
	b.result("P1", "rate-limit answers, % of requests", limited, "≤ 1", limited <= 1)
	return nil
}

// p5 measures a run against an emulator that answers at once, to show that
// the journal (synchronous=FULL) is never what limits a real run.
func (b *bench) p5() error {
	const quota = 2400
	max := quota / 60.0 / 3
	r, err := b.job(emulator.Options{}, b.sizes.rows, 100_000_000, 16)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "P5  %d rows, zero latency, no quota: %.1f rows/s; quota-bound rate at %d/min: %.1f rows/s\n",
		b.sizes.rows, r.rowsPerSecond(), quota, max)
	b.result("P5", "zero-latency rows/s ÷ quota-bound rows/s", r.rowsPerSecond()/max, "≥ 10", r.rowsPerSecond()/max >= 10)
	return nil
}

// jobResult is a finished bench job.
type jobResult struct {
	*batch.Summary
	rows int
}

func (r jobResult) rowsPerSecond() float64 { return float64(r.rows) / r.Elapsed.Seconds() }
func (r jobResult) requestsPerSecond() float64 {
	return float64(r.Directory.Requests) / r.Elapsed.Seconds()
}

// job runs rows people, each with one insert and two groups, against a new
// emulator, and returns the summary.
func (b *bench) job(opts emulator.Options, rows, quota, concurrency int) (jobResult, error) {
	b.runs++
	opts.Domain = "bench.example.org"
	url, stop, err := startBenchEmulator(b.ctx, opts, 1000)
	if err != nil {
		return jobResult{}, err
	}
	defer stop()
	// The org units and groups exist, as they do in a school's second
	// semester: the figure is about accounts.
	client, err := directory.New(b.ctx, directory.Config{Endpoint: url, Domain: opts.Domain, Groups: directory.GroupRead, QuotaPerMinute: quota})
	if err != nil {
		return jobResult{}, err
	}
	admin, err := directory.New(b.ctx, directory.Config{Endpoint: url, Domain: opts.Domain, Groups: directory.GroupCreate, QuotaPerMinute: 1_000_000})
	if err != nil {
		return jobResult{}, err
	}
	for g := range 10 {
		if err := admin.EnsureGroup(b.ctx, fmt.Sprintf("class-%d@%s", g, opts.Domain), "class"); err != nil {
			return jobResult{}, err
		}
	}
	for grade := 5; grade <= 8; grade++ {
		if err := admin.EnsureOrgUnit(b.ctx, fmt.Sprintf("/Grade %d", grade), directory.CreateParents); err != nil {
			return jobResult{}, err
		}
	}
	input := filepath.Join(b.dir, fmt.Sprintf("run%d.csv", b.runs))
	if err := writeBenchCSV(input, rows); err != nil {
		return jobResult{}, err
	}
	j, err := journal.Open(b.ctx, filepath.Join(b.dir, fmt.Sprintf("run%d.journal", b.runs)), journal.Options{})
	if err != nil {
		return jobResult{}, err
	}
	defer j.Close()
	cfg := batch.Config{Domain: opts.Domain, OrgUnit: batch.OrgUnitConfig{Default: "/Grade [grade]"}, Concurrency: concurrency, Quota: quota}.WithDefaults()
	job := &batch.Job{Config: cfg, InputPath: input, ReportPath: filepath.Join(b.dir, fmt.Sprintf("run%d.report.csv", b.runs)),
		Journal: j, Directory: client, Stats: client.Stats, Logger: slog.New(slog.DiscardHandler)}
	sum, err := job.Run(b.ctx)
	if err != nil {
		return jobResult{}, err
	}
	if sum.Statuses[batch.StatusCreated] != rows {
		return jobResult{}, fmt.Errorf("created %d of %d rows", sum.Statuses[batch.StatusCreated], rows)
	}
	return jobResult{Summary: sum, rows: rows}, nil
}

// p3 measures the peak memory of plan on a large file against a large
// directory, against a file ten times smaller: memory is bounded by the
// pool, not the file.
func (b *bench) p3() error {
	opts := emulator.Options{Domain: "bench.example.org"}
	url, stop, err := startBenchEmulator(b.ctx, opts, b.sizes.directory)
	if err != nil {
		return err
	}
	defer stop()
	small, err := b.planRSS(url, b.sizes.planSmall)
	if err != nil {
		return err
	}
	large, err := b.planRSS(url, b.sizes.planLarge)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "P3  plan against %d users: %d rows peak RSS %.1f MB; %d rows peak RSS %.1f MB\n",
		b.sizes.directory, b.sizes.planSmall, small, b.sizes.planLarge, large)
	b.result("P3", fmt.Sprintf("peak RSS %d rows ÷ %d rows", b.sizes.planLarge, b.sizes.planSmall), large/small, "≤ 1.3", large/small <= 1.3)
	b.result("P3", fmt.Sprintf("peak RSS of %d rows, MB", b.sizes.planLarge), large, "≤ 200", large <= 200)
	return nil
}

// planRSS runs provision plan in a child process and returns its peak
// resident memory in MB. The peak is read from the child's own
// /proc/PID/status (VmHWM) while it runs: the rusage of a child counts
// the parent's memory too, since Go starts children from a clone that
// shares the parent's address space until exec.
func (b *bench) planRSS(url string, rows int) (float64, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	input := filepath.Join(b.dir, fmt.Sprintf("plan%d.csv", rows))
	if err := writeBenchCSV(input, rows); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(b.ctx, self, "plan", "--endpoint", url, "--domain", "bench.example.org", "--quota", "100000000",
		"--log-format", "json", "--journal", filepath.Join(b.dir, fmt.Sprintf("plan%d.journal", rows)), input)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peakKB int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return 0, fmt.Errorf("plan of %d rows: %v\n%s", rows, err, tail([]byte(out.String())))
			}
			if peakKB == 0 {
				return 0, fmt.Errorf("plan of %d rows: could not read its memory from /proc", rows)
			}
			return float64(peakKB) / 1024, nil
		case <-tick.C:
			if kb, ok := highWaterKB(cmd.Process.Pid); ok && kb > peakKB {
				peakKB = kb
			}
		}
	}
}

// highWaterKB reads the peak resident set size (VmHWM) of a process.
func highWaterKB(pid int) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb, true
			}
		}
	}
	return 0, false
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// writeBenchCSV writes rows people with a grade and two groups each; many
// share a name, as in a real school.
func writeBenchCSV(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	first := []string{"John", "Ana", "Björn", "Zoë", "Mehmet", "Li", "Seán", "María", "Olga", "Yūki", "Kwame", "Priya"}
	last := []string{"Smith", "Lima", "Ødegård", "O'Brien", "Yılmaz", "Wang", "Murphy", "García", "Ivanova", "Tanaka"}
	fmt.Fprintln(w, "firstname,lastname,id,grade,groups")
	for i := range rows {
		fmt.Fprintf(w, "%s,%s,%d,%d,class-%d;class-%d\n", first[i%len(first)], last[(i/len(first))%len(last)], 1_000_000+i, 5+i%4, i%5, 5+i%5)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startBenchEmulator serves a new emulator with users existing users on a
// free port of 127.0.0.1.
func startBenchEmulator(ctx context.Context, opts emulator.Options, users int) (url string, stop func(), err error) {
	opts.Seed = 1
	emu, err := emulator.New(opts)
	if err != nil {
		return "", nil, err
	}
	if err := emu.Generate(users); err != nil {
		return "", nil, err
	}
	return serveLoopback(ctx, emu)
}
