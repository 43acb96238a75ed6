package batch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

// Config is what a job does, as the YAML config file, the environment and
// the flags together say. Secrets are never in it: credentials are a path.
type Config struct {
	// Domain is the Workspace domain accounts are created in.
	Domain string `yaml:"domain"`
	// Patterns are the username patterns, tried in order. Empty means the
	// built-in list.
	Patterns []string `yaml:"patterns"`
	// ReservedNames are added to the built-in reserved list.
	ReservedNames []string `yaml:"reservedNames"`
	// Columns maps CSV headers to fields: {"Nachname": "lastname"}.
	Columns map[string]string `yaml:"columns"`
	// Delimiter separates CSV fields: ",", ";" or "\t" (or "tab").
	Delimiter string `yaml:"delimiter"`
	// Encoding is the CSV file's character encoding: utf-8 (the
	// default), windows-1252, iso-8859-1, iso-8859-15 or utf-16.
	Encoding string `yaml:"encoding"`
	// Format is the input's format: csv, or oneroster (a OneRoster v1.1
	// users.csv); empty means recognised from the header.
	Format    string          `yaml:"format"`
	OneRoster OneRosterConfig `yaml:"oneroster"`

	Identity IdentityConfig `yaml:"identity"`
	OrgUnit  OrgUnitConfig  `yaml:"orgUnit"`
	Groups   GroupsConfig   `yaml:"groups"`
	Password PasswordConfig `yaml:"password"`
	Leavers  LeaversConfig  `yaml:"leavers"`
	// Rename says what a name change does to an existing account's
	// address: keep (the default) keeps it; alias gives the account the
	// address the patterns give the new name, keeping the old one as an
	// alias.
	Rename string `yaml:"rename"`
	// CustomSchemas maps the account's custom schema fields to the
	// input's fields: {Employment: {costCenter: cost_center}} sets the
	// field costCenter of the schema Employment from the column
	// cost_center, on create and on every update. The schemas must exist
	// in the domain (Admin console, Directory, Custom attributes).
	CustomSchemas map[string]map[string]string `yaml:"customSchemas"`

	// Concurrency is how many rows are worked on at once.
	Concurrency int `yaml:"concurrency"`
	// Quota is the Directory API request budget per minute.
	Quota int `yaml:"quota"`

	// Serve configures provision serve; jobs ignore it, and it is not part
	// of the fingerprint.
	Serve ServeConfig `yaml:"serve"`
}

// IdentityConfig says how an account remembers which row it came from.
type IdentityConfig struct {
	// Type is the externalIds type written with the row's ID:
	// organization (the default), account, customer, login_id, network or
	// custom.
	Type string `yaml:"type"`
	// CustomType names the type when Type is custom.
	CustomType string `yaml:"customType"`
}

// OrgUnitConfig places accounts.
type OrgUnitConfig struct {
	// Default is the org unit of rows without one, a template such as
	// "/Students/[grade]". Empty means "/".
	Default string `yaml:"default"`
	// CreateMissing creates org units (with their parents) that do not
	// exist. Otherwise a row whose org unit is missing fails.
	CreateMissing bool `yaml:"createMissing"`
	// Keep lists org units whose members are never moved, by a row or as
	// leavers, such as /Students/Suspended: they and those below them.
	Keep []string `yaml:"keep"`
}

// GroupsConfig says which groups accounts join.
type GroupsConfig struct {
	// Add are groups every row joins besides its own, as templates such as
	// "class-of-[year]" or "staff@example.org".
	Add []string `yaml:"add"`
	// CreateMissing says which missing groups run creates (it needs the
	// admin.directory.group scope); joining any other missing group fails
	// the row.
	CreateMissing GroupCreation `yaml:"createMissing"`
	// Domains are the domains besides the job's whose groups a row may
	// join. A group in any other domain fails the row.
	Domains []string `yaml:"domains"`
}

// GroupCreation says which missing groups may be created. In YAML it is
// true (the groups of the add templates), false, or a list of globs such
// as "class-of-*": the groups of the templates and every group a row names
// whose address (or part before @) matches one. A cell can never make run
// create a group no glob allows: a Groups column holding "admins" must not
// mint a privileged group.
type GroupCreation struct {
	Templates bool     // create missing groups of the add templates
	Patterns  []string // globs (path.Match) of other groups to create
}

