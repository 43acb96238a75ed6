package naming

import (
	"context"
	"runtime"
	"testing"
	"time"
)

var sameNamePatterns = []string{"[firstname].[lastname]", "[firstname][lastname][#]"}

// reserveSameName reserves rows names for rows that all read John Smith.
func reserveSameName(tb testing.TB, rows int) {
	ps, err := ParsePatterns(sameNamePatterns)
	if err != nil {
		tb.Fatal(err)
	}
	r := NewReserver(Options{Patterns: ps})
	john := Fields{"firstname": "John", "lastname": "Smith"}
	ctx := context.Background()
	for range rows {
		if _, err := r.Reserve(ctx, "row", john); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkReserve_sameName reserves names for 10,000 and 100,000 rows that
// all read John Smith. Each op is a whole batch of rows.
func BenchmarkReserve_sameName(b *testing.B) {
	for _, rows := range []struct {
		name string
		n    int
	}{{"rows=10000", 10_000}, {"rows=100000", 100_000}} {
		b.Run(rows.name, func(b *testing.B) {
			for b.Loop() {
				reserveSameName(b, rows.n)
			}
		})
	}
}

// BenchmarkReserve_scaling measures 10,000 and 100,000 same-name rows in one
// run and reports the ratio of their times: linear growth gives about 10,
// the goal is at most 12; probing [#] from 1 would give about 100.
func BenchmarkReserve_scaling(b *testing.B) {
	var small, large time.Duration
	for b.Loop() {
		// Start both from a collected heap, so that neither pays for the
		// other's garbage.
		runtime.GC()
		start := time.Now()
		reserveSameName(b, 10_000)
		small += time.Since(start)
		runtime.GC()
		start = time.Now()
		reserveSameName(b, 100_000)
		large += time.Since(start)
	}
	b.ReportMetric(float64(small.Microseconds())/float64(b.N)/1000, "ms-10k")
	b.ReportMetric(float64(large.Microseconds())/float64(b.N)/1000, "ms-100k")
	b.ReportMetric(float64(large)/float64(small), "ratio-100k/10k")
}

func BenchmarkNormalize(b *testing.B) {
	for _, s := range []string{"Smith", "Álvarez García", "Дмитрий", "山田 太郎"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				Normalize(s)
			}
		})
	}
}
