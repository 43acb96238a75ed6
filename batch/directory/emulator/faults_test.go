package emulator

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		spec    string
		want    Faults
		wantErr string
	}{
		{"", Faults{}, ""},
		{"503=0.1,403=0.05,429=0.02,drop=0.02,412=0.01,member404=2s", Faults{
			BackendError: 0.1, RateLimit403: 0.05, RateLimit429: 0.02, DropAfterSuccess: 0.02,
			NotComplete412: 0.01, MemberNotFoundWindow: 2 * time.Second}, ""},
		{" quota=5% , window=10s, searchlag=1m ", Faults{QuotaExceeded403: 0.05, CreationWindow: 10 * time.Second, SearchLag: time.Minute}, ""},
		{"503=1", Faults{BackendError: 1}, ""},
		{"503=0.6,429=0.6", Faults{}, "add up to 1.2"},
		{"503=1.5", Faults{}, "between 0 and 1"},
		{"drop=-0.1", Faults{}, "between 0 and 1"},
		{"503=lots", Faults{}, `invalid fraction "lots"`},
		{"member404=soon", Faults{}, `fault "member404=soon"`},
		{"window=-1s", Faults{}, "negative duration"},
		{"500=0.1", Faults{}, "unknown kind"},
		{"503", Faults{}, "want kind=value"},
		{"503=0.1,503=0.2", Faults{}, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseFaults(tt.spec)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ParseFaults(%q) = %v", tt.spec, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ParseFaults(%q) = %+v, %v; want error containing %q", tt.spec, got, err, tt.wantErr)
			case err == nil && got != tt.want:
				t.Errorf("ParseFaults(%q) = %+v, want %+v", tt.spec, got, tt.want)
			}
		})
	}
}

// TestServer_requestFaults checks each fault answered before a request is
// looked at, at rate 1, and that nothing is applied.
func TestServer_requestFaults(t *testing.T) {
	tests := []struct {
		faults Faults
		want   apiErr
		kind   string
	}{
		{Faults{BackendError: 1}, errWantBackend, faultBackend},
		{Faults{RateLimit403: 1}, errWantUserRate, faultUserRateLimit},
		{Faults{RateLimit429: 1}, errWantRate429, faultRateLimit},
		{Faults{QuotaExceeded403: 1}, errWantQuota, faultQuotaExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			s, svc := start(t, Options{Faults: tt.faults})
			_, err := svc.Users.Insert(newUser("ada")).Do()
			checkError(t, "Insert", err, tt.want)
			_, err = svc.Users.Get("ada@example.com").Do()
			checkError(t, "Get", err, tt.want)
			s.SetFaults(Faults{})
			_, err = svc.Users.Get("ada@example.com").Do()
			checkError(t, "Get without faults", err, errWantUserNotFound)
			st := s.Stats()
			if st.Faults[tt.kind] != 2 || st.Codes[tt.want.code] != 2 || st.Requests != 3 {
				t.Errorf("Stats = %+v, want 2 %s faults answered %d of 3 requests", st, tt.kind, tt.want.code)
			}
		})
	}
}

func TestServer_faultFractions(t *testing.T) {
	s, svc := start(t, Options{Seed: 7, Faults: Faults{BackendError: 0.2, RateLimit429: 0.1}})
	const n = 400
	for range n {
		svc.Users.Get("nobody@example.com").Do()
	}
	st := s.Stats()
	for kind, want := range map[string]float64{faultBackend: 0.2, faultRateLimit: 0.1} {
		if got := float64(st.Faults[kind]) / n; got < want-0.06 || got > want+0.06 {
			t.Errorf("%s fraction = %.3f, want about %.2f", kind, got, want)
		}
	}
	if got := st.Codes[404] + st.Codes[503] + st.Codes[429]; got != n {
		t.Errorf("answers = %v, want %d in all", st.Codes, n)
	}
}

func TestServer_faultsAreSeeded(t *testing.T) {
	run := func(seed int64) string {
		_, svc := start(t, Options{Seed: seed, Faults: Faults{BackendError: 0.5}})
		var b strings.Builder
		for range 40 {
			_, err := svc.Users.Get("nobody@example.com").Do()
			var ge *googleapi.Error
			errors.As(err, &ge)
			fmt.Fprint(&b, ge.Code/100)
		}
		return b.String()
	}
	a, b, c := run(1), run(1), run(2)
	if a != b {
		t.Errorf("seed 1 gave %s then %s, want the same", a, b)
	}
	if a == c {
		t.Errorf("seeds 1 and 2 both gave %s", a)
	}
}

