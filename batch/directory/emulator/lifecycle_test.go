package emulator

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
)

// lists returns the JSON of a user's phones, organizations and relations,
// as the emulator answers them.
func lists(t *testing.T, svc *admin.Service, key string) string {
	t.Helper()
	u, err := svc.Users.Get(key).Fields("phones,organizations,relations").Do()
	if err != nil {
		t.Fatalf("Get(%s) = %v", key, err)
	}
	b, err := json.Marshal(map[string]any{"phones": u.Phones, "organizations": u.Organizations, "relations": u.Relations})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServer_UpdateUser_lists(t *testing.T) {
	_, svc := start(t, Options{})
	ada := newUser("ada")
	ada.Phones = []admin.UserPhone{{Value: "+1 555 0100", Type: "work", Primary: true}, {Value: "+1 555 0101", Type: "mobile"}}
	ada.Organizations = []admin.UserOrganization{{Title: "Countess", Department: "Mathematics", Primary: true, CostCenter: "CC-7"}}
	ada.Relations = []admin.UserRelation{{Value: "babbage@example.com", Type: "manager"}}
	mustInsert(t, svc, ada)
	const all = `{"organizations":[{"costCenter":"CC-7","department":"Mathematics","primary":true,"title":"Countess"}],` +
		`"phones":[{"primary":true,"type":"work","value":"+1 555 0100"},{"type":"mobile","value":"+1 555 0101"}],` +
		`"relations":[{"type":"manager","value":"babbage@example.com"}]}`
	if got := lists(t, svc, "ada@example.com"); got != all {
		t.Fatalf("after Insert: %s, want %s", got, all)
	}
	// Each step starts from what the previous one left.
	steps := []struct {
		name   string
		update bool // users.update; otherwise users.patch
		u      *admin.User
		want   string
	}{
		{"patch cannot clear with null", false, &admin.User{NullFields: []string{"Phones"}}, all},
		{"patch cannot clear with an empty list", false, &admin.User{Phones: []admin.UserPhone{}, ForceSendFields: []string{"Phones"}}, all},
		{"patch replaces a list whole", false, &admin.User{Relations: []admin.UserRelation{{Value: "somerville@example.com", Type: "dotted_line_manager"}}},
			strings.Replace(all, `"type":"manager","value":"babbage@example.com"`, `"type":"dotted_line_manager","value":"somerville@example.com"`, 1)},
		{"update clears with null", true, &admin.User{NullFields: []string{"Relations"}},
			`{"organizations":[{"costCenter":"CC-7","department":"Mathematics","primary":true,"title":"Countess"}],` +
				`"phones":[{"primary":true,"type":"work","value":"+1 555 0100"},{"type":"mobile","value":"+1 555 0101"}],"relations":null}`},
		{"update replaces a list whole", true, &admin.User{Phones: []admin.UserPhone{{Value: "+1 555 0199", Type: "work", Primary: true}}},
			`{"organizations":[{"costCenter":"CC-7","department":"Mathematics","primary":true,"title":"Countess"}],` +
				`"phones":[{"primary":true,"type":"work","value":"+1 555 0199"}],"relations":null}`},
		{"update clears with an empty list", true, &admin.User{Organizations: []admin.UserOrganization{}, ForceSendFields: []string{"Organizations"}},
			`{"organizations":null,"phones":[{"primary":true,"type":"work","value":"+1 555 0199"}],"relations":null}`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var err error
			if st.update {
				_, err = svc.Users.Update("ada@example.com", st.u).Do()
			} else {
				_, err = svc.Users.Patch("ada@example.com", st.u).Do()
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := lists(t, svc, "ada@example.com"); got != st.want {
				t.Errorf("got %s\nwant %s", got, st.want)
			}
		})
	}

	errs := []struct {
		name string
		u    *admin.User
		want apiErr
	}{
		{"phone type", &admin.User{Phones: []admin.UserPhone{{Value: "1", Type: "cell"}}}, apiErr{400, "invalid", "Invalid value for: cell is not a valid value"}},
		{"relation type", &admin.User{Relations: []admin.UserRelation{{Value: "x@example.com", Type: "boss"}}}, apiErr{400, "invalid", "Invalid value for: boss is not a valid value"}},
		{"organization type", &admin.User{Organizations: []admin.UserOrganization{{Title: "x", Type: "job"}}}, apiErr{400, "invalid", "Invalid value for: job is not a valid value"}},
		{"unknown member", &admin.User{Phones: map[string]any{"value": "1"}}, apiErr{400, "parseError", ""}},
		{"unknown member of an entry", &admin.User{Relations: []map[string]any{{"value": "x", "rank": 1}}},
			apiErr{400, "invalid", `Invalid JSON payload received. Unknown name "rank": Cannot find field.`}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Users.Update("ada@example.com", tt.u).Do()
			if tt.want.message == "" {
				var ge *googleapi.Error
				if !strings.Contains(fmt.Sprint(err), "Invalid value at 'phones'") || !asAPIError(err, &ge) || ge.Code != 400 {
					t.Errorf("Update = %v, want 400 Invalid value at 'phones'", err)
				}
				return
			}
			checkError(t, "Update", err, tt.want)
		})
	}
}

