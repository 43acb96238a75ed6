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
		Groups:  GroupsConfig{Add: []string{"class-of-[year]", "staff@school.example.org", "[department]"}},
	}
	p, err := NewPlacement(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Fields(), []string{"department", "faculty", "year"}; !slices.Equal(got, want) {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
	ou, groups, err := p.Of(naming.Fields{"firstname": "Ada", "lastname": "Lovelace", "Faculty": " Maths ", "year": "2027", "department": "Physics"})
	if err != nil {
		t.Fatalf("Of: %v", err)
	}
	wantGroups := []string{"class-of-2027@school.example.org", "physics@school.example.org", "staff@school.example.org"}
	if ou != "/Students/Maths" || !slices.Equal(groups, wantGroups) {
		t.Errorf("Of = %q, %q; want /Students/Maths, %q", ou, groups, wantGroups)
	}
	if _, _, err := p.Of(naming.Fields{"firstname": "Ada", "lastname": "Lovelace"}); err == nil || !strings.Contains(err.Error(), "faculty") {
		t.Errorf("Of without faculty = %v, want an error naming the field", err)
	}

	plain, err := NewPlacement(Config{Domain: "school.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	ou, groups, err = plain.Of(naming.Fields{"firstname": "Ada", "lastname": "Lovelace"})
	if err != nil || ou != "/" || len(groups) != 0 || len(plain.Fields()) != 0 {
		t.Errorf("Of without templates = %q, %q, %v; want /, no groups", ou, groups, err)
	}
}
