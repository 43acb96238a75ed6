package directory

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"

	"github.com/provisionhq/provision/batch/directory/emulator"
)

// accountsEmulator serves a generated directory of n users, plus a few
// with every field an Account carries.
func accountsEmulator(t testing.TB, n int) (*emulator.Server, string) {
	t.Helper()
	emu, url := startEmulator(t, emulator.Options{Seed: 11})
	if err := emu.Generate(n); err != nil {
		t.Fatal(err)
	}
	c := mustClient(t, Config{Endpoint: url})
	ctx := t.Context()
	u := newUser("ada.lovelace", "E-1")
	u.ExternalIds = []admin.UserExternalId{{Type: "custom", CustomType: "employee", Value: "E-1"}}
	u.Phones = []admin.UserPhone{{Value: "+44 20 7946 0000", Type: "work", Primary: true}}
	u.Organizations = []admin.UserOrganization{{Title: "Analyst", Department: "Engines", CostCenter: "CC-1", Primary: true}}
	u.Relations = []admin.UserRelation{{Value: "babbage@example.com", Type: "manager"}}
	u.CustomSchemas = map[string]googleapi.RawMessage{
		"HR":    googleapi.RawMessage(`{"grade":"7","badges":[{"value":"B-1"}]}`),
		"Other": googleapi.RawMessage(`{"x":"y"}`),
	}
	u.Suspended = true
	if _, err := c.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := c.InsertAlias(ctx, "ada.lovelace@"+testDomain, "countess@"+testDomain, Settled); err != nil {
		t.Fatal(err)
	}
	return emu, url
}

// collectAccounts runs SnapshotAccounts and returns what it delivered.
func collectAccounts(t *testing.T, c *Client, schemas []string) ([]Name, []Account) {
	t.Helper()
	var names []Name
	var accounts []Account
	err := c.SnapshotAccounts(t.Context(), schemas, func(b AccountBatch) error {
		names = append(names, b.Names...)
		accounts = append(accounts, b.Accounts...)
		return nil
	})
	if err != nil {
		t.Fatalf("SnapshotAccounts = %v", err)
	}
	return names, accounts
}

func nameList(names []Name) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, fmt.Sprintf("%s %v %v %s", n.Address, n.Kind, n.ExternalIDs, n.Customer))
	}
	slices.Sort(out)
	return out
}