func asAPIError(err error, ge **googleapi.Error) bool {
	e, ok := err.(*googleapi.Error)
	*ge = e
	return ok
}

func TestServer_UpdateUser_suspension(t *testing.T) {
	s, svc := start(t, Options{})
	mustInsert(t, svc, newUser("ada"))
	u, err := svc.Users.Update("ada@example.com", &admin.User{Suspended: true}).Do()
	if err != nil || !u.Suspended || u.SuspensionReason != "ADMIN" {
		t.Fatalf("Update(suspended) = %+v, %v; want suspended by ADMIN", u, err)
	}
	// false is the zero value: it travels only when forced.
	u, err = svc.Users.Update("ada@example.com", &admin.User{Suspended: false}).Do()
	if err != nil || !u.Suspended {
		t.Fatalf("Update(suspended omitted) = %+v, %v; want still suspended", u, err)
	}
	u, err = svc.Users.Patch("ada@example.com", &admin.User{Suspended: false, ForceSendFields: []string{"Suspended"}}).Do()
	if err != nil || u.Suspended || u.SuspensionReason != "" {
		t.Fatalf("Patch(suspended false) = %+v, %v; want active, no reason", u, err)
	}
	if st := s.State(); st.Users[0].Suspended || st.Users[0].SuspensionReason != "" {
		t.Errorf("State = %+v", st.Users[0])
	}
}

func TestServer_admins(t *testing.T) {
	s, svc := start(t, Options{})
	mustInsert(t, svc, newUser("ada"), newUser("grace"))
	// Google ignores isAdmin in insert and update.
	u, err := svc.Users.Update("grace@example.com", &admin.User{IsAdmin: true, IsDelegatedAdmin: true}).Do()
	if err != nil || u.IsAdmin || u.IsDelegatedAdmin {
		t.Fatalf("Update(isAdmin) = %+v, %v; want ignored", u, err)
	}
	if err := svc.Users.MakeAdmin("ada@example.com", &admin.UserMakeAdmin{Status: true}).Do(); err != nil {
		t.Fatalf("MakeAdmin = %v", err)
	}
	if u, err := svc.Users.Get("ada@example.com").Do(); err != nil || !u.IsAdmin {
		t.Errorf("Get after MakeAdmin = %+v, %v; want an admin", u, err)
	}
	err = svc.Users.MakeAdmin("nobody@example.com", &admin.UserMakeAdmin{Status: true}).Do()
	checkError(t, "MakeAdmin(nobody)", err, errWantUserNotFound)
	err = svc.Users.MakeAdmin("ada@example.com", &admin.UserMakeAdmin{}).Do()
	checkError(t, "MakeAdmin(no status)", err, apiErr{400, "required", "Missing required field: status"})

	// A delegated admin comes from a state file, as from the Admin console.
	st := s.State()
	st.Users[1].IsDelegatedAdmin = true
	var b strings.Builder
	if err := json.NewEncoder(&b).Encode(st); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadState(strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string][]string{
		"isAdmin=true":                                  {"ada@example.com"},
		"isAdmin=false":                                 {"grace@example.com"},
		"isDelegatedAdmin=true":                         {"grace@example.com"},
		"isAdmin=false isDelegatedAdmin=false":          nil,
		"isAdmin=False email:ada*":                      nil,
		"isDelegatedAdmin=true email:grace@example.com": {"grace@example.com"},
	} {
		if got := listAll(t, svc.Users.List().Customer("my_customer").Query(query), 10); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %v, want %v", query, got, want)
		}
	}
}

