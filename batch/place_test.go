package batch

import (
	"slices"
	"strings"
	"testing"

	"github.com/provisionhq/provision/naming"
)

func TestPlacement(t *testing.T) {
	c := Config{
		Domain:  "school.example.org",
		OrgUnit: OrgUnitConfig{Default: "/Students/[faculty]"},
		Groups:  GroupsConfig{Add: []string{"class-of-[year]", "staff@school.example.org", "[department]"}, CreateMissing: GroupCreation{Templates: true}},
	}
	p, err := NewPlacement(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Fields(), []string{"department", "faculty", "year"}; !slices.Equal(got, want) {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
	got, err := p.Of(naming.Fields{"firstname": "Ada", "lastname": "Lovelace", "Faculty": " Maths ", "year": "2027", "department": "Physics"})
	if err != nil {
		t.Fatalf("Of: %v", err)
	}
	wantGroups := []string{"class-of-2027@school.example.org", "physics@school.example.org", "staff@school.example.org"}
	if got.OrgUnit != "/Students/Maths" || !slices.Equal(got.Groups, wantGroups) || !got.MayCreate("class-of-2027@school.example.org") {
		t.Errorf("Of = %+v; want /Students/Maths, %q, creatable", got, wantGroups)
	}
	if _, err := p.Of(naming.Fields{"firstname": "Ada", "lastname": "Lovelace"}); err == nil || !strings.Contains(err.Error(), "faculty") {
		t.Errorf("Of without faculty = %v, want an error naming the field", err)
	}
	// A template may not make anyone join a reserved group.
	reserved, err := NewPlacement(Config{Domain: "school.example.org", Groups: GroupsConfig{Add: []string{"[role]"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reserved.Of(naming.Fields{"firstname": "Ada", "lastname": "Lovelace", "role": "postmaster"}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("Of with role postmaster = %v, want a refusal", err)
	}

	plain, err := NewPlacement(Config{Domain: "school.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	got, err = plain.Of(naming.Fields{"firstname": "Ada", "lastname": "Lovelace"})
	if err != nil || got.OrgUnit != "/" || len(got.Groups) != 0 || len(plain.Fields()) != 0 || got.MayCreate("x@school.example.org") {
		t.Errorf("Of without templates = %+v, %v; want /, no groups", got, err)
	}
}
