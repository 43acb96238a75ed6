package batch

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

// UnknownFieldsError means patterns or templates name fields that no
// column of the input provides, and the job was asked to be strict.
type UnknownFieldsError struct {
	Problems []string
}

func (e *UnknownFieldsError) Error() string {
	return "the config names fields the input does not have:\n  " + strings.Join(e.Problems, "\n  ")
}

// unknownFields lists, before the first row, the patterns and templates
// that name a field no column of the input provides: a typo such as
// [fristname] would otherwise skip that pattern for every row, in silence,
// and give everyone the next one.
func unknownFields(c Config, patterns []naming.Pattern, reader *input.Reader, input string, roster *oneRoster) []string {
	provides := reader.Provides
	if roster != nil {
		// grade comes from grades, school from the orgs.csv, if any.
		provides = func(f string) bool {
			return f == "grade" && reader.Provides("grades") || f == "school" && len(roster.orgs) > 0 || reader.Provides(f)
		}
	}
	var problems []string
	for i, p := range patterns {
		for _, f := range p.Fields() {
			if !provides(f) {
				problems = append(problems, fmt.Sprintf("pattern %d %q names the field %s, which no column of %s provides: the pattern is skipped for every row", i+1, p.String(), f, input))
			}
		}
	}
	templates := append([]string{"orgUnit.default " + c.OrgUnit.Default}, prefixed("groups.add ", c.Groups.Add)...)
	for _, role := range slices.Sorted(maps.Keys(c.OneRoster.Roles)) {
		rp := c.OneRoster.Roles[role]
		if rp.OrgUnit != "" {
			templates = append(templates, "oneroster.roles."+role+".orgUnit "+rp.OrgUnit)
		}
		templates = append(templates, prefixed("oneroster.roles."+role+".groups ", rp.Groups)...)
	}
	for _, schema := range slices.Sorted(maps.Keys(c.CustomSchemas)) {
		for _, field := range slices.Sorted(maps.Keys(c.CustomSchemas[schema])) {
			if from := c.CustomSchemas[schema][field]; !provides(from) {
				problems = append(problems, fmt.Sprintf("customSchemas.%s.%s names the field %s, which no column of %s provides: the field is left as it is", schema, field, from, input))
			}
		}
	}
	for _, text := range templates {
		key, tpl, _ := strings.Cut(text, " ")
		t, err := parseTemplate(tpl)
		if err != nil {
			continue // Validate reported it
		}
		for _, piece := range t.pieces {
			if piece.field != "" && !provides(piece.field) {
				problems = append(problems, fmt.Sprintf("%s %q names the field %s, which no column of %s provides: every row will fail", key, tpl, piece.field, input))
			}
		}
	}
	return problems
}

func prefixed(prefix string, list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = prefix + s
	}
	return out
}
