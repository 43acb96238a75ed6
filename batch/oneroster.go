package batch

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/provisionhq/provision/batch/input"
)

// OneRoster v1.1 is the CSV format SIS exports (and Clever, ClassLink)
// use: users.csv lists people with a sourcedId, and orgs.csv the schools
// they belong to. A users.csv is read like any file, with its columns
// mapped to provision's fields: sourcedId is the identity, givenName and
// familyName the names; every other column is a field for templates
// (role, grades, middlename, orgsourcedids, ...), and [school] is the
// name of the person's first org in the orgs.csv beside it. A person whose
// status is tobedeleted, or whose enabledUser is false, is a leaver.

// Input formats.
const (
	FormatCSV       = "csv"
	FormatOneRoster = "oneroster"
)

// OneRosterConfig says how a OneRoster users.csv is provisioned.
type OneRosterConfig struct {
	// Address is the column that gives the account's address: email or
	// username; empty (the default) lets the patterns name people.
	Address string `yaml:"address"`
	// Orgs is the orgs.csv to name schools from; default: the orgs.csv
	// beside the users file, if there is one.
	Orgs string `yaml:"orgs"`
	// Roles place each role: its org unit and groups templates, such as
	// student: {orgUnit: "/Students/[school]/Grade [grade]"}. When roles
	// are set, people of a role not listed (guardians, parents) are not
	// provisioned.
	Roles map[string]RolePlacement `yaml:"roles"`
}

// RolePlacement is where the people of one OneRoster role go, instead of
// orgUnit.default, and in groups besides those of groups.add.
type RolePlacement struct {
	OrgUnit string   `yaml:"orgUnit"`
	Groups  []string `yaml:"groups"`
}

// oneRosterColumns maps the OneRoster users.csv columns whose names would
// otherwise be read as provision's own fields. Its email is the address,
// and its password the initial password, only when the config says so.
func (c OneRosterConfig) columns() map[string]string {
	cols := map[string]string{
		"sourcedId":  "id",
		"givenName":  "firstname",
		"familyName": "lastname",
		"email":      "contact_email",
		"username":   "username",
		"password":   "oneroster_password",
		"phone":      "phone",
	}
	switch c.Address {
	case "email":
		cols["email"] = "email"
	case "username":
		cols["username"] = "email"
	}
	return cols
}

// readerColumns returns the column mapping the input is read with: the
// config's, over OneRoster's own when the input is a OneRoster file.
func (j *Job) readerColumns() map[string]string {
	if j.format != FormatOneRoster {
		return j.Config.Columns
	}
	cols := j.Config.OneRoster.columns()
	maps.Copy(cols, j.Config.Columns)
	return cols
}

// readerOptions returns how the job reads its input.
func (j *Job) readerOptions() input.ReaderOptions {
	delim, _ := j.Config.delimiter()
	return input.ReaderOptions{Delimiter: delim, Columns: j.readerColumns(), Domain: j.Config.Domain, Encoding: j.Config.Encoding}
}

// detectFormat decides the input's format: the config's, or OneRoster
// when the header names sourcedId, givenName and familyName.
func detectFormat(path, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open input: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 1<<16)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read input %s: %w", path, err)
	}
	header := strings.ToLower(strings.TrimPrefix(line, "\uFEFF"))
	for _, col := range []string{"sourcedid", "givenname", "familyname"} {
		if !strings.Contains(header, col) {
			return FormatCSV, nil
		}
	}
	return FormatOneRoster, nil
}

// oneRoster is what a job reads besides a OneRoster users.csv: the names
// of the orgs.
type oneRoster struct {
	orgs  map[string]string // sourcedId → name
	roles map[string]RolePlacement
}

