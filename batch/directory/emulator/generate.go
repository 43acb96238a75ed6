package emulator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosimple/unidecode"
)

// Generate adds n users to the directory, as a school's or company's
// account looks after a few years: people from many cultures with their
// names in their own scripts and ASCII addresses in the styles admins use
// (john.smith, johnsmith, jsmith, with counters when taken, so that
// johnsmith2 exists), some with aliases, most with an external id; in org
// units by grade and role, a few of the staff super or delegated admins,
// half the alumni suspended; with groups that have aliases and members. The
// result depends only on the seed and on what the directory held before.
func (s *Server) Generate(n int) error {
	if n < 0 {
		return fmt.Errorf("emulator: generate %d users: negative count", n)
	}
	if n == 0 {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := newGenerator(s.dir, now)
	if err != nil {
		return fmt.Errorf("emulator: generate: %w", err)
	}
	for range n {
		g.user()
	}
	g.flush()
	return nil
}

// generatedEpoch starts the range of generated creation times.
var generatedEpoch = time.Date(2015, time.January, 1, 0, 0, 0, 0, time.UTC)

const generatedSpan = 10 * 365 * 24 * time.Hour

type generatedName struct {
	native string
	ascii  string // lower-case letters and digits only
}

type generatedCulture struct {
	weight int
	given  []generatedName
	family []generatedName
}

type generator struct {
	d        *directory
	rng      *rand.Rand
	cultures []generatedCulture
	total    int
	latest   int64          // latest creation time, Unix ms
	counters map[string]int // next counter to try per address base
	nextID   int            // next external id to try
	// users and members wait here to be added to their ordered lists in
	// address order, which is much faster than in random order.
	users   []*user
	members map[*group][]*member

	students, teachers, admins, alumni *orgUnit
	grades                             []*orgUnit
	gradeGroups                        []*group
	clubs                              []*group
	teacherGroup, staffGroup           *group
	alumniGroup                        *group
}

func newGenerator(d *directory, now time.Time) (*generator, error) {
	g := &generator{
		d:        d,
		rng:      d.rng,
		latest:   now.Add(-24 * time.Hour).UnixMilli(),
		counters: map[string]int{},
		nextID:   100000 + d.rng.IntN(400000),
		members:  map[*group][]*member{},
	}
	for _, c := range cultures() {
		gc := generatedCulture{weight: c.weight}
		var err error
		if gc.given, err = prepareNames(c.given); err != nil {
			return nil, err
		}
		if gc.family, err = prepareNames(c.family); err != nil {
			return nil, err
		}
		g.cultures = append(g.cultures, gc)
		g.total += c.weight
	}
	g.structure()
	return g, nil
}

func prepareNames(list []string) ([]generatedName, error) {
	out := make([]generatedName, 0, len(list))
	for _, entry := range list {
		native, latin, ok := strings.Cut(entry, "|")
		if !ok {
			latin = native
		}
		ascii := asciiLocal(unidecode.Unidecode(latin))
		if ascii == "" {
			return nil, fmt.Errorf("name %q has no ASCII form", entry)
		}
		out = append(out, generatedName{native: native, ascii: ascii})
	}
	return out, nil
}

// asciiLocal keeps the lower-case letters and digits of s, as admins make
// an address of a name: "O'Brien" is obrien, "de la Cruz" delacruz.
func asciiLocal(s string) string {
	var b strings.Builder
	for _, c := range []byte(strings.ToLower(s)) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// structure finds or creates the org units and groups generated users go
// into.
func (g *generator) structure() {
	root := g.d.orgUnit("/")
	g.students = g.orgUnit(root, "Students")
	for grade := 1; grade <= 12; grade++ {
		g.grades = append(g.grades, g.orgUnit(g.students, "Grade "+strconv.Itoa(grade)))
	}
	staff := g.orgUnit(root, "Staff")
	g.teachers = g.orgUnit(staff, "Teachers")
	g.admins = g.orgUnit(staff, "Administration")
	g.alumni = g.orgUnit(root, "Alumni")

	for grade := 1; grade <= 12; grade++ {
		g.gradeGroups = append(g.gradeGroups, g.group("grade-"+strconv.Itoa(grade), "Grade "+strconv.Itoa(grade),
			"class-of-"+strconv.Itoa(2038-grade)))
	}
	g.teacherGroup = g.group("teachers", "Teachers", "faculty")
	g.staffGroup = g.group("staff", "All Staff", "employees")
	g.alumniGroup = g.group("alumni", "Alumni")
	for _, club := range []struct{ local, name, alias string }{
		{"chess-club", "Chess Club", "chess"}, {"robotics", "Robotics Team", ""}, {"choir", "Choir", ""},
		{"drama", "Drama Club", "theatre"}, {"debate", "Debate Society", ""}, {"student-council", "Student Council", "council"},
		{"yearbook", "Yearbook", ""}, {"soccer", "Soccer Team", "football"},
	} {
		var aliases []string
		if club.alias != "" {
			aliases = append(aliases, club.alias)
		}
		g.clubs = append(g.clubs, g.group(club.local, club.name, aliases...))
	}
}

func (g *generator) orgUnit(parent *orgUnit, name string) *orgUnit {
	path := parent.childPath(name)
	if ou := g.d.orgUnit(path); ou != nil {
		return ou
	}
	ou := &orgUnit{id: g.d.newOrgUnitID(), name: name, path: path, parentPath: parent.path}
	g.d.addOrgUnit(ou)
	return ou
}

// group finds or creates a group; nil when its address belongs to a user.
func (g *generator) group(local, name string, aliases ...string) *group {
	addr := local + "@" + g.d.domain
	if gr := g.d.group(addr); gr != nil {
		return gr
	}
	if g.d.taken(addr) {
		return nil
	}
	gr := newGroup(g.d.newGroupID(), addr, name, "")
	for _, a := range aliases {
		if a := a + "@" + g.d.domain; !g.d.taken(a) {
			gr.aliases = append(gr.aliases, a)
		}
	}
	g.d.addGroup(gr)
	return gr
}

func (g *generator) join(gr *group, u *user, role string) {
	if gr != nil {
		g.members[gr] = append(g.members[gr], &member{user: u, email: u.email, role: role})
	}
}

// flush adds the generated users and memberships to the ordered lists.
func (g *generator) flush() {
	byAddress := func(a, b string) int { return strings.Compare(a, b) }
	slices.SortFunc(g.users, func(a, b *user) int { return byAddress(a.email, b.email) })
	for _, u := range g.users {
		g.d.users.Insert(u)
	}
	for gr, ms := range g.members {
		slices.SortFunc(ms, func(a, b *member) int { return byAddress(a.email, b.email) })
		for _, m := range ms {
			gr.members.Insert(m)
		}
		gr.version++
	}
}

// pick draws an index below n, earlier ones more often, so that common
// names are common and collide.
func (g *generator) pick(n int) int {
	return min(n-1, int(float64(n)*math.Pow(g.rng.Float64(), 2)))
}

func (g *generator) culture() *generatedCulture {
	w := g.rng.IntN(g.total)
	for i := range g.cultures {
		if w -= g.cultures[i].weight; w < 0 {
			return &g.cultures[i]
		}
	}
	return &g.cultures[len(g.cultures)-1]
}

// addressStyles are the ways admins make a username of a name, with how
// often each is used.
var addressStyles = []struct {
	weight int
	local  func(given, family string) string
}{
	{40, func(g, f string) string { return g + "." + f }},
	{25, func(g, f string) string { return g + f }},
	{20, func(g, f string) string { return g[:1] + f }},
	{5, func(g, f string) string { return g + "_" + f }},
	{5, func(g, f string) string { return f + "." + g }},
	{5, func(g, f string) string { return g + f[:1] }},
}

func (g *generator) style() int {
	w := g.rng.IntN(100)
	for i, st := range addressStyles {
		if w -= st.weight; w < 0 {
			return i
		}
	}
	return 0
}

// address returns a free address for base, adding the smallest counter
// from 2 up that makes it free, remembered per base so that a thousand
// John Smiths cost no more than one.
func (g *generator) address(base string) string {
	base = strings.TrimRight(base[:min(len(base), 60)], "._")
	if addr := base + "@" + g.d.domain; !g.d.taken(addr) {
		return addr
	}
	n := max(2, g.counters[base])
	for ; ; n++ {
		if addr := base + strconv.Itoa(n) + "@" + g.d.domain; !g.d.taken(addr) {
			g.counters[base] = n + 1
			return addr
		}
	}
}

func (g *generator) externalID() string {
	for {
		id := strconv.Itoa(g.nextID)
		g.nextID += 1 + g.rng.IntN(3)
		if len(g.d.byExternalID[id]) == 0 {
			return id
		}
	}
}

// user generates one user with its org unit, aliases and groups.
func (g *generator) user() {
	c := g.culture()
	given := c.given[g.pick(len(c.given))]
	family := c.family[g.pick(len(c.family))]
	st := g.style()
	created := generatedEpoch.UnixMilli() + g.rng.Int64N(generatedSpan.Milliseconds())
	u := &user{
		id:         g.d.newUserID(),
		email:      g.address(addressStyles[st].local(given.ascii, family.ascii)),
		givenName:  given.native,
		familyName: family.native,
		created:    min(created, g.latest),
	}
	if g.rng.IntN(100) < 8 {
		other := (st + 1 + g.rng.IntN(len(addressStyles)-1)) % len(addressStyles)
		alias := addressStyles[other].local(given.ascii, family.ascii) + "@" + g.d.domain
		if alias != u.email && !g.d.taken(alias) {
			u.aliases = append(u.aliases, alias)
		}
	}
	if g.rng.IntN(100) < 85 {
		u.externalIDs = []ExternalID{{Value: g.externalID(), Type: "organization"}}
	}
	switch r := g.rng.IntN(100); {
	case r < 82:
		grade := g.rng.IntN(len(g.grades))
		u.orgUnitPath = g.grades[grade].path
		if g.rng.IntN(100) < 60 {
			g.join(g.gradeGroups[grade], u, roleMember)
		}
		if g.rng.IntN(100) < 15 {
			g.join(g.clubs[g.rng.IntN(len(g.clubs))], u, roleMember)
		}
	case r < 92:
		u.orgUnitPath = g.teachers.path
		g.join(g.teacherGroup, u, roleMember)
		g.join(g.staffGroup, u, roleMember)
		if g.rng.IntN(100) < 20 {
			g.join(g.clubs[g.rng.IntN(len(g.clubs))], u, roleManager)
		}
	case r < 95:
		// A third of the administration are admins of the account: one
		// in a hundred users a super admin, one a delegated admin.
		u.orgUnitPath = g.admins.path
		u.isAdmin, u.isDelegatedAdmin = r == 92, r == 93
		g.join(g.staffGroup, u, roleOwner)
	default:
		u.orgUnitPath = g.alumni.path
		u.setSuspended(g.rng.IntN(2) == 0)
		if g.rng.IntN(2) == 0 {
			g.join(g.alumniGroup, u, roleMember)
		}
	}
	g.d.indexUser(u)
	g.users = append(g.users, u)
}
