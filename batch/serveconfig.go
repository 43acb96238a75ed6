package batch

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ServeConfig is the serve: section of the config file: how provision
// serve listens and whom it answers. Secrets are never in it: the API keys
// are a path.
type ServeConfig struct {
	// Addr is the address to listen on. Default 127.0.0.1:8080.
	Addr string `yaml:"addr"`
	// Suggestions is how many names a suggest answers with, 1 to 10.
	// Default 3.
	Suggestions int `yaml:"suggestions"`
	// Hold is how long a suggested name stays held for its client, such
	// as "2m". Default 2m.
	Hold time.Duration `yaml:"hold"`
	// Journal is the SQLite file holding the service's holds and creates.
	Journal string `yaml:"journal"`
	// AllowOrigins are the browser origins (https://intranet.example.org)
	// allowed to call the REST API from another site. Empty on a loopback
	// address means every origin.
	AllowOrigins []string `yaml:"allowOrigins"`
	// APIKeyFile holds the API keys clients must send as a bearer token,
	// one a line. Required off loopback.
	APIKeyFile string `yaml:"apiKeyFile"`
	// TLSCert and TLSKey are the server's certificate and key files (PEM).
	// Required off loopback unless PlainHTTP.
	TLSCert string `yaml:"tlsCert"`
	TLSKey  string `yaml:"tlsKey"`
	// PlainHTTP serves plain HTTP off loopback: a TLS-terminating proxy
	// (an ingress) is in front.
	PlainHTTP bool `yaml:"plainHTTP"`
	// ClientIPHeader names the header a proxy in front sets to the
	// client's address (X-Forwarded-For, X-Real-IP), for the per-client
	// rate limit. Empty means the connection's address.
	ClientIPHeader string `yaml:"clientIPHeader"`
	// RateLimit is how many REST requests one client may send a minute.
	// Default 120.
	RateLimit int `yaml:"rateLimit"`
	// Fields are the custom fields the operator page asks for besides the
	// first and last name. Default: the fields the patterns and templates
	// use.
	Fields []string `yaml:"fields"`
}

// Defaults of the serve: section.
const (
	DefaultServeAddr        = "127.0.0.1:8080"
	DefaultServeSuggestions = 3
	DefaultServeHold        = 2 * time.Minute
	DefaultServeRateLimit   = 120
)

// WithDefaults returns s with every unset setting at its default.
func (s ServeConfig) WithDefaults() ServeConfig {
	if s.Addr == "" {
		s.Addr = DefaultServeAddr
	}
	if s.Suggestions == 0 {
		s.Suggestions = DefaultServeSuggestions
	}
	if s.Hold == 0 {
		s.Hold = DefaultServeHold
	}
	if s.RateLimit == 0 {
		s.RateLimit = DefaultServeRateLimit
	}
	return s
}

// Validate checks a serve: section with defaults applied and returns every
// problem at once.
func (s ServeConfig) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if s.Suggestions < 1 || s.Suggestions > 10 {
		add("serve.suggestions %d is out of range: use 1 to 10", s.Suggestions)
	}
	if s.Hold < time.Second || s.Hold > 24*time.Hour {
		add("serve.hold %s is out of range: use 1s to 24h", s.Hold)
	}
	if s.RateLimit < 1 {
		add("serve.rateLimit %d must be a positive number of requests per minute", s.RateLimit)
	}
	for _, o := range s.AllowOrigins {
		if err := checkOrigin(o); err != nil {
			add("serve.allowOrigins: %v", err)
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		add("serve.tlsCert and serve.tlsKey go together: give both or neither")
	}
	if s.TLSCert != "" && s.PlainHTTP {
		add("serve.plainHTTP and serve.tlsCert exclude each other: serve TLS, or plain HTTP behind a TLS proxy")
	}
	if h := s.ClientIPHeader; h != "" && !isFieldName(strings.ReplaceAll(h, "-", "_")) {
		add("serve.clientIPHeader %q is not a header name", h)
	}
	for _, f := range s.Fields {
		if !isFieldName(f) {
			add("serve.fields: %q is not a field name: letters, digits and underscores", f)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &ConfigError{Problems: problems}
}

// checkOrigin checks an allowed origin: "*", "null" (pages opened from a
// file) or scheme://host[:port] without a path.
func checkOrigin(o string) error {
	if o == "*" || o == "null" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q is not an origin: write it as https://host or https://host:port, without a path", o)
	}
	if strings.ToLower(o) != o {
		return fmt.Errorf("%q: write the origin in lowercase, as browsers send it", o)
	}
	return nil
}