// UnmarshalYAML reads true, false or a list of globs.
func (g *GroupCreation) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var b bool
		if err := n.Decode(&b); err != nil {
			return fmt.Errorf("line %d: groups.createMissing is true, false or a list of group name patterns such as class-of-*", n.Line)
		}
		*g = GroupCreation{Templates: b}
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return fmt.Errorf("line %d: groups.createMissing: %w", n.Line, err)
		}
		*g = GroupCreation{Templates: len(list) > 0, Patterns: list}
		return nil
	}
	return fmt.Errorf("line %d: groups.createMissing is true, false or a list of group name patterns such as class-of-*", n.Line)
}

// Enabled reports whether any missing group may be created.
func (g GroupCreation) Enabled() bool { return g.Templates || len(g.Patterns) > 0 }

// String is the setting as the config summary shows it.
func (g GroupCreation) String() string {
	if len(g.Patterns) == 0 {
		return strconv.FormatBool(g.Templates)
	}
	return strings.Join(g.Patterns, " ")
}

// matches reports whether a group address may be created as a group a
// row names: its address, or its part before @ when it is in domain,
// matches a pattern.
func (g GroupCreation) matches(address, domain string) bool {
	local, dom, _ := strings.Cut(address, "@")
	for _, p := range g.Patterns {
		p = strings.ToLower(p)
		if strings.Contains(p, "@") {
			if ok, _ := path.Match(p, address); ok {
				return true
			}
		} else if dom == domain {
			if ok, _ := path.Match(p, local); ok {
				return true
			}
		}
	}
	return false
}

// CreatesGroups reports whether a job may create groups, and so needs
// the scope that allows it.
func (g GroupsConfig) CreatesGroups() bool { return g.CreateMissing.Enabled() }

// PasswordConfig says how initial passwords are made.
type PasswordConfig struct {
	// Length of generated passwords; 0 means 16.
	Length int `yaml:"length"`
	// ChangeAtNextLogin makes users choose their own password. Nil means
	// true.
	ChangeAtNextLogin *bool `yaml:"changeAtNextLogin"`
}

// Defaults.
const (
	DefaultConcurrency    = 16   // keeps 2,400 requests a minute busy at Google's 300-600 ms per call
	DefaultQuota          = 2400 // Google's default per user per project
	DefaultPasswordLength = 16
	minPasswordLength     = 12
)

