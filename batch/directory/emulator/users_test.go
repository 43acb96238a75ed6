package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
)

func TestServer_InsertUser(t *testing.T) {
	long := strings.Repeat("é", 60)
	tests := []struct {
		name string
		edit func(u *admin.User)
		want apiErr
	}{
		{"minimal", func(u *admin.User) {}, apiErr{}},
		{"upper-case address", func(u *admin.User) { u.PrimaryEmail = "Grace.Hopper@EXAMPLE.com" }, apiErr{}},
		{"duplicate", func(u *admin.User) { u.PrimaryEmail = "taken@example.com" }, errWantDuplicate},
		{"duplicate of an alias", func(u *admin.User) { u.PrimaryEmail = "nick@example.com" }, errWantDuplicate},
		{"duplicate of a group", func(u *admin.User) { u.PrimaryEmail = "staff@example.com" }, errWantDuplicate},
		{"duplicate of a group alias", func(u *admin.User) { u.PrimaryEmail = "employees@example.com" }, errWantDuplicate},
		{"no address", func(u *admin.User) { u.PrimaryEmail = "" }, apiErr{400, "invalid", "Invalid Input: primary_user_email"}},
		{"malformed address", func(u *admin.User) { u.PrimaryEmail = "ada..l@example.com" }, apiErr{400, "invalid", "Invalid Input: primary_user_email"}},
		{"space in address", func(u *admin.User) { u.PrimaryEmail = "ada l@example.com" }, apiErr{400, "invalid", "Invalid Input: primary_user_email"}},
		{"other domain", func(u *admin.User) { u.PrimaryEmail = "ada@example.org" }, apiErr{403, "forbidden", "Not Authorized to access this resource/api"}},
		{"no name", func(u *admin.User) { u.Name = nil }, errWantGivenName},
		{"no family name", func(u *admin.User) { u.Name.FamilyName = "" }, errWantFamilyName},
		{"blank given name", func(u *admin.User) { u.Name.GivenName = "   " }, errWantGivenName},
		{"60 characters", func(u *admin.User) { u.Name.GivenName = long }, apiErr{}},
		{"61 characters", func(u *admin.User) { u.Name.GivenName = long + "e" }, errWantGivenName},
		{"angle bracket", func(u *admin.User) { u.Name.FamilyName = "<script>" }, errWantFamilyName},
		{"equals sign", func(u *admin.User) { u.Name.GivenName = "a=b" }, errWantGivenName},
		{"unicode names", func(u *admin.User) { u.Name = &admin.UserName{GivenName: "翔太", FamilyName: "佐藤"} }, apiErr{}},
		{"no password", func(u *admin.User) { u.Password = "" }, errWantPassword},
		{"7 characters", func(u *admin.User) { u.Password = "1234567" }, errWantPassword},
		{"8 characters", func(u *admin.User) { u.Password = "12345678" }, apiErr{}},
		{"100 characters", func(u *admin.User) { u.Password = strings.Repeat("x", 100) }, apiErr{}},
		{"101 characters", func(u *admin.User) { u.Password = strings.Repeat("x", 101) }, errWantPassword},
		{"non-ASCII", func(u *admin.User) { u.Password = "pässwörter" }, errWantPassword},
		{"SHA-1", func(u *admin.User) {
			u.Password, u.HashFunction = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "SHA-1"
		}, apiErr{}},
		{"SHA-1 not hex", func(u *admin.User) { u.Password, u.HashFunction = "password", "SHA-1" }, errWantPassword},
		{"MD5", func(u *admin.User) { u.Password, u.HashFunction = "5f4dcc3b5aa765d61d8327deb882cf99", "MD5" }, apiErr{}},
		{"crypt SHA-512", func(u *admin.User) {
			u.Password, u.HashFunction = "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/", "crypt"
		}, apiErr{}},
		{"crypt too many rounds", func(u *admin.User) { u.Password, u.HashFunction = "$5$rounds=20000$salt$hash", "crypt" }, errWantPassword},
		{"unknown hash", func(u *admin.User) { u.Password, u.HashFunction = "secret12", "ROT13" }, apiErr{400, "invalid", "Invalid Input: hashFunction"}},
		{"existing org unit", func(u *admin.User) { u.OrgUnitPath = "/Students" }, apiErr{}},
		{"missing org unit", func(u *admin.User) { u.OrgUnitPath = "/Nowhere" }, errWantBadOU},
	}
	s, svc := start(t, Options{})
	mustInsert(t, svc, newUser("taken"))
	if _, err := svc.Users.Aliases.Insert("taken@example.com", &admin.Alias{Alias: "nick@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Groups.Insert(&admin.Group{Email: "staff@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Groups.Aliases.Insert("staff@example.com", &admin.Alias{Alias: "employees@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Orgunits.Insert("my_customer", &admin.OrgUnit{Name: "Students", ParentOrgUnitPath: "/"}).Do(); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser(fmt.Sprintf("user%d", i))
			tt.edit(u)
			got, err := svc.Users.Insert(u).Do()
			checkError(t, fmt.Sprintf("Insert(%q)", u.PrimaryEmail), err, tt.want)
			if err != nil {
				return
			}
			if want := strings.ToLower(u.PrimaryEmail); got.PrimaryEmail != want {
				t.Errorf("Insert(%q).PrimaryEmail = %q, want %q", u.PrimaryEmail, got.PrimaryEmail, want)
			}
			if !regexp.MustCompile(`^1[0-9]{20}$`).MatchString(got.Id) {
				t.Errorf("Insert(%q).Id = %q, want 21 digits", u.PrimaryEmail, got.Id)
			}
			if got.Kind != "admin#directory#user" || got.Etag == "" || got.CustomerId != s.CustomerID() || got.CreationTime == "" {
				t.Errorf("Insert(%q) = kind %q etag %q customer %q created %q; want a complete resource",
					u.PrimaryEmail, got.Kind, got.Etag, got.CustomerId, got.CreationTime)
			}
			if want := cmpOr(u.OrgUnitPath, "/"); got.OrgUnitPath != want {
				t.Errorf("Insert(%q).OrgUnitPath = %q, want %q", u.PrimaryEmail, got.OrgUnitPath, want)
			}
			if got.Password != "" {
				t.Errorf("Insert(%q) returned the password", u.PrimaryEmail)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// raw sends a request without the client and returns the status and the
// decoded body.
func raw(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, url, b, err)
		}
	}
	return res.StatusCode, m
}

func TestServer_InsertUser_body(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	tests := []struct {
		name    string
		body    string
		code    int
		message string
	}{
		{"unknown field", `{"primaryEmail":"a@example.com","name":{"givenName":"A","familyName":"B"},"password":"12345678","favouriteColour":"blue"}`,
			400, `Invalid JSON payload received. Unknown name "favouriteColour": Cannot find field.`},
		{"unknown name field", `{"primaryEmail":"a@example.com","name":{"givenName":"A","familyName":"B","nickname":"C"},"password":"12345678"}`,
			400, `Invalid JSON payload received. Unknown name "nickname": Cannot find field.`},
		{"not JSON", `{"primaryEmail":`, 400, ""},
		{"wrong type", `{"primaryEmail":42}`, 400, ""},
		{"read-only fields ignored", `{"primaryEmail":"b@example.com","name":{"givenName":"A","familyName":"B"},"password":"12345678","id":"1","isAdmin":true,"kind":"x"}`,
			200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := raw(t, "POST", ts.URL+"/admin/directory/v1/users", tt.body)
			if code != tt.code {
				t.Fatalf("POST %s = %d %v, want %d", tt.body, code, body, tt.code)
			}
			if tt.message == "" {
				return
			}
			if got := body["error"].(map[string]any)["message"]; got != tt.message {
				t.Errorf("POST %s: message %q, want %q", tt.body, got, tt.message)
			}
		})
	}
	st := s.State()
	if len(st.Users) != 1 || st.Users[0].Extra != nil {
		t.Errorf("State().Users = %+v, want b@example.com alone, without read-only fields", st.Users)
	}
}

func TestServer_GetUser(t *testing.T) {
	_, svc := start(t, Options{})
	ada := newUser("ada")
	ada.ExternalIds = []admin.UserExternalId{{Value: "S-1", Type: "organization"}}
	ada.Organizations = []admin.UserOrganization{{Title: "Countess", Department: "Mathematics", Primary: true}}
	created, err := svc.Users.Insert(ada).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Users.Aliases.Insert(created.Id, &admin.Alias{Alias: "countess@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"ada@example.com", "ADA@Example.COM", "countess@example.com", created.Id} {
		t.Run(key, func(t *testing.T) {
			u, err := svc.Users.Get(key).Do()
			if err != nil {
				t.Fatalf("Get(%q) = %v", key, err)
			}
			if u.PrimaryEmail != "ada@example.com" || u.Id != created.Id {
				t.Errorf("Get(%q) = %s %s, want ada@example.com %s", key, u.PrimaryEmail, u.Id, created.Id)
			}
			if !slices.Equal(u.Aliases, []string{"countess@example.com"}) ||
				!slices.Equal(u.NonEditableAliases, []string{"ada@example.com.test-google-a.com"}) {
				t.Errorf("Get(%q) aliases = %v, %v", key, u.Aliases, u.NonEditableAliases)
			}
			if got := fmt.Sprint(u.ExternalIds); got != "[map[type:organization value:S-1]]" {
				t.Errorf("Get(%q).ExternalIds = %s", key, got)
			}
			if got := fmt.Sprint(u.Organizations); !strings.Contains(got, "Countess") {
				t.Errorf("Get(%q).Organizations = %s, want the stored organization", key, got)
			}
			if u.Name.FullName != "Ada Lovelace" {
				t.Errorf("Get(%q).Name.FullName = %q", key, u.Name.FullName)
			}
		})
	}
	for _, key := range []string{"nobody@example.com", "100000000000000000001", "ada"} {
		t.Run(key, func(t *testing.T) {
			_, err := svc.Users.Get(key).Do()
			checkError(t, fmt.Sprintf("Get(%q)", key), err, errWantUserNotFound)
		})
	}
}

func TestServer_UpdateUser(t *testing.T) {
	_, svc := start(t, Options{})
	mustInsert(t, svc, newUser("ada"), newUser("grace"))
	if _, err := svc.Users.Aliases.Insert("ada@example.com", &admin.Alias{Alias: "countess@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Groups.Insert(&admin.Group{Email: "staff@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Members.Insert("staff@example.com", &admin.Member{Email: "ada@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}

	t.Run("patch changes only what is sent", func(t *testing.T) {
		u, err := svc.Users.Patch("ada@example.com", &admin.User{Name: &admin.UserName{FamilyName: "King"}}).Do()
		if err != nil {
			t.Fatal(err)
		}
		if u.Name.GivenName != "Ada" || u.Name.FamilyName != "King" {
			t.Errorf("Patch name = %+v, want Ada King", u.Name)
		}
	})
	t.Run("update has patch semantics", func(t *testing.T) {
		u, err := svc.Users.Update("ada@example.com", &admin.User{Suspended: true, Password: "new password"}).Do()
		if err != nil {
			t.Fatal(err)
		}
		if !u.Suspended || u.Name.FamilyName != "King" {
			t.Errorf("Update = suspended %v, %+v", u.Suspended, u.Name)
		}
	})
	t.Run("rename keeps the old address as an alias", func(t *testing.T) {
		u, err := svc.Users.Patch("ada@example.com", &admin.User{PrimaryEmail: "ada.king@example.com"}).Do()
		if err != nil {
			t.Fatal(err)
		}
		if u.PrimaryEmail != "ada.king@example.com" || !slices.Contains(u.Aliases, "ada@example.com") {
			t.Errorf("Patch = %s %v, want ada.king@example.com with alias ada@example.com", u.PrimaryEmail, u.Aliases)
		}
		m, err := svc.Members.Get("staff@example.com", "ada.king@example.com").Do()
		if err != nil || m.Email != "ada.king@example.com" {
			t.Errorf("Members.Get after rename = %v, %v; want the new address", m, err)
		}
	})
	t.Run("rename to an own alias", func(t *testing.T) {
		// Google: "You can't change a user's name to an existing name or
		// email alias."
		_, err := svc.Users.Patch("ada.king@example.com", &admin.User{PrimaryEmail: "countess@example.com"}).Do()
		checkError(t, "Patch(own alias)", err, errWantDuplicate)
	})
	errs := []struct {
		name string
		key  string
		u    *admin.User
		want apiErr
	}{
		{"rename onto another user", "grace@example.com", &admin.User{PrimaryEmail: "countess@example.com"}, errWantDuplicate},
		{"missing org unit", "grace@example.com", &admin.User{OrgUnitPath: "/Nowhere"}, errWantBadOU},
		{"bad name", "grace@example.com", &admin.User{Name: &admin.UserName{GivenName: strings.Repeat("x", 61)}}, errWantGivenName},
		{"bad password", "grace@example.com", &admin.User{Password: "short"}, errWantPassword},
		{"no such user", "nobody@example.com", &admin.User{Suspended: true}, errWantUserNotFound},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Users.Patch(tt.key, tt.u).Do()
			checkError(t, fmt.Sprintf("Patch(%q)", tt.key), err, tt.want)
		})
	}
}

func TestServer_DeleteUser(t *testing.T) {
	s, svc := start(t, Options{})
	u := newUser("ada")
	u.ExternalIds = []admin.UserExternalId{{Value: "S-1", Type: "organization"}}
	mustInsert(t, svc, u)
	if _, err := svc.Users.Aliases.Insert("ada@example.com", &admin.Alias{Alias: "countess@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Groups.Insert(&admin.Group{Email: "staff@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Members.Insert("staff@example.com", &admin.Member{Email: "countess@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Users.Delete("countess@example.com").Do(); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	_, err := svc.Users.Get("ada@example.com").Do()
	checkError(t, "Get after Delete", err, errWantUserNotFound)
	err = svc.Users.Delete("ada@example.com").Do()
	checkError(t, "Delete again", err, errWantUserNotFound)
	if st := s.State(); len(st.Users) != 0 || len(st.Groups[0].Members) != 0 {
		t.Errorf("State after Delete = %+v, want no user and no member", st)
	}
	// The addresses and the external id are free again.
	mustInsert(t, svc, newUser("countess"), u)
	r, err := svc.Users.List().Customer("my_customer").Query("externalId:S-1").Do()
	if err != nil || len(r.Users) != 1 || r.Users[0].PrimaryEmail != "ada@example.com" {
		t.Errorf("List(externalId:S-1) = %v, %v; want ada alone", r, err)
	}
}

func TestServer_UserAliases(t *testing.T) {
	_, svc := start(t, Options{})
	mustInsert(t, svc, newUser("ada"), newUser("grace"))
	if _, err := svc.Groups.Insert(&admin.Group{Email: "staff@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, alias string
		want        apiErr
	}{
		{"ada@example.com", "countess@example.com", apiErr{}},
		{"ada@example.com", "Lovelace@Example.com", apiErr{}},
		{"ada@example.com", "countess@example.com", errWantDuplicate},
		{"grace@example.com", "countess@example.com", errWantDuplicate},
		{"grace@example.com", "ada@example.com", errWantDuplicate},
		{"grace@example.com", "staff@example.com", errWantDuplicate},
		{"grace@example.com", "amazing.grace@example.org", apiErr{403, "forbidden", "Not Authorized to access this resource/api"}},
		{"grace@example.com", "not an address", apiErr{400, "invalid", "Invalid Input: alias"}},
		{"grace@example.com", "", apiErr{400, "required", "Missing required field: alias"}},
		{"nobody@example.com", "someone@example.com", errWantUserNotFound},
	}
	for _, tt := range tests {
		call := fmt.Sprintf("Aliases.Insert(%q, %q)", tt.user, tt.alias)
		t.Run(call, func(t *testing.T) {
			a, err := svc.Users.Aliases.Insert(tt.user, &admin.Alias{Alias: tt.alias}).Do()
			checkError(t, call, err, tt.want)
			if err == nil && (a.Alias != strings.ToLower(tt.alias) || a.PrimaryEmail != tt.user || a.Kind != "admin#directory#alias") {
				t.Errorf("%s = %+v", call, a)
			}
		})
	}
	list, err := svc.Users.Aliases.List("countess@example.com").Do()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range list.Aliases {
		got = append(got, a.(map[string]any)["alias"].(string))
	}
	if want := []string{"countess@example.com", "lovelace@example.com"}; !slices.Equal(got, want) {
		t.Errorf("Aliases.List = %v, want %v", got, want)
	}
	_, err = svc.Users.Aliases.List("nobody@example.com").Do()
	checkError(t, "Aliases.List(nobody)", err, errWantUserNotFound)
}