func TestServer_ListUsers_lifecycleQuery(t *testing.T) {
	_, svc := start(t, Options{})
	for _, ou := range []struct{ name, parent string }{
		{"Students", "/"}, {"Grade 5", "/Students"}, {"Grade 50", "/Students"}, {"Staff", "/"},
	} {
		if _, err := svc.Orgunits.Insert("my_customer", &admin.OrgUnit{Name: ou.name, ParentOrgUnitPath: ou.parent}).Do(); err != nil {
			t.Fatal(err)
		}
	}
	add := func(local, ou, extID string, suspended bool) {
		u := newUser(local)
		u.OrgUnitPath, u.Suspended = ou, suspended
		if extID != "" {
			u.ExternalIds = []admin.UserExternalId{{Value: extID, Type: "organization"}}
		}
		mustInsert(t, svc, u)
	}
	add("ann", "/Students/Grade 5", "O'Brien-1", false)
	add("bob", "/Students/Grade 5", "S 2", true)
	add("cat", "/Students/Grade 50", "S-3", false)
	add("dan", "/Students", "", true)
	add("eve", "/Staff", "E-1", false)
	add("fay", "/", "", false)
	tests := []struct {
		query string
		want  []string
	}{
		{"isSuspended=true", []string{"bob", "dan"}},
		{"isSuspended=false", []string{"ann", "cat", "eve", "fay"}},
		{"orgUnitPath=/", []string{"ann", "bob", "cat", "dan", "eve", "fay"}},
		{"orgUnitPath=/Students", []string{"ann", "bob", "cat", "dan"}},
		{"orgUnitPath='/Students/Grade 5'", []string{"ann", "bob"}},
		{`orgUnitPath="/students/grade 5/"`, []string{"ann", "bob"}},
		{"orgUnitPath='/Students/Grade 5' isSuspended=false", []string{"ann"}},
		{"orgUnitPath=/Students isSuspended=true email:d*", []string{"dan"}},
		{`externalId:'O\'Brien-1' isSuspended=false`, []string{"ann"}},
		{"externalId:'S 2' orgUnitPath=/Students", []string{"bob"}},
		{"externalId:'S 2' orgUnitPath=/Staff", nil},
		{"isSuspended=false isAdmin=false isDelegatedAdmin=false orgUnitPath=/Staff", []string{"eve"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := listAll(t, svc.Users.List().Customer("my_customer").Query(tt.query), 2)
			var want []string
			for _, l := range tt.want {
				want = append(want, l+"@example.com")
			}
			if !slices.Equal(got, want) {
				t.Errorf("List(%q) = %v, want %v", tt.query, got, want)
			}
		})
	}
	invalid := apiErr{400, "invalid", "Invalid query"}
	for query, want := range map[string]apiErr{
		"isSuspended:true":   invalid,
		"isSuspended=yes":    invalid,
		"isAdmin=":           invalid,
		"orgUnitPath:/Staff": invalid,
		"orgUnitPath=/St*":   invalid,
		"colour=blue":        invalid,
		"orgTitle:Manager":   {400, "badRequest", `emulator: query field="orgTitle" is not supported`},
		"Employment.level=7": {400, "badRequest", `emulator: query field="Employment.level" is not supported`},
	} {
		_, err := svc.Users.List().Customer("my_customer").Query(query).Do()
		checkError(t, fmt.Sprintf("List(%q)", query), err, want)
	}
}

