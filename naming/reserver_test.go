package naming

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// javaExample is the worked example of the Java project's README.
var javaExample = []string{
	"[firstname].[lastname]",
	"[C1_firstname].[lastname]",
	"[firstname][lastname]_[region]",
	"[firstname][lastname]_[group]",
	"[lastname]_nyc",
	"[firstname][lastname][#]",
}

var carlos = Fields{"firstname": "Carlos", "lastname": "Álvarez", "region": "CA", "group": "5A"}

func newTestReserver(t *testing.T, patterns []string, taken ...string) *Reserver {
	t.Helper()
	ps, err := ParsePatterns(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return NewReserver(Options{Patterns: ps, Taken: NewNameSet(taken...)})
}

// reserveN reserves n names for the same person.
func reserveN(t *testing.T, r *Reserver, f Fields, n int) []string {
	t.Helper()
	var names []string
	for range n {
		name, err := r.Reserve(t.Context(), fmt.Sprint("row ", len(names)+1), f)
		if err != nil {
			t.Fatalf("Reserve(%v) after %q: %v", f, names, err)
		}
		names = append(names, name)
	}
	return names
}

func TestReserver_Reserve(t *testing.T) {
	long := strings.Repeat("abcdefghij", 4) // 40 letters
	tests := []struct {
		name     string
		patterns []string // nil: the defaults
		taken    []string
		fields   Fields
		want     []string // successive reservations for the same person
	}{
		{
			name:     "java project worked example",
			patterns: javaExample,
			fields:   carlos,
			want:     []string{"carlos.alvarez", "c.alvarez", "carlosalvarez_ca", "carlosalvarez_5a", "alvarez_nyc", "carlosalvarez1", "carlosalvarez2", "carlosalvarez3"},
		},
		{
			name:     "counter fills gaps between taken names",
			patterns: []string{"[firstname][lastname][#]"},
			taken:    []string{"johnsmith1", "johnsmith2", "johnsmith3", "johnsmith5"},
			fields:   Fields{"firstname": "John", "lastname": "Smith"},
			want:     []string{"johnsmith4", "johnsmith6", "johnsmith7"},
		},
		{
			name:     "several counters take one number",
			patterns: []string{"[firstname][#].[lastname][#]"},
			taken:    []string{"john1.smith1"},
			fields:   Fields{"firstname": "John", "lastname": "Smith"},
			want:     []string{"john2.smith2", "john3.smith3"},
		},
		{
			name:   "default patterns, then the last resort",
			fields: Fields{"firstname": "Christopher", "lastname": "Columbus"},
			want:   []string{"christophercolumbus", "christopher.columbus", "christopher_columbus", "ccolumbus", "christopherc", "christophcolumbus1", "christophcolumbus2"},
		},
		{
			name:     "last resort when every configured pattern is taken",
			patterns: []string{"[firstname].[lastname]"},
			taken:    []string{"ana.lima"},
			fields:   Fields{"firstname": "Ana", "lastname": "Lima"},
			want:     []string{"analima1", "analima2"},
		},
		{
			name:     "missing custom field skips the pattern",
			patterns: []string{"[firstname]_[region]", "[firstname].[lastname]"},
			fields:   Fields{"firstname": "Ana", "lastname": "Lima"},
			want:     []string{"ana.lima"},
		},
		{
			name:     "missing field inside a counter pattern skips it instead of failing",
			patterns: []string{"[firstname][nickname][#]", "[lastname]_nyc"},
			fields:   Fields{"firstname": "Ana", "lastname": "Lima"},
			want:     []string{"lima_nyc", "analima1"},
		},
		{
			name:     "field empty after normalisation skips the pattern",
			patterns: []string{"[firstname]_[region]", "[firstname].[lastname]"},
			fields:   Fields{"firstname": "Ana", "lastname": "Lima", "region": "???"},
			want:     []string{"ana.lima"},
		},
		{
			name:     "field names match case-insensitively",
			patterns: []string{"[FirstName].[Region]"},
			fields:   Fields{"FIRSTNAME": "Ana", "LastName": "Lima", "region": "Norte"},
			want:     []string{"ana.norte"},
		},
		{
			name:     "character count longer than the value takes the whole value",
			patterns: []string{"[C9_firstname][C9_lastname]"},
			fields:   Fields{"firstname": "Bo", "lastname": "Li"},
			want:     []string{"boli"},
		},
		{
			name:     "over-long candidate skipped",
			patterns: []string{"[firstname].[lastname]", "[C1_firstname].[lastname]"},
			fields:   Fields{"firstname": long, "lastname": long[:30]},
			want:     []string{"a." + long[:30], "abcdefghiabcdefghi1"},
		},
		{
			name:     "counter pattern too long for any number skipped",
			patterns: []string{"[firstname][lastname][#]"},
			fields:   Fields{"firstname": long, "lastname": long[:24]},
			want:     []string{"abcdefghiabcdefghi1"},
		},
		{
			name:     "counter that fits until the number grows",
			patterns: []string{"[firstname][#]", "[lastname]"},
			taken:    []string{strings.Repeat("a", 63) + "1", strings.Repeat("a", 63) + "2"},
			fields:   Fields{"firstname": strings.Repeat("a", 63), "lastname": "Lima"},
			want:     []string{strings.Repeat("a", 63) + "3", strings.Repeat("a", 63) + "4", strings.Repeat("a", 63) + "5"},
		},
		{
			name:     "two separators in a row skipped like a taken name",
			patterns: []string{"[firstname].[lastname]", "[firstname][lastname]"},
			fields:   Fields{"firstname": "Jean-", "lastname": "Smith"},
			want:     []string{"jean-smith"},
		},
		{
			name:     "candidate ending in a separator skipped",
			patterns: []string{"[firstname]", "[lastname]"},
			fields:   Fields{"firstname": "Jean-", "lastname": "Smith"},
			want:     []string{"smith"},
		},
		{
			name:     "invalid counter pattern skipped without looping",
			patterns: []string{"[firstname]-[#]", "[lastname]"},
			fields:   Fields{"firstname": "-", "lastname": "Smith"},
			want:     []string{"smith"},
		},
		{
			name:     "reserved list",
			patterns: []string{"[firstname]", "[firstname].[lastname]"},
			fields:   Fields{"firstname": "Admin", "lastname": "Lima"},
			want:     []string{"admin.lima"},
		},
		{
			name:     "taken by the directory",
			patterns: []string{"[firstname].[lastname]", "[C1_firstname].[lastname]"},
			taken:    []string{"ana.lima"},
			fields:   Fields{"firstname": "Ana", "lastname": "Lima"},
			want:     []string{"a.lima"},
		},
		{
			name:     "static text",
			patterns: []string{"[lastname]_nyc"},
			fields:   Fields{"firstname": "Ana", "lastname": "Lima"},
			want:     []string{"lima_nyc", "analima1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *Reserver
			if tt.patterns == nil {
				r = NewReserver(Options{Taken: NewNameSet(tt.taken...)})
			} else {
				r = newTestReserver(t, tt.patterns, tt.taken...)
			}
			if got := reserveN(t, r, tt.fields, len(tt.want)); !slices.Equal(got, tt.want) {
				t.Errorf("Reserve ×%d = %q, want %q", len(tt.want), got, tt.want)
			}
		})
	}
}

func TestReserver_Reserve_errors(t *testing.T) {
	tests := []struct {
		name      string
		fields    Fields
		wantField string // a *FieldError for this field, or "" for ErrNoName
		wantText  string
	}{
		{"firstname missing", Fields{"lastname": "Lima"}, "firstname", "firstname is missing"},
		{"lastname missing", Fields{"firstname": "Ana"}, "lastname", "lastname is missing"},
		{"firstname empty", Fields{"firstname": "", "lastname": "Lima"}, "firstname", "firstname is empty"},
		{"lastname blank", Fields{"firstname": "Ana", "lastname": "  "}, "lastname", "lastname is empty"},
		{"same field twice in different case", Fields{"firstname": "Ana", "FirstName": "Bea", "lastname": "Lima"}, "firstname", "given twice"},
		{"nothing usable after normalisation", Fields{"firstname": "😀", "lastname": "!!"}, "", `firstname "😀" and lastname "!!" have no letter or digit`},
		{"firstname unusable", Fields{"firstname": "😀", "lastname": "Lima"}, "", `firstname "😀" has no letter or digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReserver(Options{})
			_, err := r.Reserve(t.Context(), "row", tt.fields)
			var fe *FieldError
			switch {
			case tt.wantField != "" && (!errors.As(err, &fe) || fe.Field != tt.wantField):
				t.Fatalf("Reserve(%v) error = %v, want a *FieldError for %s", tt.fields, err, tt.wantField)
			case tt.wantField == "" && !errors.Is(err, ErrNoName):
				t.Fatalf("Reserve(%v) error = %v, want ErrNoName", tt.fields, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Reserve(%v) error = %q, want it to say %q", tt.fields, err, tt.wantText)
			}
		})
	}
}

// countingChecker counts the names it is asked about.
type countingChecker struct {
	taken NameSet
	calls int
}

func (c *countingChecker) Taken(ctx context.Context, name string) (bool, error) {
	c.calls++
	return c.taken.Taken(ctx, name)
}

// TestReserver_counterIsAmortisedConstant fails if [#] is found by probing
// from 1 for every row: that costs N²/2 checks for N people of one name.
func TestReserver_counterIsAmortisedConstant(t *testing.T) {
	const rows, preTaken = 2000, 500
	checker := &countingChecker{taken: NameSet{}}
	for i := 1; i <= preTaken; i++ {
		checker.taken.Add(fmt.Sprintf("johnsmith%d", i))
	}
	ps, _ := ParsePatterns([]string{"[firstname].[lastname]", "[firstname][lastname][#]"})
	r := NewReserver(Options{Patterns: ps, Taken: checker})
	names := reserveN(t, r, Fields{"firstname": "John", "lastname": "Smith"}, rows)

	if names[0] != "john.smith" || names[1] != fmt.Sprintf("johnsmith%d", preTaken+1) || names[rows-1] != fmt.Sprintf("johnsmith%d", preTaken+rows-1) {
		t.Errorf("names = %q … %q, want john.smith, johnsmith%d … johnsmith%d", names[:2], names[rows-1], preTaken+1, preTaken+rows-1)
	}
	// One check of john.smith per row (once held it is answered from the
	// Reserver's own set), plus each number checked once.
	if limit := 2*rows + preTaken + 10; checker.calls > limit {
		t.Errorf("%d reservations asked the checker %d times, want at most %d", rows, checker.calls, limit)
	}
}

func TestReserver_Suggest(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		taken    []string
		fields   Fields
		n        int
		want     []string
	}{
		{"java project worked example", javaExample, nil, carlos, 9,
			[]string{"carlos.alvarez", "c.alvarez", "carlosalvarez_ca", "carlosalvarez_5a", "alvarez_nyc", "carlosalvarez1", "carlosalvarez2", "carlosalvarez3", "carlosalvarez4"}},
		{"fewer than the patterns give", javaExample, nil, carlos, 3,
			[]string{"carlos.alvarez", "c.alvarez", "carlosalvarez_ca"}},
		{"taken names left out, counter gaps filled", []string{"[firstname].[lastname]", "[firstname][lastname][#]"},
			[]string{"john.smith", "johnsmith1", "johnsmith3"}, Fields{"firstname": "John", "lastname": "Smith"}, 3,
			[]string{"johnsmith2", "johnsmith4", "johnsmith5"}},
		{"duplicates across patterns given once", []string{"[firstname][lastname]", "[C9_firstname][C9_lastname]", "[firstname]_[lastname]"},
			nil, Fields{"firstname": "Bo", "lastname": "Li"}, 3,
			[]string{"boli", "bo_li", "boli1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestReserver(t, tt.patterns, tt.taken...)
			got, err := r.Suggest(t.Context(), tt.fields, tt.n)
			if err != nil {
				t.Fatalf("Suggest: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Suggest(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestReserver_Suggest_holdsNothing(t *testing.T) {
	r := newTestReserver(t, []string{"[firstname][lastname][#]"}, "johnsmith1")
	john := Fields{"firstname": "John", "lastname": "Smith"}
	for range 2 {
		got, err := r.Suggest(t.Context(), john, 2)
		if err != nil || !slices.Equal(got, []string{"johnsmith2", "johnsmith3"}) {
			t.Fatalf("Suggest = %q, %v; want johnsmith2, johnsmith3 every time", got, err)
		}
	}
	if got := reserveN(t, r, john, 1); got[0] != "johnsmith2" {
		t.Errorf("Reserve after Suggest = %q, want johnsmith2", got[0])
	}
}

func TestReserver_Suggest_count(t *testing.T) {
	r := NewReserver(Options{})
	for _, n := range []int{0, -1, 11} {
		if _, err := r.Suggest(t.Context(), carlos, n); err == nil {
			t.Errorf("Suggest(n=%d) succeeded, want an error", n)
		}
	}
	for _, n := range []int{1, 10} {
		got, err := r.Suggest(t.Context(), carlos, n)
		if err != nil || len(got) != n {
			t.Errorf("Suggest(n=%d) = %q, %v; want %d names", n, got, err, n)
		}
	}
}

func TestReserver_reservedList(t *testing.T) {
	ps, _ := ParsePatterns([]string{"[firstname]"})
	webmaster := Fields{"firstname": "Webmaster", "lastname": "Lima"}
	tests := []struct {
		name     string
		reserved []string
		want     string
	}{
		{"defaults", nil, "webmasterlima1"},
		{"configured list replaces the defaults", []string{"carlos"}, "webmaster"},
		{"empty list reserves nothing", []string{}, "webmaster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReserver(Options{Patterns: ps, Reserved: tt.reserved})
			if got := reserveN(t, r, webmaster, 1)[0]; got != tt.want {
				t.Errorf("Reserve = %q, want %q", got, tt.want)
			}
		})
	}
	for _, name := range []string{"postmaster", "abuse", "admin", "administrator", "root", "hostmaster", "webmaster", "support", "security", "noreply", "no-reply", "mailer-daemon"} {
		if !slices.Contains(DefaultReserved, name) {
			t.Errorf("DefaultReserved lacks %q", name)
		}
	}
}

func TestReserver_ledgerAndMarkTaken(t *testing.T) {
	ps, _ := ParsePatterns([]string{"[firstname].[lastname]", "[C1_firstname].[lastname]", "[firstname][lastname][#]"})
	ledger := NewMemoryLedger()
	ledger.Hold(t.Context(), "Ana.Lima", "line 7 of an earlier run")
	r := NewReserver(Options{Patterns: ps, Ledger: ledger})
	ana := Fields{"firstname": "Ana", "lastname": "Lima"}
	if got := reserveN(t, r, ana, 1)[0]; got != "a.lima" {
		t.Errorf("Reserve with ana.lima held = %q, want a.lima", got)
	}
	r.MarkTaken("analima1") // the directory answered 409 for it
	if got := reserveN(t, r, ana, 1)[0]; got != "analima2" {
		t.Errorf("Reserve with analima1 refused = %q, want analima2", got)
	}
	for name, want := range map[string]string{"ana.lima": "line 7 of an earlier run", "a.lima": "row 1", "analima2": "row 1", "analima1": ""} {
		if got, _ := ledger.Holder(t.Context(), name); got != want {
			t.Errorf("ledger.Holder(%q) = %q, want %q", name, got, want)
		}
	}
	if got, _ := ledger.Counter(t.Context(), "analima#"); got != 3 {
		t.Errorf("ledger.Counter(analima#) = %d, want 3", got)
	}
}

// TestReserver_sharedLedger checks that a second Reserver on the same
// ledger, as after a resume, continues where the first stopped.
func TestReserver_sharedLedger(t *testing.T) {
	ps, _ := ParsePatterns([]string{"[firstname][lastname][#]"})
	ledger := NewMemoryLedger()
	john := Fields{"firstname": "John", "lastname": "Smith"}
	first := reserveN(t, NewReserver(Options{Patterns: ps, Ledger: ledger}), john, 3)
	second := reserveN(t, NewReserver(Options{Patterns: ps, Ledger: ledger}), john, 2)
	if got := append(first, second...); !slices.Equal(got, []string{"johnsmith1", "johnsmith2", "johnsmith3", "johnsmith4", "johnsmith5"}) {
		t.Errorf("names over two Reservers = %q, want johnsmith1 … johnsmith5", got)
	}
}

func TestReserver_Claim(t *testing.T) {
	r := newTestReserver(t, []string{"[firstname].[lastname]"}, "taken.person")
	ctx := t.Context()
	tests := []struct {
		name string
		want error
	}{
		{"Ana.Lima", nil},
		{"ana.lima", ErrTaken}, // claimed just above
		{"taken.person", ErrTaken},
		{"postmaster", ErrReserved},
		{"", ErrInvalid},
		{strings.Repeat("a", 65), ErrInvalid},
	}
	for _, tt := range tests {
		if err := r.Claim(ctx, "explicit", tt.name); !errors.Is(err, tt.want) {
			t.Errorf("Claim(%q) = %v, want %v", tt.name, err, tt.want)
		}
	}
	if got := reserveN(t, r, Fields{"firstname": "Ana", "lastname": "Lima"}, 1)[0]; got != "analima1" {
		t.Errorf("Reserve after Claim(ana.lima) = %q, want analima1", got)
	}
}

func TestReserver_checkerError(t *testing.T) {
	boom := errors.New("directory unreachable")
	r := NewReserver(Options{Taken: CheckerFunc(func(context.Context, string) (bool, error) { return false, boom })})
	if _, err := r.Reserve(t.Context(), "row", carlos); !errors.Is(err, boom) {
		t.Errorf("Reserve with a failing checker = %v, want it to wrap %v", err, boom)
	}
	if err := r.Claim(t.Context(), "row", "carlos"); !errors.Is(err, boom) {
		t.Errorf("Claim with a failing checker = %v, want it to wrap %v", err, boom)
	}
}

func TestAnyOf(t *testing.T) {
	c := AnyOf(NewNameSet("a"), NewNameSet("b"))
	for name, want := range map[string]bool{"a": true, "b": true, "c": false} {
		if got, _ := c.Taken(t.Context(), name); got != want {
			t.Errorf("AnyOf.Taken(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestReserver_concurrent checks that goroutines sharing a Reserver never
// get the same name, and that the names handed out are the same set as
// when one goroutine asks for all of them.
func TestReserver_concurrent(t *testing.T) {
	const workers, each = 16, 50
	john := Fields{"firstname": "John", "lastname": "Smith"}
	r := NewReserver(Options{})
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				name, err := r.Reserve(t.Context(), "row", john)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[name]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	want := reserveN(t, NewReserver(Options{}), john, workers*each)
	if len(got) != len(want) {
		t.Fatalf("%d distinct names for %d reservations, want %d", len(got), workers*each, len(want))
	}
	for _, name := range want {
		if got[name] != 1 {
			t.Errorf("name %q handed out %d times, want once", name, got[name])
		}
	}
}
