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
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

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

	Identity IdentityConfig `yaml:"identity"`
	OrgUnit  OrgUnitConfig  `yaml:"orgUnit"`
	Groups   GroupsConfig   `yaml:"groups"`
	Password PasswordConfig `yaml:"password"`

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
}

// GroupsConfig says which groups accounts join.
type GroupsConfig struct {
	// Add are groups every row joins besides its own, as templates such as
	// "class-of-[year]" or "staff@example.org".
	Add []string `yaml:"add"`
	// CreateMissing creates groups that do not exist (it needs the
	// admin.directory.group scope). Otherwise the membership fails.
	CreateMissing bool `yaml:"createMissing"`
}

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
	return c
}

// externalIDTypes are the externalIds types the Directory API accepts.
var externalIDTypes = []string{"account", "custom", "customer", "login_id", "network", "organization"}

// Validate checks a config with defaults applied and returns every problem
// at once, each saying what to fix.
func (c Config) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if c.Domain == "" {
		add("domain is not set: give the Workspace domain with --domain or domain: in the config")
	} else if !isDomainName(strings.ToLower(c.Domain)) {
		add("domain %q is not a domain name", c.Domain)
	}
	if _, err := c.patterns(); err != nil {
		add("%v", err)
	}
	for _, name := range c.ReservedNames {
		if !naming.Valid(strings.ToLower(name)) {
			add("reservedNames: %q is not a username", name)
		}
	}
	if _, err := c.delimiter(); err != nil {
		add("%v", err)
	}
	if _, err := columnMap(c.Columns); err != nil {
		add("%v", err)
	}
	// Free text holds no control characters: a line break would pass for
	// another setting in the summary the fingerprint is made of.
	for _, h := range slices.Sorted(maps.Keys(c.Columns)) {
		if hasControl(h) || hasControl(c.Columns[h]) {
			add("columns: %q: %q holds a control character such as a line break", h, c.Columns[h])
		}
	}
	if hasControl(c.Identity.CustomType) {
		add("identity.customType %q holds a control character such as a line break", c.Identity.CustomType)
	}
	if hasControl(c.OrgUnit.Default) {
		add("orgUnit.default %q holds a control character such as a line break", c.OrgUnit.Default)
	}
	if !slices.Contains(externalIDTypes, c.Identity.Type) {
		add("identity.type %q is not one of %s", c.Identity.Type, strings.Join(externalIDTypes, ", "))
	}
	if (c.Identity.Type == "custom") != (c.Identity.CustomType != "") {
		add("identity.customType must be set exactly when identity.type is custom")
	}
	// A template that gives nothing valid even from plain values would
	// fail every row.
	if t, err := parseTemplate(c.OrgUnit.Default); err != nil {
		add("orgUnit.default: %v", err)
	} else if !strings.HasPrefix(c.OrgUnit.Default, "/") {
		add("orgUnit.default %q must start with /", c.OrgUnit.Default)
	} else if err := t.check(nil, checkOrgUnit); err != nil {
		add("orgUnit.default gives no valid org unit path: %v", err)
	}
	for _, g := range c.Groups.Add {
		if t, err := parseTemplate(g); err != nil {
			add("groups.add %q: %v", g, err)
		} else if err := t.check(naming.Normalize, func(s string) error { return checkGroup(strings.ToLower(s)) }); err != nil {
			add("groups.add %q gives no valid group: %v", g, err)
		}
	}
	if c.Password.Length < minPasswordLength || c.Password.Length > 100 {
		add("password.length %d is out of range: use %d to 100", c.Password.Length, minPasswordLength)
	}
	if c.Concurrency < 1 || c.Concurrency > 100 {
		add("concurrency %d is out of range: use 1 to 100", c.Concurrency)
	}
	if c.Quota < 1 {
		add("quota %d must be a positive number of requests per minute", c.Quota)
	}
	if len(problems) == 0 {
		return nil
	}
	return &ConfigError{Problems: problems}
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
		line("columns."+k, fieldName(c.Columns[k]))
	}
	line("delimiter", fmt.Sprintf("%q", c.Delimiter))
	line("identity.type", c.Identity.Type+" "+c.Identity.CustomType)
	line("orgUnit.default", c.OrgUnit.Default)
	line("orgUnit.createMissing", c.OrgUnit.CreateMissing)
	line("groups.add", strings.Join(c.Groups.Add, " "))
	line("groups.createMissing", c.Groups.CreateMissing)
	line("password.length", c.Password.Length)
	line("password.changeAtNextLogin", *c.Password.ChangeAtNextLogin)
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
