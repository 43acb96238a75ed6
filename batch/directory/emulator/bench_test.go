package emulator

import (
	"net/http/httptest"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/option"
)

// BenchmarkServer_ListUsers pages through 200,000 generated users with the
// name snapshot's field mask, 500 at a time, through the official client.
func BenchmarkServer_ListUsers(b *testing.B) {
	const n = 200_000
	s, err := New(Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Generate(n); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	svc, err := admin.NewService(b.Context(), option.WithEndpoint(ts.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		seen := 0
		err := svc.Users.List().Customer("my_customer").MaxResults(500).
			Fields("nextPageToken,users(primaryEmail,aliases,nonEditableAliases,externalIds)").
			Pages(b.Context(), func(r *admin.Users) error {
				seen += len(r.Users)
				return nil
			})
		if err != nil || seen != n {
			b.Fatalf("listed %d users, %v; want %d", seen, err, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkServer_Generate generates 200,000 users into an empty directory.
func BenchmarkServer_Generate(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		s, err := New(Options{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Generate(n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}
