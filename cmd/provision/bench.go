//go:build provisiontest

package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
	"github.com/provisionhq/provision/naming"
)

func init() {
	testCommands = append(testCommands, command{"bench", "measure speed and memory against the emulator, as ratios", runBench})
}

// benchSizes are the sizes of one bench run.
type benchSizes struct {
	plan       int // B1: rows of the plan timed against the floor
	rerun      int // B2, B3: rows run, then run again when all are done
	rssSmall   int // B4: rows of the smaller plan
	rssLarge   int // B4: rows of the larger plan
	directory  int // B4: users of the directory the plans read
	quotaBound int // B5: rows of the run at the quota
}

// The scenarios, each measured in one run and reported as a ratio:
//
//	B1 plan of 200,000 rows ÷ the floor (reading and naming the same rows
//	   with encoding/csv and naming.Reserver)                   goal ≤ 5
//	B2 run of 10,000 rows all done already ÷ the same floor      goal ≤ 5
//	B3 zero-latency run, synchronous=FULL, rows per second      goal ≥ 1000
//	B4 peak RSS of a 1,000,000-row plan, and ÷ a 100,000-row one
//	                                                goal ≤ 150 MB and ≤ 1.3
//	B5 1,000-row run at 6,000 requests/min, 200 ms mean latency,
//	   ÷ the quota-bound rate                                    goal ≥ 0.95
var benchScenarios = []string{"B1", "B2", "B3", "B4", "B5"}

func runBench(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "[--quick] [--only B1,B2,...]", stderr)
	quick := fs.Bool("quick", false, "smaller sizes, for a quick look (the goals are for the full sizes)")
	only := fs.String("only", strings.Join(benchScenarios, ","), "scenarios to run")
	dir := fs.String("dir", "", "work `directory` (default: a temporary one)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	sizes := benchSizes{plan: 200_000, rerun: 10_000, rssSmall: 100_000, rssLarge: 1_000_000, directory: 1_000_000, quotaBound: 1000}
	if *quick {
		sizes = benchSizes{plan: 20_000, rerun: 2000, rssSmall: 10_000, rssLarge: 100_000, directory: 100_000, quotaBound: 200}
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
	want := map[string]bool{}
	for _, name := range strings.Split(strings.ToUpper(*only), ",") {
		want[strings.TrimSpace(name)] = true
	}
	for name := range want {
		if !strings.Contains(strings.Join(benchScenarios, ","), name) {
			return usageErrorf("bench: unknown scenario %q; the scenarios are %s", name, strings.Join(benchScenarios, ", "))
		}
	}
	steps := []struct {
		names []string
		run   func() error
	}{
		{[]string{"B1"}, b.planVsFloor},
		{[]string{"B2", "B3"}, b.rerunAndRate},
		{[]string{"B4"}, b.planMemory},
		{[]string{"B5"}, b.atQuota},
	}
	for _, s := range steps {
		if !want[s.names[0]] && (len(s.names) < 2 || !want[s.names[1]]) {
			continue
		}
		if err := s.run(); err != nil {
			return fmt.Errorf("bench %s: %w", strings.Join(s.names, ", "), err)
		}
	}
	return nil
}

type bench struct {
	ctx   context.Context
	out   io.Writer
	dir   string
	sizes benchSizes
	files int
}

// result prints one figure next to its goal.
func (b *bench) result(name, what string, value float64, goal string, met bool) {
	verdict := "met"
	if !met {
		verdict = "MISSED"
	}
	fmt.Fprintf(b.out, "%-3s %-62s %9.2f   goal %-8s %s\n", name, what, value, goal, verdict)
}

// floor reads and names the rows of a bench file with nothing but
// encoding/csv and naming.Reserver, in memory: the least any plan of the
// same rows must do.
func floor(path string) (time.Duration, error) {
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return 0, err
	}
	res := naming.NewReserver(naming.Options{})
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return time.Since(start), nil
		}
		if err != nil {
			return 0, err
		}
		if _, err := res.Reserve(context.Background(), rec[2], naming.Fields{naming.FirstName: rec[0], naming.LastName: rec[1], "grade": rec[3]}); err != nil {
			return 0, err
		}
	}
}