// loadOneRoster reads the orgs.csv the config names, or the one beside
// the input; without one, [school] is empty.
func loadOneRoster(c OneRosterConfig, inputPath string) (*oneRoster, error) {
	or := &oneRoster{orgs: map[string]string{}, roles: c.Roles}
	path := c.Orgs
	if path == "" {
		path = filepath.Join(filepath.Dir(inputPath), "orgs.csv")
		if _, err := os.Stat(path); err != nil {
			return or, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the OneRoster orgs: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read the OneRoster orgs %s: %w", path, err)
	}
	id, name := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))) {
		case "sourcedid":
			id = i
		case "name":
			name = i
		}
	}
	if id < 0 || name < 0 {
		return nil, fmt.Errorf("the OneRoster orgs %s has no sourcedId or name column", path)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return or, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the OneRoster orgs %s: %w", path, err)
		}
		if id < len(rec) && name < len(rec) {
			or.orgs[strings.TrimSpace(rec[id])] = strings.TrimSpace(rec[name])
		}
	}
}

// enrich adds the fields OneRoster templates use: school (the name of the
// first org) and grade (the first of grades).
func (or *oneRoster) enrich(rec *input.Record) {
	if rec.Custom == nil {
		rec.Custom = map[string]string{}
	}
	if orgs := strings.Split(rec.Custom["orgsourcedids"], ","); len(orgs) > 0 {
		rec.Custom["school"] = or.orgs[strings.TrimSpace(orgs[0])]
	}
	if grades := strings.Split(rec.Custom["grades"], ","); len(grades) > 0 {
		rec.Custom["grade"] = strings.TrimSpace(grades[0])
	}
}

// leaving says why a OneRoster record is a leaver, or "".
func leaving(rec input.Record) string {
	switch {
	case strings.EqualFold(rec.Custom["status"], "tobedeleted"):
		return "status tobedeleted"
	case strings.EqualFold(rec.Custom["enableduser"], "false"):
		return "enabledUser false"
	}
	return ""
}

// unprovisioned says why a OneRoster record of a role the config does not
// place gets no account, or "".
func (or *oneRoster) unprovisioned(rec input.Record) string {
	if len(or.roles) == 0 {
		return ""
	}
	role := strings.ToLower(rec.Custom["role"])
	if _, ok := or.roles[role]; ok {
		return ""
	}
	return fmt.Sprintf("role %q is not one oneroster.roles provisions (%s)", role, strings.Join(slices.Sorted(maps.Keys(or.roles)), ", "))
}

// validateOneRoster checks the input format and the OneRoster settings.
func (c Config) validateOneRoster(p *problems) {
	switch c.Format {
	case "", FormatCSV, FormatOneRoster:
	default:
		p.add("format %q is not csv or oneroster", c.Format)
	}
	o := c.OneRoster
	switch o.Address {
	case "", "email", "username":
	default:
		p.add("oneroster.address %q is not email or username (or unset, to name people by the patterns)", o.Address)
	}
	for role, rp := range o.Roles {
		if role != strings.ToLower(role) || strings.TrimSpace(role) == "" {
			p.add("oneroster.roles: %q: write roles as OneRoster does, in lower case (student, teacher, administrator, aide, ...)", role)
		}
		if rp.OrgUnit != "" {
			if _, err := parseTemplate(rp.OrgUnit); err != nil || !strings.HasPrefix(rp.OrgUnit, "/") {
				p.add("oneroster.roles.%s.orgUnit %q is not an org unit template such as /Students/[school]", role, rp.OrgUnit)
			}
		}
		for _, g := range rp.Groups {
			if _, err := parseTemplate(g); err != nil {
				p.add("oneroster.roles.%s.groups %q: %v", role, g, err)
			}
		}
	}
}

// oneRosterFingerprint adds the OneRoster settings to a config summary,
// when they are set: they change what a run does.
func (c Config) oneRosterFingerprint(line func(string, any)) {
	if c.Format != "" {
		line("format", c.Format)
	}
	o := c.OneRoster
	if o.Address != "" {
		line("oneroster.address", o.Address)
	}
	for _, role := range slices.Sorted(maps.Keys(o.Roles)) {
		line("oneroster.roles."+role, o.Roles[role].OrgUnit+" "+strings.Join(o.Roles[role].Groups, " "))
	}
}
