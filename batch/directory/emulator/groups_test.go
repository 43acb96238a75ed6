package emulator

import (
	"fmt"
	"slices"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
)

func TestServer_Groups(t *testing.T) {
	_, svc := start(t, Options{})
	mustInsert(t, svc, newUser("ada"))
	tests := []struct {
		group *admin.Group
		want  apiErr
	}{
		{&admin.Group{Email: "Staff@example.com", Name: "All Staff"}, apiErr{}},
		{&admin.Group{Email: "teachers@example.com"}, apiErr{}},
		{&admin.Group{Email: "staff@example.com"}, errWantDuplicate},
		{&admin.Group{Email: "ada@example.com"}, errWantDuplicate},
		{&admin.Group{Email: "outsiders@example.org"}, apiErr{403, "forbidden", "Not Authorized to access this resource/api"}},
		{&admin.Group{Name: "Nameless"}, apiErr{400, "required", "Missing required field: email"}},
	}
	for _, tt := range tests {
		t.Run("insert "+tt.group.Email, func(t *testing.T) {
			g, err := svc.Groups.Insert(tt.group).Do()
			checkError(t, fmt.Sprintf("Groups.Insert(%q)", tt.group.Email), err, tt.want)
			if err == nil && (g.Id == "" || g.Kind != "admin#directory#group" || !g.AdminCreated || g.DirectMembersCount != 0) {
				t.Errorf("Groups.Insert(%q) = %+v", tt.group.Email, g)
			}
		})
	}
	if _, err := svc.Groups.Aliases.Insert("staff@example.com", &admin.Alias{Alias: "employees@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Groups.Aliases.Insert("teachers@example.com", &admin.Alias{Alias: "employees@example.com"}).Do()
	checkError(t, "Groups.Aliases.Insert(taken)", err, errWantDuplicate)
	_, err = svc.Groups.Aliases.Insert("nobody@example.com", &admin.Alias{Alias: "x@example.com"}).Do()
	checkError(t, "Groups.Aliases.Insert(no group)", err, errWantGroupNotFound)
	_, err = svc.Users.Aliases.Insert("ada@example.com", &admin.Alias{Alias: "employees@example.com"}).Do()
	checkError(t, "Users.Aliases.Insert(group alias)", err, errWantDuplicate)

	staff, err := svc.Groups.Get("employees@example.com").Do()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"staff@example.com", "STAFF@example.com", staff.Id} {
		g, err := svc.Groups.Get(key).Do()
		if err != nil || g.Email != "staff@example.com" || g.Name != "All Staff" || !slices.Equal(g.Aliases, []string{"employees@example.com"}) {
			t.Errorf("Groups.Get(%q) = %+v, %v", key, g, err)
		}
	}
	_, err = svc.Groups.Get("nobody@example.com").Do()
	checkError(t, "Groups.Get(nobody)", err, errWantGroupNotFound)
	aliases, err := svc.Groups.Aliases.List(staff.Id).Do()
	if err != nil || len(aliases.Aliases) != 1 {
		t.Errorf("Groups.Aliases.List = %+v, %v", aliases, err)
	}
	_, err = svc.Groups.Aliases.List("nobody@example.com").Do()
	checkError(t, "Groups.Aliases.List(nobody)", err, errWantGroupNotFound)

	var got []string
	err = svc.Groups.List().Customer("my_customer").MaxResults(1).Pages(t.Context(), func(r *admin.Groups) error {
		for _, g := range r.Groups {
			got = append(got, g.Email)
		}
		return nil
	})
	if want := []string{"staff@example.com", "teachers@example.com"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Groups.List = %v, %v; want %v", got, err, want)
	}
	_, err = svc.Groups.List().Domain("example.com").MaxResults(201).Do()
	checkError(t, "Groups.List(maxResults 201)", err, apiErr{400, "invalid", "Invalid value '201'. Values must be within the range: [1, 200]"})
}

func TestServer_Members(t *testing.T) {
	clk := newClock()
	s, svc := start(t, Options{Now: clk.Now})
	mustInsert(t, svc, newUser("ada"), newUser("grace"))
	if _, err := svc.Users.Aliases.Insert("ada@example.com", &admin.Alias{Alias: "countess@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"staff@example.com", "teachers@example.com"} {
		if _, err := svc.Groups.Insert(&admin.Group{Email: g}).Do(); err != nil {
			t.Fatal(err)
		}
	}
	grace, err := svc.Users.Get("grace@example.com").Do()
	if err != nil {
		t.Fatal(err)
	}
	inserts := []struct {
		group  string
		member *admin.Member
		want   apiErr
		email  string
	}{
		{"staff@example.com", &admin.Member{Email: "countess@example.com", Role: "OWNER"}, apiErr{}, "ada@example.com"},
		{"staff@example.com", &admin.Member{Id: grace.Id}, apiErr{}, "grace@example.com"},
		{"staff@example.com", &admin.Member{Email: "teachers@example.com"}, apiErr{}, "teachers@example.com"},
		{"staff@example.com", &admin.Member{Email: "Parent@Gmail.com"}, apiErr{}, "parent@gmail.com"},
		{"staff@example.com", &admin.Member{Email: "ada@example.com"}, errWantMemberExists, ""},
		{"staff@example.com", &admin.Member{Email: "parent@gmail.com"}, errWantMemberExists, ""},
		{"staff@example.com", &admin.Member{Email: "nobody@example.com"}, errWantMemberMissing, ""},
		{"staff@example.com", &admin.Member{Id: "100000000000000000009"}, errWantMemberMissing, ""},
		{"staff@example.com", &admin.Member{Email: "ada@example.com", Role: "BOSS"}, apiErr{400, "invalid", "Invalid Input: role"}, ""},
		{"staff@example.com", &admin.Member{}, apiErr{400, "required", "Missing required field: member"}, ""},
		{"nobody@example.com", &admin.Member{Email: "ada@example.com"}, errWantGroupNotFound, ""},
	}
	for _, tt := range inserts {
		call := fmt.Sprintf("Members.Insert(%q, %+v)", tt.group, *tt.member)
		t.Run(call, func(t *testing.T) {
			m, err := svc.Members.Insert(tt.group, tt.member).Do()
			checkError(t, call, err, tt.want)
			if err == nil && (m.Email != tt.email || m.Id == "" || m.Status != "ACTIVE" || m.Kind != "admin#directory#member") {
				t.Errorf("%s = %+v, want %s", call, m, tt.email)
			}
		})
	}
	if g, err := svc.Groups.Get("staff@example.com").Do(); err != nil || g.DirectMembersCount != 4 {
		t.Errorf("Groups.Get(staff).DirectMembersCount = %v, %v; want 4", g.DirectMembersCount, err)
	}

	gets := []struct {
		group, member string
		want          apiErr
		role          string
	}{
		{"staff@example.com", "countess@example.com", apiErr{}, "OWNER"},
		{"staff@example.com", grace.Id, apiErr{}, "MEMBER"},
		{"staff@example.com", "PARENT@gmail.com", apiErr{}, "MEMBER"},
		{"teachers@example.com", "ada@example.com", errWantMemberMissing, ""},
		{"staff@example.com", "nobody@example.com", errWantMemberMissing, ""},
		{"nobody@example.com", "ada@example.com", errWantGroupNotFound, ""},
	}
	for _, tt := range gets {
		call := fmt.Sprintf("Members.Get(%q, %q)", tt.group, tt.member)
		t.Run(call, func(t *testing.T) {
			m, err := svc.Members.Get(tt.group, tt.member).Do()
			checkError(t, call, err, tt.want)
			if err == nil && m.Role != tt.role {
				t.Errorf("%s.Role = %q, want %q", call, m.Role, tt.role)
			}
		})
	}

	has := []struct {
		group, member string
		want          apiErr
		is            bool
	}{
		{"staff@example.com", "ada@example.com", apiErr{}, true},
		{"staff@example.com", "countess@example.com", apiErr{}, true},
		{"teachers@example.com", "ada@example.com", apiErr{}, false},
		{"teachers@example.com", "stranger@gmail.com", apiErr{}, false},
		{"staff@example.com", "nobody@example.com", errWantMemberMissing, false},
		{"nobody@example.com", "ada@example.com", errWantGroupNotFound, false},
	}
	for _, tt := range has {
		call := fmt.Sprintf("HasMember(%q, %q)", tt.group, tt.member)
		t.Run(call, func(t *testing.T) {
			r, err := svc.Members.HasMember(tt.group, tt.member).Do()
			checkError(t, call, err, tt.want)
			if err == nil && r.IsMember != tt.is {
				t.Errorf("%s = %v, want %v", call, r.IsMember, tt.is)
			}
		})
	}

	list := func(call *admin.MembersListCall) []string {
		t.Helper()
		var got []string
		err := call.MaxResults(1).Pages(t.Context(), func(r *admin.Members) error {
			for _, m := range r.Members {
				got = append(got, m.Email+"/"+m.Type)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Members.List: %v", err)
		}
		return got
	}
	want := []string{"ada@example.com/USER", "grace@example.com/USER", "parent@gmail.com/USER", "teachers@example.com/GROUP"}
	if got := list(svc.Members.List("staff@example.com")); !slices.Equal(got, want) {
		t.Errorf("Members.List = %v, want %v", got, want)
	}
	if got := list(svc.Members.List("staff@example.com").Roles("OWNER,MANAGER")); !slices.Equal(got, want[:1]) {
		t.Errorf("Members.List(roles OWNER,MANAGER) = %v, want %v", got, want[:1])
	}
	_, err = svc.Members.List("nobody@example.com").Do()
	checkError(t, "Members.List(nobody)", err, errWantGroupNotFound)
	if r, err := svc.Groups.List().UserKey("countess@example.com").Do(); err != nil || len(r.Groups) != 1 || r.Groups[0].Email != "staff@example.com" {
		t.Errorf("Groups.List(userKey countess) = %+v, %v; want staff alone", r, err)
	}

	if err := svc.Members.Delete("staff@example.com", "countess@example.com").Do(); err != nil {
		t.Fatalf("Members.Delete = %v", err)
	}
	err = svc.Members.Delete("staff@example.com", "ada@example.com").Do()
	checkError(t, "Members.Delete again", err, errWantMemberMissing)
	if got := s.State().Groups[0].Members; len(got) != 3 {
		t.Errorf("State().Groups[0].Members = %+v, want 3", got)
	}
}
