package emulator

import (
	"fmt"
	"slices"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
)

func TestServer_OrgUnits(t *testing.T) {
	s, svc := start(t, Options{})
	inserts := []struct {
		ou   *admin.OrgUnit
		want apiErr
		path string
	}{
		{&admin.OrgUnit{Name: "Students", ParentOrgUnitPath: "/"}, apiErr{}, "/Students"},
		{&admin.OrgUnit{Name: "Grade 5", ParentOrgUnitPath: "/students", Description: "Fifth grade"}, apiErr{}, "/Students/Grade 5"},
		{&admin.OrgUnit{Name: "Class A", ParentOrgUnitPath: "/Students/Grade 5/"}, apiErr{}, "/Students/Grade 5/Class A"},
		{&admin.OrgUnit{Name: "Staff", ParentOrgUnitId: "root"}, apiErr{400, "invalid", "Invalid Parent Orgunit Id"}, ""},
		{&admin.OrgUnit{Name: "Grade 6", ParentOrgUnitPath: "/Pupils"}, apiErr{400, "invalid", "Invalid Parent Orgunit Id"}, ""},
		{&admin.OrgUnit{Name: "Orphan"}, apiErr{400, "invalid", "Invalid Parent Orgunit Id"}, ""},
		{&admin.OrgUnit{Name: "grade 5", ParentOrgUnitPath: "/Students"}, apiErr{400, "invalid", "Invalid Ou Id"}, ""},
		{&admin.OrgUnit{Name: "a/b", ParentOrgUnitPath: "/"}, apiErr{400, "invalid", "Invalid Ou Name"}, ""},
		{&admin.OrgUnit{ParentOrgUnitPath: "/"}, apiErr{400, "required", "Missing required field: name"}, ""},
	}
	for _, tt := range inserts {
		call := fmt.Sprintf("Orgunits.Insert(%q under %q)", tt.ou.Name, tt.ou.ParentOrgUnitPath)
		t.Run(call, func(t *testing.T) {
			ou, err := svc.Orgunits.Insert("my_customer", tt.ou).Do()
			checkError(t, call, err, tt.want)
			if err == nil && (ou.OrgUnitPath != tt.path || ou.OrgUnitId == "" || ou.ParentOrgUnitId == "") {
				t.Errorf("%s = %+v, want path %q", call, ou, tt.path)
			}
		})
	}
	students, err := svc.Orgunits.Get("my_customer", "Students").Do()
	if err != nil {
		t.Fatal(err)
	}
	grade5, err := svc.Orgunits.Insert(s.CustomerID(), &admin.OrgUnit{Name: "Staff", ParentOrgUnitId: students.ParentOrgUnitId}).Do()
	if err != nil || grade5.OrgUnitPath != "/Staff" {
		t.Errorf("Orgunits.Insert(Staff by parent id) = %+v, %v", grade5, err)
	}
	gets := []struct {
		key  string
		want apiErr
		path string
	}{
		{"Students/Grade 5", apiErr{}, "/Students/Grade 5"},
		{"/Students/Grade 5", apiErr{}, "/Students/Grade 5"},
		{"students/grade 5/class a", apiErr{}, "/Students/Grade 5/Class A"},
		{students.OrgUnitId, apiErr{}, "/Students"},
		{"Students/Grade 6", apiErr{404, "notFound", "Org unit not found"}, ""},
	}
	for _, tt := range gets {
		call := fmt.Sprintf("Orgunits.Get(%q)", tt.key)
		t.Run(call, func(t *testing.T) {
			ou, err := svc.Orgunits.Get("my_customer", tt.key).Do()
			checkError(t, call, err, tt.want)
			if err == nil && ou.OrgUnitPath != tt.path {
				t.Errorf("%s = %q, want %q", call, ou.OrgUnitPath, tt.path)
			}
		})
	}
	_, err = svc.Orgunits.Get("C0000000", "Students").Do()
	checkError(t, "Orgunits.Get(other customer)", err, apiErr{400, "badRequest", "Bad Request"})

	lists := []struct {
		path, typ string
		want      []string
	}{
		{"", "", []string{"/Staff", "/Students"}},
		{"", "all", []string{"/Staff", "/Students", "/Students/Grade 5", "/Students/Grade 5/Class A"}},
		{"/Students", "children", []string{"/Students/Grade 5"}},
		{"Students", "all", []string{"/Students/Grade 5", "/Students/Grade 5/Class A"}},
		{"/Students", "allIncludingParent", []string{"/Students", "/Students/Grade 5", "/Students/Grade 5/Class A"}},
		{"/Staff", "all", nil},
	}
	for _, tt := range lists {
		call := fmt.Sprintf("Orgunits.List(%q, %q)", tt.path, tt.typ)
		t.Run(call, func(t *testing.T) {
			r, err := svc.Orgunits.List("my_customer").OrgUnitPath(tt.path).Type(tt.typ).Do()
			if err != nil {
				t.Fatalf("%s = %v", call, err)
			}
			var got []string
			for _, ou := range r.OrganizationUnits {
				got = append(got, ou.OrgUnitPath)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s = %v, want %v", call, got, tt.want)
			}
		})
	}
	_, err = svc.Orgunits.List("my_customer").OrgUnitPath("/Nowhere").Do()
	checkError(t, "Orgunits.List(/Nowhere)", err, apiErr{404, "notFound", "Org unit not found"})

	u := newUser("pupil")
	u.OrgUnitPath = "/students/GRADE 5"
	created, err := svc.Users.Insert(u).Do()
	if err != nil || created.OrgUnitPath != "/Students/Grade 5" {
		t.Errorf("Users.Insert(ou %q) = %v, %v; want the canonical path", u.OrgUnitPath, created, err)
	}
}