// LoadConfig reads a YAML config file. Unknown keys are errors: a
// misspelt key silently ignored would run a job the admin did not ask for.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// WithDefaults returns c with every unset setting at its default.
func (c Config) WithDefaults() Config {
	if c.Delimiter == "" {
		c.Delimiter = ","
	}
	if c.Encoding == "" {
		c.Encoding = input.DefaultEncoding
	}
	if c.Identity.Type == "" {
		c.Identity.Type = "organization"
	}
	if c.OrgUnit.Default == "" {
		c.OrgUnit.Default = "/"
	}
	if c.Password.Length == 0 {
		c.Password.Length = DefaultPasswordLength
	}
	if c.Password.ChangeAtNextLogin == nil {
		yes := true
		c.Password.ChangeAtNextLogin = &yes
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Quota == 0 {
		c.Quota = DefaultQuota
	}
	if c.Leavers.Action == "" {
		c.Leavers.Action = LeaverSuspend
	}
	return c
}

// externalIDTypes are the externalIds types the Directory API accepts.
var externalIDTypes = []string{"account", "custom", "customer", "login_id", "network", "organization"}

// Validate checks a config with defaults applied and returns every problem
// at once, each saying what to fix.
func (c Config) Validate() error {
	var p problems
	c.validateNaming(&p)
	c.validateInput(&p)
	c.validatePlacement(&p)
	c.validateLeavers(&p)
	c.validateOneRoster(&p)
	if c.Password.Length < minPasswordLength || c.Password.Length > 100 {
		p.add("password.length %d is out of range: use %d to 100", c.Password.Length, minPasswordLength)
	}
	if c.Concurrency < 1 || c.Concurrency > 100 {
		p.add("concurrency %d is out of range: use 1 to 100", c.Concurrency)
	}
	if c.Quota < 1 {
		p.add("quota %d must be a positive number of requests per minute", c.Quota)
	}
	if len(p) == 0 {
		return nil
	}
	return &ConfigError{Problems: p}
}

// problems collects what is wrong with a config.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// validateNaming checks the domain, the patterns, the reserved names and
// the identity.
func (c Config) validateNaming(p *problems) {
	if c.Domain == "" {
		p.add("domain is not set: give the Workspace domain with --domain or domain: in the config")
	} else if !input.IsDomainName(strings.ToLower(c.Domain)) {
		p.add("domain %q is not a domain name", c.Domain)
	}
	if _, err := c.patterns(); err != nil {
		p.add("%v", err)
	}
	for _, name := range c.ReservedNames {
		if !naming.Valid(strings.ToLower(name)) {
			p.add("reservedNames: %q is not a username", name)
		}
	}
	if hasControl(c.Identity.CustomType) {
		p.add("identity.customType %q holds a control character such as a line break", c.Identity.CustomType)
	}
	if !slices.Contains(externalIDTypes, c.Identity.Type) {
		p.add("identity.type %q is not one of %s", c.Identity.Type, strings.Join(externalIDTypes, ", "))
	}
	if (c.Identity.Type == "custom") != (c.Identity.CustomType != "") {
		p.add("identity.customType must be set exactly when identity.type is custom")
	}
}

// validateInput checks how the CSV is read.
func (c Config) validateInput(p *problems) {
	if _, err := c.delimiter(); err != nil {
		p.add("%v", err)
	}
	if _, err := input.CanonicalEncoding(c.Encoding); err != nil {
		p.add("%v", err)
	}
	if err := input.CheckColumns(c.Columns); err != nil {
		p.add("%v", err)
	}
	// Free text holds no control characters: a line break would pass for
	// another setting in the summary the fingerprint is made of.
	for _, h := range slices.Sorted(maps.Keys(c.Columns)) {
		if hasControl(h) || hasControl(c.Columns[h]) {
			p.add("columns: %q: %q holds a control character such as a line break", h, c.Columns[h])
		}
	}
}

// validatePlacement checks the org unit and group templates and what may
// be created. A template that gives nothing valid even from plain values
// would fail every row.
func (c Config) validatePlacement(p *problems) {
	if hasControl(c.OrgUnit.Default) {
		p.add("orgUnit.default %q holds a control character such as a line break", c.OrgUnit.Default)
	} else if t, err := parseTemplate(c.OrgUnit.Default); err != nil {
		p.add("orgUnit.default: %v", err)
	} else if !strings.HasPrefix(c.OrgUnit.Default, "/") {
		p.add("orgUnit.default %q must start with /", c.OrgUnit.Default)
	} else if err := t.check(nil, input.CheckOrgUnit); err != nil {
		p.add("orgUnit.default gives no valid org unit path: %v", err)
	}
	for _, g := range c.Groups.Add {
		// A domain that comes from a field is checked row by row.
		_, domain, _ := strings.Cut(g, "@")
		joinable := c.joinableGroup(!strings.Contains(domain, "["))
		if t, err := parseTemplate(g); err != nil {
			p.add("groups.add %q: %v", g, err)
		} else if err := t.check(naming.Normalize, joinable); err != nil {
			p.add("groups.add %q gives no valid group that a row may join: %v", g, err)
		}
	}
	for _, pat := range c.Groups.CreateMissing.Patterns {
		if _, err := path.Match(strings.ToLower(pat), ""); err != nil || pat == "" || hasControl(pat) {
			p.add("groups.createMissing: %q is not a pattern of group names (such as class-of-*)", pat)
		}
	}
	for _, d := range c.Groups.Domains {
		if !input.IsDomainName(strings.ToLower(d)) {
			p.add("groups.domains: %q is not a domain name", d)
		}
	}
}

// joinableGroup returns a check that a group (an address, or the part of
// one before @) is valid and may be joined under the config's rules: not
// a reserved name, and, when checkDomain, in the domain or groups.domains.
func (c Config) joinableGroup(checkDomain bool) func(string) error {
	domains := map[string]bool{strings.ToLower(c.Domain): true}
	for _, d := range c.Groups.Domains {
		domains[strings.ToLower(d)] = true
	}
	reserved := naming.NewNameSet(c.reserved()...)
	return func(g string) error {
		g = strings.ToLower(g)
		if err := input.CheckGroup(g); err != nil {
			return err
		}
		local, domain, found := strings.Cut(g, "@")
		if _, ok := reserved[local]; ok {
			return fmt.Errorf("%s is a reserved name (like postmaster, abuse or admin)", local)
		}
		if found && checkDomain && !domains[domain] {
			return fmt.Errorf("%s is not in %s or groups.domains", g, c.Domain)
		}
		return nil
	}
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// ConfigError lists what is wrong with a config.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "config: " + e.Problems[0]
	}
	return "config has " + fmt.Sprint(len(e.Problems)) + " problems:\n  " + strings.Join(e.Problems, "\n  ")
}

