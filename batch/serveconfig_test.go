package batch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestServeConfig_load(t *testing.T) {
	path := filepath.Join(t.TempDir(), "serve.yaml")
	err := os.WriteFile(path, []byte(`
domain: school.example.org
serve:
  addr: 0.0.0.0:8443
  suggestions: 5
  hold: 90s
  allowOrigins: [https://intranet.school.example.org, "null"]
  apiKeyFile: /run/secrets/provision/api-keys
  tlsCert: /tls/tls.crt
  tlsKey: /tls/tls.key
  fields: [faculty]
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	s := c.Serve.WithDefaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if s.Addr != "0.0.0.0:8443" || s.Suggestions != 5 || s.Hold != 90*time.Second || s.RateLimit != DefaultServeRateLimit ||
		!slices.Equal(s.AllowOrigins, []string{"https://intranet.school.example.org", "null"}) || s.APIKeyFile == "" || !slices.Equal(s.Fields, []string{"faculty"}) {
		t.Errorf("serve section = %+v", s)
	}
	// The serve section is not part of what a job does.
	before, _ := Config{Domain: "school.example.org"}.Fingerprint()
	after, _ := c.Fingerprint()
	if before != after {
		t.Error("the serve section changed the job's fingerprint")
	}
}

func TestServeConfig_Validate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ServeConfig)
		want   string // substring of the error; "" means valid
	}{
		{"defaults", func(*ServeConfig) {}, ""},
		{"too many suggestions", func(s *ServeConfig) { s.Suggestions = 11 }, "serve.suggestions 11"},
		{"negative suggestions", func(s *ServeConfig) { s.Suggestions = -1 }, "serve.suggestions -1"},
		{"hold too short", func(s *ServeConfig) { s.Hold = time.Millisecond }, "serve.hold 1ms"},
		{"hold too long", func(s *ServeConfig) { s.Hold = 48 * time.Hour }, "serve.hold 48h"},
		{"origin with a path", func(s *ServeConfig) { s.AllowOrigins = []string{"https://a.example.org/page"} }, "not an origin"},
		{"origin without scheme", func(s *ServeConfig) { s.AllowOrigins = []string{"a.example.org"} }, "not an origin"},
		{"origin in capitals", func(s *ServeConfig) { s.AllowOrigins = []string{"https://A.example.org"} }, "lowercase"},
		{"null and star origins", func(s *ServeConfig) { s.AllowOrigins = []string{"null", "*", "http://localhost:3000"} }, ""},
		{"certificate without key", func(s *ServeConfig) { s.TLSCert = "c.pem" }, "go together"},
		{"TLS and plain HTTP", func(s *ServeConfig) { s.TLSCert, s.TLSKey, s.PlainHTTP = "c", "k", true }, "exclude each other"},
		{"bad field", func(s *ServeConfig) { s.Fields = []string{"first name"} }, "not a field name"},
		{"bad header", func(s *ServeConfig) { s.ClientIPHeader = "X Forwarded" }, "not a header name"},
		{"good header", func(s *ServeConfig) { s.ClientIPHeader = "X-Forwarded-For" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ServeConfig{}.WithDefaults()
			tt.change(&s)
			err := s.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