// planVsFloor is B1.
func (b *bench) planVsFloor() error {
	url, stop, err := startBenchEmulator(b.ctx, emulator.Options{Domain: benchDomain}, 1000)
	if err != nil {
		return err
	}
	defer stop()
	if err := b.prepareDirectory(url); err != nil {
		return err
	}
	input, err := b.csv(b.sizes.plan)
	if err != nil {
		return err
	}
	fl, err := floor(input)
	if err != nil {
		return err
	}
	elapsed, _, err := b.provision("plan", url, input, filepath.Join(b.dir, "plan.journal"))
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "B1  plan of %d rows: %v; floor (encoding/csv and naming.Reserver): %v\n", b.sizes.plan, elapsed.Round(time.Millisecond), fl.Round(time.Millisecond))
	ratio := elapsed.Seconds() / fl.Seconds()
	b.result("B1", "plan ÷ floor", ratio, "≤ 5", ratio <= 5)
	return nil
}

// rerunAndRate is B2 and B3: a run of rows at zero latency, then the same
// file again, every row done.
func (b *bench) rerunAndRate() error {
	url, stop, err := startBenchEmulator(b.ctx, emulator.Options{Domain: benchDomain}, 1000)
	if err != nil {
		return err
	}
	defer stop()
	input, err := b.csv(b.sizes.rerun)
	if err != nil {
		return err
	}
	if err := b.prepareDirectory(url); err != nil {
		return err
	}
	journalPath := filepath.Join(b.dir, "rerun.journal")
	first, _, err := b.provision("run", url, input, journalPath)
	if err != nil {
		return err
	}
	again, out, err := b.provision("run", url, input, journalPath)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "nothing to do") {
		return fmt.Errorf("the second run did something:\n%s", tail([]byte(out)))
	}
	fl, err := floor(input)
	if err != nil {
		return err
	}
	rate := float64(b.sizes.rerun) / first.Seconds()
	fmt.Fprintf(b.out, "B2  run of %d rows all done: %v; floor: %v\n", b.sizes.rerun, again.Round(time.Millisecond), fl.Round(time.Millisecond))
	b.result("B2", "rerun of done rows ÷ floor", again.Seconds()/fl.Seconds(), "≤ 5", again.Seconds()/fl.Seconds() <= 5)
	fmt.Fprintf(b.out, "B3  run of %d rows, one insert and two members each, zero latency, synchronous=FULL: %v\n", b.sizes.rerun, first.Round(time.Millisecond))
	b.result("B3", "rows per second", rate, "≥ 1000", rate >= 1000)
	return nil
}

// planMemory is B4: memory is bounded by the pool, not by the file.
func (b *bench) planMemory() error {
	url, stop, err := startBenchEmulator(b.ctx, emulator.Options{Domain: benchDomain}, b.sizes.directory)
	if err != nil {
		return err
	}
	defer stop()
	small, err := b.planRSS(url, b.sizes.rssSmall)
	if err != nil {
		return err
	}
	large, err := b.planRSS(url, b.sizes.rssLarge)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "B4  plan against %d users: %d rows peak RSS %.1f MB; %d rows peak RSS %.1f MB\n",
		b.sizes.directory, b.sizes.rssSmall, small, b.sizes.rssLarge, large)
	b.result("B4", fmt.Sprintf("peak RSS of %d rows, MB", b.sizes.rssLarge), large, "≤ 150", large <= 150)
	b.result("B4", fmt.Sprintf("peak RSS %d rows ÷ %d rows", b.sizes.rssLarge, b.sizes.rssSmall), large/small, "≤ 1.3", large/small <= 1.3)
	return nil
}

