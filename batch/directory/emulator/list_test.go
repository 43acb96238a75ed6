package emulator

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
)

// listAll pages through users.list and returns the addresses, checking
// that no page is larger than maxResults.
func listAll(t *testing.T, call *admin.UsersListCall, maxResults int64) []string {
	t.Helper()
	var got []string
	err := call.MaxResults(maxResults).Pages(t.Context(), func(r *admin.Users) error {
		if int64(len(r.Users)) > maxResults {
			t.Errorf("page of %d users, want at most %d", len(r.Users), maxResults)
		}
		for _, u := range r.Users {
			got = append(got, u.PrimaryEmail)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

func TestServer_ListUsers_paging(t *testing.T) {
	_, svc := start(t, Options{})
	var want []string
	for i := range 25 {
		u := newUser(fmt.Sprintf("user%02d", (i*7)%25))
		mustInsert(t, svc, u)
		want = append(want, u.PrimaryEmail)
	}
	sort.Strings(want)
	for _, tt := range []struct {
		name string
		call *admin.UsersListCall
		max  int64
	}{
		{"my_customer by 10", svc.Users.List().Customer("my_customer"), 10},
		{"customer id by 25", svc.Users.List().Customer("C03az79cb"), 25},
		{"domain by 1", svc.Users.List().Domain("example.com"), 1},
		{"ordered by email by 500", svc.Users.List().Customer("my_customer").OrderBy("email"), 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := listAll(t, tt.call, tt.max); !slices.Equal(got, want) {
				t.Errorf("List = %v, want %v", got, want)
			}
		})
	}
	t.Run("default page", func(t *testing.T) {
		for range 100 {
			mustInsert(t, svc, newUser(fmt.Sprintf("more%03d", len(want))))
			want = append(want, "")
		}
		r, err := svc.Users.List().Customer("my_customer").Do()
		if err != nil || len(r.Users) != 100 || r.NextPageToken == "" {
			t.Fatalf("List() = %d users, token %q, %v; want 100 and a token", len(r.Users), r.NextPageToken, err)
		}
	})
	errs := []struct {
		name string
		call *admin.UsersListCall
		want apiErr
	}{
		{"no customer", svc.Users.List(), apiErr{400, "badRequest", "Bad Request"}},
		{"other customer", svc.Users.List().Customer("C0000000"), apiErr{400, "badRequest", "Bad Request"}},
		{"other domain", svc.Users.List().Domain("example.org"), apiErr{404, "notFound", "Domain not found."}},
		{"page too large", svc.Users.List().Customer("my_customer").MaxResults(501),
			apiErr{400, "invalid", "Invalid value '501'. Values must be within the range: [1, 500]"}},
		{"bad token", svc.Users.List().Customer("my_customer").PageToken("!!"), apiErr{400, "invalid", "Invalid Input: pageToken"}},
		{"unsupported order", svc.Users.List().Customer("my_customer").OrderBy("familyName"),
			apiErr{400, "badRequest", `emulator: orderBy="familyName" is not supported`}},
		{"bad query", svc.Users.List().Customer("my_customer").Query("nonsense"), apiErr{400, "invalid", "Invalid query"}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.call.Do()
			checkError(t, "List", err, tt.want)
		})
	}
}

func TestServer_ListUsers_query(t *testing.T) {
	clk := newClock()
	s, svc := start(t, Options{Now: clk.Now})
	add := func(local, given, family, ou, extID string) {
		u := newUser(local)
		u.Name = &admin.UserName{GivenName: given, FamilyName: family}
		u.OrgUnitPath = ou
		if extID != "" {
			u.ExternalIds = []admin.UserExternalId{{Value: extID, Type: "organization"}}
		}
		mustInsert(t, svc, u)
	}
	if _, err := svc.Orgunits.Insert("my_customer", &admin.OrgUnit{Name: "Staff", ParentOrgUnitPath: "/"}).Do(); err != nil {
		t.Fatal(err)
	}
	add("john.smith", "John", "Smith", "/", "S-1")
	add("johnsmith", "John", "Smith", "/Staff", "S-2")
	add("jsmith", "Jane", "Smith", "/", "s-3")
	add("johnny", "Johnny", "Cash", "/Staff", "")
	add("smith.john", "John", "Smith", "/", "S-1")
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"john.smith", "johnny", "johnsmith", "jsmith", "smith.john"}},
		{"email:john*", []string{"john.smith", "johnny", "johnsmith"}},
		{"email:JOHN.*", []string{"john.smith"}},
		{"email:johnsmith@example.com", []string{"johnsmith"}},
		{"email:'jsmith@example.com'", []string{"jsmith"}},
		{"email:nobody@example.com", nil},
		{"externalId:S-1", []string{"john.smith", "smith.john"}},
		{"externalId:S-3", []string{"jsmith"}},
		{"externalId:S-9", nil},
		{"externalId:S-1 email:smith*", []string{"smith.john"}},
		{"givenName:John familyName:Smith", []string{"john.smith", "johnsmith", "smith.john"}},
		{"givenName:'Jo*'", []string{"john.smith", "johnny", "johnsmith", "smith.john"}},
		{"orgUnitPath=/staff", []string{"johnny", "johnsmith"}},
		{"orgUnitPath='/Staff' email:johnn*", []string{"johnny"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := listAll(t, svc.Users.List().Customer("my_customer").Query(tt.query), 2)
			var want []string
			for _, l := range tt.want {
				want = append(want, l+"@example.com")
			}
			if !slices.Equal(got, want) {
				t.Errorf("List(query %q) = %v, want %v", tt.query, got, want)
			}
		})
	}
	t.Run("search lags behind creation", func(t *testing.T) {
		s.SetFaults(Faults{SearchLag: time.Minute})
		add("john.new", "John", "New", "/", "S-10")
		query := func(q string) int {
			r, err := svc.Users.List().Customer("my_customer").Query(q).Do()
			if err != nil {
				t.Fatal(err)
			}
			return len(r.Users)
		}
		if n := query("externalId:S-10"); n != 0 {
			t.Errorf("List(externalId:S-10) right after Insert = %d users, want 0", n)
		}
		if _, err := svc.Users.Get("john.new@example.com").Do(); err != nil {
			t.Errorf("Get right after Insert = %v, want the user: point reads do not lag", err)
		}
		clk.Advance(time.Minute)
		if n := query("externalId:S-10"); n != 1 {
			t.Errorf("List(externalId:S-10) a minute later = %d users, want 1", n)
		}
	})
}

