package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/option"
)

// TestServer_concurrent runs every kind of call at once; run it with -race.
func TestServer_concurrent(t *testing.T) {
	s, svc := start(t, Options{Seed: 1})
	if err := s.Generate(300); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 8 {
		wg.Go(func() {
			for i := range 15 {
				local := fmt.Sprintf("w%d.u%d", w, i)
				u := newUser(local)
				u.ExternalIds = []admin.UserExternalId{{Value: local, Type: "organization"}}
				steps := []func() error{
					func() error { _, err := svc.Users.Insert(u).Do(); return err },
					func() error {
						_, err := svc.Users.Aliases.Insert(u.PrimaryEmail, &admin.Alias{Alias: "alias." + u.PrimaryEmail}).Do()
						return err
					},
					func() error {
						_, err := svc.Members.Insert("staff@example.com", &admin.Member{Email: u.PrimaryEmail}).Do()
						return err
					},
					func() error {
						_, err := svc.Users.Patch(u.PrimaryEmail, &admin.User{OrgUnitPath: "/Staff/Teachers"}).Do()
						return err
					},
					func() error {
						_, err := svc.Users.List().Customer("my_customer").Query("externalId:" + local).Do()
						return err
					},
					func() error { _, err := svc.Users.List().Customer("my_customer").MaxResults(50).Do(); return err },
					func() error { _, err := svc.Members.List("staff@example.com").Do(); return err },
				}
				for _, step := range steps {
					if err := step(); err != nil {
						errs <- fmt.Errorf("%s: %w", local, err)
					}
				}
				if i%5 == 0 {
					s.State()
					s.Stats()
					s.SetFaults(Faults{})
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := s.State()
	if len(st.Users) != 300+8*15 {
		t.Errorf("%d users, want %d", len(st.Users), 300+8*15)
	}
}

// TestServer_Serve serves on a real listener until the context ends, and
// lets a request in flight finish.
func TestServer_Serve(t *testing.T) {
	s, err := New(Options{Latency: map[string]Latency{"directory.users.get": {Median: 100 * time.Millisecond, Jitter: time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l) }()
	base := "http://" + l.Addr().String() + "/"
	svc, err := admin.NewService(t.Context(), option.WithEndpoint(base), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, svc, newUser("ada"))
	got := make(chan error, 1)
	go func() { _, err := svc.Users.Get("ada@example.com").Do(); got <- err }()
	time.Sleep(30 * time.Millisecond) // the request is in flight
	cancel()
	if err := <-got; err != nil {
		t.Errorf("Get in flight at shutdown = %v, want it answered", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after the context ends", err)
	}
	_, err = http.Get(base + "emulator/v1/stats")
	if err == nil {
		t.Error("GET after shutdown succeeded, want the listener closed")
	}
}

func TestServer_Serve_listenerError(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := s.Serve(t.Context(), l); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Serve(closed listener) = %v, want the accept error", err)
	}
}