func TestClient_SnapshotAccounts(t *testing.T) {
	emu, url := accountsEmulator(t, 2000)
	var mu sync.Mutex
	var queries []string
	observing := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/users") {
			mu.Lock()
			queries = append(queries, r.URL.RawQuery)
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	// One list request at a time makes the shards, and so the requests,
	// the same for both snapshots.
	names := mustClient(t, Config{Endpoint: url, SnapshotParallelism: 1})
	accounts := mustClient(t, Config{Endpoint: url, SnapshotParallelism: 1, HTTPClient: observing})
	wantNames := collect(t, names)
	gotNames, got := collectAccounts(t, accounts, []string{"HR"})

	if !slices.Equal(nameList(gotNames), nameList(wantNames)) {
		t.Errorf("SnapshotAccounts delivered other names than Snapshot")
	}
	if n, a := names.Stats().Requests, accounts.Stats().Requests; n != a {
		t.Errorf("SnapshotAccounts sent %d requests, Snapshot %d; want as many", a, n)
	}
	t.Logf("%d names and %d accounts in %d requests", len(gotNames), len(got), accounts.Stats().Requests)

	wantMask := "nextPageToken,users(" + accountMask + ",customSchemas)"
	for _, q := range queries {
		if !strings.Contains(q, "fields="+strings.NewReplacer(",", "%2C", "(", "%28", ")", "%29").Replace(wantMask)) ||
			!strings.Contains(q, "projection=custom") || !strings.Contains(q, "customFieldMask=HR") {
			t.Fatalf("users.list %s, want the account mask %s and projection=custom for HR", q, wantMask)
		}
	}

	st := emu.State()
	if len(got) != len(st.Users) {
		t.Fatalf("%d accounts, want %d", len(got), len(st.Users))
	}
	byEmail := map[string]Account{}
	for _, a := range got {
		byEmail[a.PrimaryEmail] = a
	}
	var admins, delegated, suspended int
	for _, u := range st.Users {
		a, ok := byEmail[u.PrimaryEmail]
		if !ok {
			t.Fatalf("no account for %s", u.PrimaryEmail)
		}
		var ids []ExternalID
		for _, id := range u.ExternalIDs {
			ids = append(ids, ExternalID{Type: id.Type, CustomType: id.CustomType, Value: id.Value})
		}
		if a.ID != u.ID || a.GivenName != u.GivenName || a.FamilyName != u.FamilyName || a.OrgUnitPath != u.OrgUnitPath ||
			!slices.Equal(a.Aliases, u.Aliases) || fmt.Sprint(a.ExternalIDs) != fmt.Sprint(ids) ||
			a.Suspended != u.Suspended || a.SuspensionReason != u.SuspensionReason ||
			a.IsAdmin != u.IsAdmin || a.IsDelegatedAdmin != u.IsDelegatedAdmin ||
			!a.Created.Equal(u.CreationTime.Truncate(1e6)) || a.Customer != st.CustomerID ||
			len(a.NonEditableAliases) != 1 {
			t.Errorf("account %+v\ndoes not match the user %+v", a, u)
		}
		if a.IsAdmin {
			admins++
		}
		if a.IsDelegatedAdmin {
			delegated++
		}
		if a.Suspended {
			suspended++
		}
	}
	if admins == 0 || delegated == 0 || suspended == 0 {
		t.Errorf("%d admins, %d delegated admins, %d suspended: the generated directory should hold some of each", admins, delegated, suspended)
	}
	ada := byEmail["ada.lovelace@"+testDomain]
	lists, _ := json.Marshal([]any{ada.Organizations, ada.Relations, ada.Phones, ada.CustomSchemas})
	want := `[[{"costCenter":"CC-1","department":"Engines","primary":true,"title":"Analyst"}],` +
		`[{"type":"manager","value":"babbage@example.com"}],[{"primary":true,"type":"work","value":"+44 20 7946 0000"}],` +
		`{"HR":{"badges":[{"value":"B-1"}],"grade":"7"}}]`
	if string(lists) != want || !ada.Suspended || ada.SuspensionReason != "ADMIN" ||
		!slices.Equal(ada.Aliases, []string{"countess@" + testDomain}) || ada.ExternalIDs[0].CustomType != "employee" {
		t.Errorf("ada's account: %s, %+v\nwant %s", lists, ada, want)
	}

	t.Run("without custom schemas", func(t *testing.T) {
		mu.Lock()
		queries = nil
		mu.Unlock()
		_, got := collectAccounts(t, mustClient(t, Config{Endpoint: url, HTTPClient: observing}), nil)
		for _, a := range got {
			if a.CustomSchemas != nil {
				t.Fatalf("account %s carries custom schemas %v, none asked for", a.PrimaryEmail, a.CustomSchemas)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, q := range queries {
			if strings.Contains(q, "projection") || strings.Contains(q, "customSchemas") {
				t.Fatalf("users.list %s asks for custom schemas", q)
			}
		}
	})
	t.Run("in parallel, every user once", func(t *testing.T) {
		c := mustClient(t, Config{Endpoint: url, SnapshotParallelism: 8})
		gotNames, got := collectAccounts(t, c, nil)
		seen := map[string]int{}
		for _, a := range got {
			seen[a.ID]++
		}
		if len(seen) != len(st.Users) || len(got) != len(st.Users) {
			t.Errorf("%d accounts, %d distinct, want %d once each", len(got), len(seen), len(st.Users))
		}
		if !slices.Equal(nameList(gotNames), nameList(wantNames)) {
			t.Errorf("names in parallel differ from Snapshot's")
		}
	})
}