func TestServer_customSchemas(t *testing.T) {
	_, svc := start(t, Options{})
	ada := newUser("ada")
	ada.CustomSchemas = map[string]googleapi.RawMessage{
		"HR":     googleapi.RawMessage(`{"grade":"7","site":"North"}`),
		"Badges": googleapi.RawMessage(`{"id":"B-1"}`),
	}
	mustInsert(t, svc, ada)
	schemas := func(call *admin.UsersGetCall) string {
		t.Helper()
		u, err := call.Do()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(u.CustomSchemas)
		return string(b)
	}
	get := func() *admin.UsersGetCall { return svc.Users.Get("ada@example.com") }
	for name, tt := range map[string]struct {
		call *admin.UsersGetCall
		want string
	}{
		"basic":  {get(), "null"},
		"full":   {get().Projection("full"), `{"Badges":{"id":"B-1"},"HR":{"grade":"7","site":"North"}}`},
		"custom": {get().Projection("custom").CustomFieldMask("HR,Other"), `{"HR":{"grade":"7","site":"North"}}`},
	} {
		if got := schemas(tt.call); got != tt.want {
			t.Errorf("Get(projection %s) customSchemas = %s, want %s", name, got, tt.want)
		}
	}
	_, err := get().Projection("custom").Do()
	checkError(t, "Get(projection custom, no mask)", err, apiErr{400, "invalid", "Invalid Input: customFieldMask"})

	patch := &admin.User{CustomSchemas: map[string]googleapi.RawMessage{
		"HR":     googleapi.RawMessage(`{"grade":"8","site":null}`),
		"Badges": googleapi.RawMessage(`null`),
	}}
	if _, err := svc.Users.Update("ada@example.com", patch).Do(); err != nil {
		t.Fatal(err)
	}
	if got, want := schemas(get().Projection("full")), `{"HR":{"grade":"8"}}`; got != want {
		t.Errorf("after Update customSchemas = %s, want %s", got, want)
	}
	r, err := svc.Users.List().Customer("my_customer").Projection("custom").CustomFieldMask("HR").Do()
	if err != nil || len(r.Users) != 1 || string(r.Users[0].CustomSchemas["HR"]) != `{"grade":"8"}` {
		t.Errorf("List(projection custom) = %+v, %v", r, err)
	}
}