// patterns parses the username patterns.
func (c Config) patterns() ([]naming.Pattern, error) {
	if len(c.Patterns) == 0 {
		return naming.DefaultPatterns(), nil
	}
	return naming.ParsePatterns(c.Patterns)
}

// reserved returns the full reserved list: the built-in names and the
// configured ones.
func (c Config) reserved() []string {
	return append(slices.Clone(naming.DefaultReserved), c.ReservedNames...)
}

func (c Config) delimiter() (rune, error) {
	switch c.Delimiter {
	case ",", "":
		return ',', nil
	case ";":
		return ';', nil
	case "\t", "tab", `\t`:
		return '\t', nil
	case "|":
		return '|', nil
	}
	return 0, fmt.Errorf("delimiter %q is not supported: use \",\", \";\", \"|\" or \"tab\"", c.Delimiter)
}

// Fingerprint identifies the settings that change what a job does to the
// directory, and Summary lists them readably; concurrency and quota are not
// among them. A resumed job compares them with the journal's.
func (c Config) Fingerprint() (fingerprint, summary string) {
	c = c.WithDefaults()
	var b strings.Builder
	line := func(k string, v any) { fmt.Fprintf(&b, "%s: %v\n", k, v) }
	line("domain", c.Domain)
	patterns, _ := c.patterns()
	var ps []string
	for _, p := range patterns {
		ps = append(ps, p.String())
	}
	line("patterns", strings.Join(ps, "  "))
	reserved := c.reserved()
	slices.Sort(reserved)
	line("reservedNames", strings.Join(reserved, " "))
	keys := slices.Sorted(maps.Keys(c.Columns))
	for _, k := range keys {
		// The field the header maps to, spelt one way only: a value such
		// as "b: c" must not pass for part of the header.
		line("columns."+k, input.FieldName(c.Columns[k]))
	}
	line("delimiter", fmt.Sprintf("%q", c.Delimiter))
	// The encoding decides what names are created. Left out when it is
	// UTF-8, the default, so that runs begun before it could be set
	// resume without a change to confirm.
	if enc, err := input.CanonicalEncoding(c.Encoding); err == nil && enc != input.DefaultEncoding {
		line("encoding", enc)
	}
	line("identity.type", c.Identity.Type+" "+c.Identity.CustomType)
	line("orgUnit.default", c.OrgUnit.Default)
	line("orgUnit.createMissing", c.OrgUnit.CreateMissing)
	line("groups.add", strings.Join(c.Groups.Add, " "))
	line("groups.createMissing", c.Groups.CreateMissing)
	if len(c.Groups.Domains) > 0 {
		line("groups.domains", strings.ToLower(strings.Join(c.Groups.Domains, " ")))
	}
	line("password.length", c.Password.Length)
	line("password.changeAtNextLogin", *c.Password.ChangeAtNextLogin)
	c.leaversFingerprint(line)
	c.oneRosterFingerprint(line)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:]), b.String()
}

// ConfigChanges lists the lines of two config summaries that differ.
func ConfigChanges(before, after string) []string {
	old := map[string]string{}
	var order []string
	for _, l := range strings.Split(strings.TrimSpace(before), "\n") {
		k, v := summaryLine(l)
		old[k] = v
		order = append(order, k)
	}
	var changes []string
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(after), "\n") {
		k, v := summaryLine(l)
		seen[k] = true
		if ov, ok := old[k]; !ok {
			changes = append(changes, fmt.Sprintf("%s: now %s", k, v))
		} else if ov != v {
			changes = append(changes, fmt.Sprintf("%s: was %s, now %s", k, ov, v))
		}
	}
	for _, k := range order {
		if !seen[k] {
			changes = append(changes, fmt.Sprintf("%s: was %s, now unset", k, old[k]))
		}
	}
	return changes
}

// summaryLine splits a line of a config summary into its key and value. A
// column's header may hold ": "; the field it maps to never does.
func summaryLine(l string) (key, value string) {
	if strings.HasPrefix(l, "columns.") {
		if i := strings.LastIndex(l, ": "); i >= 0 {
			return l[:i], l[i+2:]
		}
	}
	key, value, _ = strings.Cut(l, ": ")
	return key, value
}