// atQuota is B5: a run is as fast as the quota allows.
func (b *bench) atQuota() error {
	const quota = 6000
	latency := map[string]emulator.Latency{"*": {Median: 200 * time.Millisecond, Jitter: 60 * time.Millisecond}}
	url, stop, err := startBenchEmulator(b.ctx, emulator.Options{Domain: benchDomain, QuotaPerMinute: quota, Latency: latency}, 1000)
	if err != nil {
		return err
	}
	defer stop()
	if err := b.prepareDirectory(url); err != nil {
		return err
	}
	input, err := b.csv(b.sizes.quotaBound)
	if err != nil {
		return err
	}
	elapsed, _, err := b.provision("run", url, input, filepath.Join(b.dir, "quota.journal"), "--quota", fmt.Sprint(quota), "--concurrency", "64")
	if err != nil {
		return err
	}
	bound := quota / 60.0 / 3 // one users.insert and two members.insert a row
	rate := float64(b.sizes.quotaBound) / elapsed.Seconds()
	fmt.Fprintf(b.out, "B5  run of %d rows at %d requests/min, 200 ms mean latency: %.1f rows/s; quota-bound rate %.1f rows/s\n",
		b.sizes.quotaBound, quota, rate, bound)
	b.result("B5", "rows per second ÷ quota-bound rate", rate/bound, "≥ 0.95", rate/bound >= 0.95)
	return nil
}

// benchDomain is the domain of every bench directory.
const benchDomain = "bench.example.org"

// prepareDirectory creates the org units and groups the bench rows join,
// as they exist in a school's second semester: the figures are about
// accounts.
func (b *bench) prepareDirectory(url string) error {
	admin, err := directory.New(b.ctx, directory.Config{Endpoint: url, Domain: benchDomain, Groups: directory.GroupCreate, QuotaPerMinute: 1_000_000})
	if err != nil {
		return err
	}
	for g := range 10 {
		if err := admin.EnsureGroup(b.ctx, fmt.Sprintf("class-%d@%s", g, benchDomain), "class"); err != nil {
			return err
		}
	}
	for grade := 5; grade <= 8; grade++ {
		if err := admin.EnsureOrgUnit(b.ctx, fmt.Sprintf("/Grade %d", grade), directory.CreateParents); err != nil {
			return err
		}
	}
	return nil
}

// benchConfig places the bench rows in their grade's org unit.
const benchConfig = "domain: " + benchDomain + "\norgUnit: {default: \"/Grade [grade]\"}\n"

// provision runs this binary's command (run or plan) on input against the
// emulator at url, and returns how long it took, wall clock, and what it
// printed.
func (b *bench) provision(command, url, input, journalPath string, extra ...string) (time.Duration, string, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, "", err
	}
	config := filepath.Join(b.dir, "bench.yaml")
	if err := os.WriteFile(config, []byte(benchConfig), 0o600); err != nil {
		return 0, "", err
	}
	b.files++
	args := append([]string{command, "--endpoint", url, "--config", config, "--quota", "100000000", "--yes", "--log-format", "json",
		"--journal", journalPath, "--report", filepath.Join(b.dir, fmt.Sprintf("report%d.csv", b.files))}, extra...)
	if command == "plan" {
		args = slices.DeleteFunc(args, func(a string) bool { return a == "--yes" })
	}
	cmd := exec.CommandContext(b.ctx, self, append(args, input)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return 0, out.String(), fmt.Errorf("provision %s: %v\n%s", command, err, tail([]byte(out.String())))
	}
	return elapsed, out.String(), nil
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
	input, err := b.csv(rows)
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(b.ctx, self, "plan", "--endpoint", url, "--domain", benchDomain, "--quota", "100000000",
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

// csv writes a bench file of rows people and returns its path.
func (b *bench) csv(rows int) (string, error) {
	b.files++
	path := filepath.Join(b.dir, fmt.Sprintf("people%d-%d.csv", b.files, rows))
	return path, writeBenchCSV(path, rows)
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