func TestServer_fieldMask(t *testing.T) {
	s, svc := start(t, Options{})
	u := newUser("ada")
	u.ExternalIds = []admin.UserExternalId{{Value: "S-1", Type: "organization"}}
	mustInsert(t, svc, u, newUser("grace"))
	if _, err := svc.Users.Aliases.Insert("ada@example.com", &admin.Alias{Alias: "countess@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	tests := []struct {
		name, path, fields string
		want               string
	}{
		{"snapshot mask", "users?customer=my_customer&maxResults=1", "nextPageToken,users(primaryEmail,aliases,nonEditableAliases,externalIds)",
			`map[nextPageToken:YWRhQGV4YW1wbGUuY29t users:[map[aliases:[countess@example.com] externalIds:[map[type:organization value:S-1]] nonEditableAliases:[ada@example.com.test-google-a.com] primaryEmail:ada@example.com]]]`},
		{"point read", "users/ada@example.com", "primaryEmail,id", ""},
		{"sub-path", "users/ada@example.com", "name/givenName,externalIds(value)",
			`map[externalIds:[map[value:S-1]] name:map[givenName:Ada]]`},
		{"wildcard", "users/ada@example.com", "name(*)", `map[name:map[familyName:Lovelace fullName:Ada Lovelace givenName:Ada]]`},
		{"absent field", "users/grace@example.com", "aliases,primaryEmail", `map[primaryEmail:grace@example.com]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sep := "?"
			if strings.Contains(tt.path, "?") {
				sep = "&"
			}
			code, body := raw(t, "GET", ts.URL+"/admin/directory/v1/"+tt.path+sep+"fields="+tt.fields, "")
			if code != 200 {
				t.Fatalf("GET %s fields=%s = %d %v", tt.path, tt.fields, code, body)
			}
			if tt.want == "" {
				if len(body) != 2 || body["primaryEmail"] != "ada@example.com" || body["id"] == nil {
					t.Errorf("GET %s fields=%s = %v, want primaryEmail and id alone", tt.path, tt.fields, body)
				}
				return
			}
			if got := fmt.Sprint(body); got != tt.want {
				t.Errorf("GET %s fields=%s = %s, want %s", tt.path, tt.fields, got, tt.want)
			}
		})
	}
	t.Run("with the client", func(t *testing.T) {
		r, err := svc.Users.List().Customer("my_customer").Fields("nextPageToken,users(primaryEmail,aliases,nonEditableAliases,externalIds)").Do()
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Users) != 2 || r.Users[0].PrimaryEmail != "ada@example.com" || r.Users[0].Id != "" || r.Kind != "" {
			t.Errorf("List with fields = %+v, want addresses without ids or kind", r)
		}
	})
	t.Run("bad mask", func(t *testing.T) {
		_, err := svc.Users.Get("ada@example.com").Fields("name(givenName").Do()
		checkError(t, "Get(fields=name(givenName)", err, apiErr{400, "invalidParameter", "Invalid field selection: missing ')' at offset 14"})
	})
}

func TestServer_ListUsers_pagesSurviveWrites(t *testing.T) {
	_, svc := start(t, Options{})
	for i := range 10 {
		mustInsert(t, svc, newUser(fmt.Sprintf("u%d", i)))
	}
	first, err := svc.Users.List().Customer("my_customer").MaxResults(5).Do()
	if err != nil {
		t.Fatal(err)
	}
	// A user deleted before the next page, and one added before it: the
	// token still continues after the last address seen.
	if err := svc.Users.Delete("u4@example.com").Do(); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, svc, newUser("u4a"))
	next, err := svc.Users.List().Customer("my_customer").MaxResults(5).PageToken(first.NextPageToken).Do()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range next.Users {
		got = append(got, strings.TrimSuffix(u.PrimaryEmail, "@example.com"))
	}
	if want := []string{"u4a", "u5", "u6", "u7", "u8"}; !slices.Equal(got, want) {
		t.Errorf("second page = %v, want %v", got, want)
	}
}