func TestServer_deleteGroup(t *testing.T) {
	s, svc := start(t, Options{})
	mustInsert(t, svc, newUser("ada"))
	for _, g := range []string{"staff@example.com", "everyone@example.com"} {
		if _, err := svc.Groups.Insert(&admin.Group{Email: g}).Do(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Groups.Aliases.Insert("staff@example.com", &admin.Alias{Alias: "employees@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ group, member string }{{"staff@example.com", "ada@example.com"}, {"everyone@example.com", "staff@example.com"}} {
		if _, err := svc.Members.Insert(m.group, &admin.Member{Email: m.member}).Do(); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Groups.Delete("employees@example.com").Do(); err != nil {
		t.Fatalf("Delete(by alias) = %v", err)
	}
	err := svc.Groups.Delete("staff@example.com").Do()
	checkError(t, "Delete again", err, errWantGroupNotFound)
	_, err = svc.Groups.Get("staff@example.com").Do()
	checkError(t, "Get after Delete", err, errWantGroupNotFound)
	st := s.State()
	if len(st.Groups) != 1 || len(st.Groups[0].Members) != 0 || len(st.Users) != 1 {
		t.Errorf("State after Delete = %+v; want everyone@ without members, ada kept", st)
	}
	// The address and alias are free again.
	if _, err := svc.Groups.Insert(&admin.Group{Email: "employees@example.com"}).Do(); err != nil {
		t.Errorf("Insert(former alias) = %v", err)
	}
}

func TestServer_deleteOrgUnit(t *testing.T) {
	_, svc := start(t, Options{})
	for _, ou := range []struct{ name, parent string }{{"Students", "/"}, {"Grade 5", "/Students"}, {"Alumni", "/"}, {"Empty", "/"}} {
		if _, err := svc.Orgunits.Insert("my_customer", &admin.OrgUnit{Name: ou.name, ParentOrgUnitPath: ou.parent}).Do(); err != nil {
			t.Fatal(err)
		}
	}
	leaver := newUser("ada")
	leaver.OrgUnitPath, leaver.Suspended = "/Alumni", true
	mustInsert(t, svc, leaver)
	notEmpty := apiErr{400, "invalid", "Invalid Input: Org unit is not empty: it holds users or child org units"}
	tests := []struct {
		path string
		want apiErr
	}{
		{"Students", notEmpty}, // a child unit
		{"Alumni", notEmpty},   // a suspended user
		{"", apiErr{400, "invalid", "Invalid Input: INVALID_OU_ID"}}, // the root
		{"Nowhere", apiErr{404, "notFound", "Org unit not found"}},
		{"Empty", apiErr{}},
		{"Empty", apiErr{404, "notFound", "Org unit not found"}},
		{"Students/Grade 5", apiErr{}},
		{"students", apiErr{}},
	}
	for _, tt := range tests {
		err := svc.Orgunits.Delete("my_customer", tt.path).Do()
		checkError(t, fmt.Sprintf("Orgunits.Delete(%q)", tt.path), err, tt.want)
	}
	// The root.
	srv := httptest.NewServer(mustNew(t))
	defer srv.Close()
	code, body := raw(t, "DELETE", srv.URL+"/admin/directory/v1/customer/my_customer/orgunits/%2F", "")
	if code != 400 || !strings.Contains(fmt.Sprint(body), "INVALID_OU_ID") {
		t.Errorf("DELETE root = %d %v, want 400 INVALID_OU_ID", code, body)
	}
	// A deleted unit can be made again.
	if _, err := svc.Orgunits.Insert("my_customer", &admin.OrgUnit{Name: "Students", ParentOrgUnitPath: "/"}).Do(); err != nil {
		t.Errorf("Insert(Students) after Delete = %v", err)
	}
}

func mustNew(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServer_newMethodsFaulted checks that the quota, the injected faults
// and the refusals apply to the lifecycle's methods as to the others.
func TestServer_newMethodsFaulted(t *testing.T) {
	s, svc := start(t, Options{})
	mustInsert(t, svc, newUser("ada"))
	if _, err := svc.Groups.Insert(&admin.Group{Email: "staff@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Orgunits.Insert("my_customer", &admin.OrgUnit{Name: "Old", ParentOrgUnitPath: "/"}).Do(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"users.update": func() error {
			_, err := svc.Users.Update("ada@example.com", &admin.User{Suspended: true}).Do()
			return err
		},
		"users.makeAdmin": func() error { return svc.Users.MakeAdmin("ada@example.com", &admin.UserMakeAdmin{Status: true}).Do() },
		"groups.delete":   func() error { return svc.Groups.Delete("staff@example.com").Do() },
		"orgunits.delete": func() error { return svc.Orgunits.Delete("my_customer", "Old").Do() },
		"members.delete":  func() error { return svc.Members.Delete("staff@example.com", "ada@example.com").Do() },
		"users.delete":    func() error { return svc.Users.Delete("ada@example.com").Do() },
	}
	for name, call := range calls {
		s.SetFaults(Faults{BackendError: 1})
		checkError(t, name+" under 503=1", call(), errWantBackend)
		s.SetFaults(Faults{Forbidden: Scope(name)})
		checkError(t, name+" under forbidden="+name, call(), apiErr{403, "forbidden", "Not Authorized to access this resource/api"})
	}
	s.SetFaults(Faults{})
	if st := s.State(); len(st.Users) != 1 || st.Users[0].Suspended || len(st.Groups) != 1 || len(st.OrgUnits) != 2 {
		t.Errorf("State after refused calls = %+v, want nothing changed", st)
	}
	if _, err := New(Options{Latency: map[string]Latency{"directory.orgunits.delete": {}, "directory.groups.delete": {}, "directory.users.makeAdmin": {}}}); err != nil {
		t.Errorf("New with latency for the new methods = %v", err)
	}
}