func TestServer_notComplete412(t *testing.T) {
	clk := newClock()
	s, svc := start(t, Options{Now: clk.Now, Faults: Faults{NotComplete412: 1, CreationWindow: 5 * time.Second}})
	mustInsert(t, svc, newUser("ada"))
	if _, err := svc.Groups.Insert(&admin.Group{Email: "staff@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		do   func() error
		want apiErr
	}{
		{"get", func() error { _, err := svc.Users.Get("ada@example.com").Do(); return err }, apiErr{}},
		{"patch", func() error {
			_, err := svc.Users.Patch("ada@example.com", &admin.User{Suspended: true}).Do()
			return err
		}, errWantNotComplete},
		{"alias", func() error {
			_, err := svc.Users.Aliases.Insert("ada@example.com", &admin.Alias{Alias: "countess@example.com"}).Do()
			return err
		}, errWantNotComplete},
		{"member", func() error {
			_, err := svc.Members.Insert("staff@example.com", &admin.Member{Email: "ada@example.com"}).Do()
			return err
		}, errWantNotComplete},
		{"delete", func() error { return svc.Users.Delete("ada@example.com").Do() }, errWantNotComplete},
	}
	for _, c := range calls {
		checkError(t, c.name+" within the window", c.do(), c.want)
	}
	if st := s.State(); st.Users[0].Suspended || len(st.Users[0].Aliases) != 0 || len(st.Groups[0].Members) != 0 {
		t.Errorf("State after 412s = %+v, want nothing applied", st)
	}
	clk.Advance(5 * time.Second)
	for _, c := range calls {
		checkError(t, c.name+" after the window", c.do(), apiErr{})
	}
	if n := s.Stats().Faults[faultNotComplete]; n != 4 {
		t.Errorf("Stats().Faults[%s] = %d, want 4", faultNotComplete, n)
	}
}

func TestServer_memberNotFoundWindow(t *testing.T) {
	clk := newClock()
	_, svc := start(t, Options{Now: clk.Now, Faults: Faults{MemberNotFoundWindow: 3 * time.Second}})
	mustInsert(t, svc, newUser("ada"))
	if _, err := svc.Groups.Insert(&admin.Group{Email: "staff@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		advance time.Duration
		want    apiErr
	}{{0, errWantMemberMissing}, {2 * time.Second, errWantMemberMissing}, {time.Second, apiErr{}}, {0, errWantMemberExists}} {
		clk.Advance(step.advance)
		_, err := svc.Members.Insert("staff@example.com", &admin.Member{Email: "ada@example.com"}).Do()
		checkError(t, fmt.Sprintf("Members.Insert at +%v", step.advance), err, step.want)
	}
}

func TestServer_dropAfterSuccess(t *testing.T) {
	s, err := New(Options{Faults: Faults{DropAfterSuccess: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	svc, err := admin.NewService(t.Context(), option.WithEndpoint(ts.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Users.Insert(newUser("ada")).Do()
	var ge *googleapi.Error
	if err == nil || errors.As(err, &ge) {
		t.Fatalf("Insert = %v, want a transport error", err)
	}
	// The write was applied: a retry is a duplicate, reads are answered.
	_, err = svc.Users.Insert(newUser("ada")).Do()
	checkError(t, "Insert again", err, errWantDuplicate)
	if _, err := svc.Users.Get("ada@example.com").Do(); err != nil {
		t.Errorf("Get = %v, want the user", err)
	}
	if st := s.Stats(); st.Faults[faultDropped] != 1 || st.Codes[200] != 1 || st.Codes[409] != 1 {
		t.Errorf("Stats = %+v, want one dropped answer, one 409 and one 200", st)
	}
}

func TestServer_quota(t *testing.T) {
	clk := newClock()
	s, svc := start(t, Options{Now: clk.Now, QuotaPerMinute: 120, QuotaBurst: 3})
	get := func() error { _, err := svc.Users.Get("nobody@example.com").Do(); return err }
	for i := range 3 {
		checkError(t, fmt.Sprintf("request %d of the burst", i+1), get(), errWantUserNotFound)
	}
	checkError(t, "request past the burst", get(), errWantUserRate)
	clk.Advance(500 * time.Millisecond) // 2 a second: one token
	checkError(t, "request after a token came back", get(), errWantUserNotFound)
	checkError(t, "and the next", get(), errWantUserRate)
	clk.Advance(time.Minute)
	for i := range 3 {
		checkError(t, fmt.Sprintf("request %d after a minute", i+1), get(), errWantUserNotFound)
	}
	if st := s.Stats(); st.RateLimited != 2 || st.Codes[403] != 2 {
		t.Errorf("Stats = %+v, want 2 rate-limited", st)
	}
}

func TestNew_invalidOptions(t *testing.T) {
	for _, opts := range []Options{
		{Domain: "not a domain"},
		{QuotaPerMinute: -1},
		{QuotaBurst: -1},
		{Latency: map[string]Latency{"directory.users.teleport": {Median: time.Millisecond}}},
		{Latency: map[string]Latency{"*": {Median: -time.Millisecond}}},
		{Faults: Faults{BackendError: 2}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) = nil error, want one", opts)
		}
	}
}

func TestServer_SetFaults_invalid(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("SetFaults(503=2) did not panic")
		}
	}()
	s.SetFaults(Faults{BackendError: 2})
}
