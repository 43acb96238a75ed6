package batch

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/provisionhq/provision/batch/input"
)

// Defaults of the leavers' safety limits, as GCDS has them: a run whose
// leavers exceed either changes nothing.
const (
	DefaultMaxLeavers        = 25
	DefaultMaxLeaversPercent = 10.0
)

// LeaversConfig says what becomes of the people a full file no longer
// lists: accounts of the job's scope that the file does not list.
type LeaversConfig struct {
	// Full says the file lists everyone in scope: anyone in scope it does
	// not list is a leaver. Off, a file only adds and changes people.
	Full bool `yaml:"full"`
	// Action is suspend (the default) or move (to MoveTo, not suspended).
	Action string `yaml:"action"`
	// MoveTo is an org unit leavers are moved to: with suspend, as well as
	// suspended; with move, instead.
	MoveTo string `yaml:"moveTo"`
	// DeleteAfter deletes a leaver this tool suspended once this long has
	// passed since; zero never deletes.
	DeleteAfter Duration `yaml:"deleteAfter"`
	// MaxCount and MaxPercent are the safety limits: a run whose leavers
	// exceed MaxCount, or MaxPercent of the accounts in scope, changes
	// nothing. nil means the default.
	MaxCount   *int     `yaml:"maxCount"`
	MaxPercent *float64 `yaml:"maxPercent"`
	Scope      struct {
		// OrgUnits narrow the scope to these org units and those below.
		OrgUnits []string `yaml:"orgUnits"`
	} `yaml:"scope"`
}

// What a name change does to an address (Config.Rename).
const (
	RenameKeep  = "keep"
	RenameAlias = "alias"
)

// Leaver actions.
const (
	LeaverSuspend = "suspend"
	LeaverMove    = "move"
)

// limits returns the count and percentage limits, defaults applied.
func (l LeaversConfig) limits() (count int, percent float64) {
	count, percent = DefaultMaxLeavers, DefaultMaxLeaversPercent
	if l.MaxCount != nil {
		count = *l.MaxCount
	}
	if l.MaxPercent != nil {
		percent = *l.MaxPercent
	}
	return count, percent
}

// validateLeavers checks the leavers' settings.
func (c Config) validateLeavers(p *problems) {
	l := c.Leavers
	switch l.Action {
	case "", LeaverSuspend:
	case LeaverMove:
		if l.MoveTo == "" {
			p.add("leavers.action move needs leavers.moveTo, the org unit leavers are moved to")
		}
		if l.DeleteAfter > 0 {
			p.add("leavers.deleteAfter deletes leavers this tool suspended; with leavers.action move nobody is suspended")
		}
	default:
		p.add("leavers.action %q is not suspend or move", l.Action)
	}
	if l.MoveTo != "" {
		if err := input.CheckOrgUnit(l.MoveTo); err != nil || !strings.HasPrefix(l.MoveTo, "/") {
			p.add("leavers.moveTo %q is not an org unit path such as /Alumni", l.MoveTo)
		}
	}
	for _, u := range append(append([]string(nil), l.Scope.OrgUnits...), c.OrgUnit.Keep...) {
		if err := input.CheckOrgUnit(u); err != nil || !strings.HasPrefix(u, "/") {
			p.add("%q in leavers.scope.orgUnits or orgUnit.keep is not an org unit path such as /Students", u)
		}
	}
	for schema, fields := range c.CustomSchemas {
		if !isSchemaName(schema) {
			p.add("customSchemas: %q is not a custom schema name (letters, digits and _)", schema)
		}
		for field, from := range fields {
			if !isSchemaName(field) {
				p.add("customSchemas.%s: %q is not a field name (letters, digits and _)", schema, field)
			}
			if input.FieldName(from) != from {
				p.add("customSchemas.%s.%s: %q is not an input field name (lower case, such as cost_center)", schema, field, from)
			}
		}
	}
	switch c.Rename {
	case "", RenameKeep, RenameAlias:
	default:
		p.add("rename %q is not keep or alias", c.Rename)
	}
	if l.MoveTo != "" && l.DeleteAfter > 0 && len(l.Scope.OrgUnits) > 0 && !withinAny(l.MoveTo, l.Scope.OrgUnits) {
		p.add("leavers.moveTo %s is outside leavers.scope.orgUnits: moved leavers would leave the scope, and deleteAfter would never find them; add %s to the scope", l.MoveTo, l.MoveTo)
	}
	if l.DeleteAfter > 0 && time.Duration(l.DeleteAfter) < 24*time.Hour {
		p.add("leavers.deleteAfter %s is less than a day: give a leaver time to come back (30d, 90d)", time.Duration(l.DeleteAfter))
	}
	if l.DeleteAfter < 0 {
		p.add("leavers.deleteAfter must not be negative")
	}
	count, percent := l.limits()
	if count < 0 {
		p.add("leavers.maxCount %d must not be negative", count)
	}
	if percent < 0 || percent > 100 {
		p.add("leavers.maxPercent %g is out of range: use 0 to 100", percent)
	}
}

// leaversFingerprint adds the leavers' settings to a config summary, when
// a file is full: they change what a run does.
func (c Config) leaversFingerprint(line func(string, any)) {
	for _, schema := range slices.Sorted(maps.Keys(c.CustomSchemas)) {
		for _, field := range slices.Sorted(maps.Keys(c.CustomSchemas[schema])) {
			line("customSchemas."+schema+"."+field, c.CustomSchemas[schema][field])
		}
	}
	if c.Rename == RenameAlias {
		line("rename", c.Rename)
	}
	if len(c.OrgUnit.Keep) > 0 {
		line("orgUnit.keep", strings.Join(c.OrgUnit.Keep, " "))
	}
	l := c.Leavers
	if !l.Full {
		return
	}
	count, percent := l.limits()
	line("leavers.full", true)
	line("leavers.action", l.Action)
	line("leavers.moveTo", l.MoveTo)
	line("leavers.deleteAfter", time.Duration(l.DeleteAfter))
	line("leavers.limits", fmt.Sprintf("%d, %g%%", count, percent))
	line("leavers.scope.orgUnits", strings.Join(l.Scope.OrgUnits, " "))
}

// withinAny reports whether the org unit p is one of units or below one,
// case aside.
func withinAny(p string, units []string) bool {
	p = strings.ToLower(strings.TrimSuffix(p, "/"))
	for _, u := range units {
		u = strings.ToLower(strings.TrimSuffix(u, "/"))
		if p == u || strings.HasPrefix(p, u+"/") {
			return true
		}
	}
	return false
}

// isSchemaName reports whether s can name a custom schema or one of its
// fields: letters, digits and underscores, as Google allows.
func isSchemaName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Duration is a length of time in a config file: Go's form (720h, 90m)
// or a number of days (30d).
type Duration time.Duration

// UnmarshalYAML reads "30d" or "720h".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: a duration such as 30d or 720h", n.Line)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads a duration in Go's form or as a number of days
// ("30d").
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 30d or 720h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 30d or 720h", s)
	}
	return v, nil
}
