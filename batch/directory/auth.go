package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/impersonate"
	"google.golang.org/api/option"
)

// GroupAccess is what the client may do with groups beyond adding members.
// Each level adds an OAuth scope that the domain-wide delegation grant (or the
// service account's admin role) must allow.
type GroupAccess int

const (
	// GroupMembersOnly adds members to existing groups
	// (admin.directory.group.member). Groups are neither read nor listed,
	// so the name snapshot holds no group addresses: a name taken by a
	// group surfaces as a 409 on users.insert.
	GroupMembersOnly GroupAccess = iota
	// GroupRead also reads and lists groups (admin.directory.group.readonly),
	// so the snapshot includes group addresses and aliases.
	GroupRead
	// GroupCreate also creates groups (admin.directory.group).
	GroupCreate
)

// Scopes returns the OAuth scopes the configuration needs, the least that
// allow its calls.
func (cfg Config) Scopes() []string {
	scopes := []string{
		admin.AdminDirectoryUserScope,
		admin.AdminDirectoryOrgunitScope,
	}
	switch cfg.Groups {
	case GroupCreate:
		return append(scopes, admin.AdminDirectoryGroupScope)
	case GroupRead:
		return append(scopes, admin.AdminDirectoryGroupMemberScope, admin.AdminDirectoryGroupReadonlyScope)
	default:
		return append(scopes, admin.AdminDirectoryGroupMemberScope)
	}
}

// authorize wraps base with OAuth for the configured credentials: a service
// account key with domain-wide delegation, keyless impersonation of a service
// account, or Application Default Credentials.
func authorize(ctx context.Context, cfg Config, base http.RoundTripper) (http.RoundTripper, error) {
	// Token sources keep ctx for the client's lifetime to refresh tokens;
	// its values (an oauth2.HTTPClient) matter, its cancellation must not.
	ctx = context.WithoutCancel(ctx)
	var (
		ts  oauth2.TokenSource
		err error
	)
	switch {
	case cfg.Impersonate != "":
		ts, err = impersonatedSource(ctx, cfg)
	case cfg.CredentialsFile != "":
		ts, err = keyFileSource(ctx, cfg)
	default:
		ts, err = defaultSource(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	return &oauth2.Transport{Source: &explainedSource{src: ts, scopes: cfg.Scopes()}, Base: base}, nil
}

// keyFileSource signs JWTs with a service account key, acting as cfg.Subject.
func keyFileSource(ctx context.Context, cfg Config) (oauth2.TokenSource, error) {
	data, err := os.ReadFile(cfg.CredentialsFile)
	if err != nil {
		return nil, &CredentialsError{
			Err:  fmt.Errorf("read credentials file: %w", err),
			Hint: "pass the path of a service account key file (JSON) with --credentials, or leave it out to use Application Default Credentials",
		}
	}
	jc, err := google.JWTConfigFromJSON(data, cfg.Scopes()...)
	if err != nil {
		return nil, &CredentialsError{
			Err:  fmt.Errorf("parse credentials file %s: %w", cfg.CredentialsFile, err),
			Hint: "the file must be a service account key (\"type\": \"service_account\") created in the Google Cloud console",
		}
	}
	jc.Subject = cfg.Subject
	return jc.TokenSource(ctx), nil
}

// defaultSource uses Application Default Credentials: the file named by
// GOOGLE_APPLICATION_CREDENTIALS, gcloud's, or the metadata server's.
func defaultSource(ctx context.Context, cfg Config) (oauth2.TokenSource, error) {
	creds, err := google.FindDefaultCredentialsWithParams(ctx, google.CredentialsParams{
		Scopes:  cfg.Scopes(),
		Subject: cfg.Subject,
	})
	if err != nil {
		hint := "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, pass one with --credentials, or use --impersonate"
		if f := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); f != "" {
			hint = fmt.Sprintf("GOOGLE_APPLICATION_CREDENTIALS names %s: make it a readable service account key file, or unset it", f)
		}
		return nil, &CredentialsError{Err: fmt.Errorf("find Application Default Credentials: %w", err), Hint: hint}
	}
	if cfg.Subject != "" {
		var file struct {
			Type string `json:"type"`
		}
		if len(creds.JSON) > 0 {
			if err := json.Unmarshal(creds.JSON, &file); err != nil {
				return nil, &CredentialsError{Err: fmt.Errorf("parse Application Default Credentials: %w", err)}
			}
		}
		if file.Type != "service_account" {
			kind := "the metadata server"
			if file.Type != "" {
				kind = "a " + file.Type + " credential"
			}
			return nil, &CredentialsError{
				Err:  fmt.Errorf("use Application Default Credentials: %s cannot act as %s", kind, cfg.Subject),
				Hint: "use --impersonate with a service account that has domain-wide delegation, or --credentials with its key file",
			}
		}
	}
	return creds.TokenSource, nil
}

// impersonatedSource mints tokens for the service account cfg.Impersonate
// through the IAM Credentials API, acting as cfg.Subject when set. The base
// identity is Application Default Credentials (Workload Identity on
// Kubernetes) or the key in cfg.CredentialsFile.
func impersonatedSource(ctx context.Context, cfg Config) (oauth2.TokenSource, error) {
	opts := append([]option.ClientOption(nil), cfg.IAMOptions...)
	if cfg.CredentialsFile != "" {
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, cfg.CredentialsFile))
	}
	ts, err := impersonate.CredentialsTokenSource(ctx, impersonate.CredentialsConfig{
		TargetPrincipal: cfg.Impersonate,
		Scopes:          cfg.Scopes(),
		Subject:         cfg.Subject,
	}, opts...)
	if err != nil {
		return nil, &CredentialsError{
			Err:  fmt.Errorf("impersonate %s: %w", cfg.Impersonate, err),
			Hint: "the base credentials (Application Default Credentials, or --credentials) need roles/iam.serviceAccountTokenCreator on " + cfg.Impersonate,
		}
	}
	return ts, nil
}

// explainedSource turns token errors into *CredentialsError with a hint, so
// that the retry layer knows no Directory request was sent and users read
// what to fix.
type explainedSource struct {
	src    oauth2.TokenSource
	scopes []string
}

var _ oauth2.TokenSource = (*explainedSource)(nil)

func (s *explainedSource) Token() (*oauth2.Token, error) {
	tok, err := s.src.Token()
	if err == nil {
		return tok, nil
	}
	ce := &CredentialsError{Err: fmt.Errorf("get access token: %w", err), transient: true}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		code := re.Response.StatusCode
		ce.transient = code >= 500 || code == http.StatusTooManyRequests
		switch oauthErrorCode(re) {
		case "unauthorized_client":
			ce.Hint = "in the Admin console (Security > Access and data control > API controls > Domain-wide delegation), allow the service account's client ID these scopes: " + strings.Join(s.scopes, ",")
		case "invalid_grant":
			ce.Hint = "check that --subject names an existing admin user, that the key has not been deleted, and that this machine's clock is right"
		}
	}
	return nil, ce
}

// oauthErrorCode returns the OAuth error code ("invalid_grant") of a token
// endpoint's answer. The JWT flow leaves RetrieveError.ErrorCode empty, so
// it is read from the body when needed.
func oauthErrorCode(re *oauth2.RetrieveError) string {
	if re.ErrorCode != "" {
		return re.ErrorCode
	}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(re.Body, &body) != nil {
		return ""
	}
	return body.Error
}
