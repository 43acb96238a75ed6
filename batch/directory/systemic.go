package directory

import (
	"errors"
	"fmt"
	"strings"
)

// Refusal is what a systemic answer of the Directory API says: not that one
// row is wrong, but that no call of its kind can work until someone fixes
// the setup.
type Refusal int

const (
	// NotAuthorized: 403 forbidden "Not Authorized to access this
	// resource/api". The acting account may not make this call: it is not
	// an admin, its admin role lacks the privilege, or the address is in a
	// domain the account does not own.
	NotAuthorized Refusal = iota + 1
	// ScopeMissing: 403 insufficientPermissions "Request had insufficient
	// authentication scopes.": the access token lacks a scope.
	ScopeMissing
	// APIDisabled: 403 accessNotConfigured "Admin SDK API has not been used
	// in project … before or it is disabled.": the Google Cloud project of
	// the credentials has not enabled the Admin SDK API.
	APIDisabled
	// APIAccessOff: 403 domainCannotUseApis "Domain cannot use apis.": the
	// Workspace account does not allow API access.
	APIAccessOff
	// TokenRefused: any 401 ("Invalid Credentials", "Login Required"): the
	// API did not accept the access token.
	TokenRefused
	// DomainNotFound: 404 "Domain not found.": the domain is not one of the
	// account's, or the acting identity belongs to no account.
	DomainNotFound
	// UserLimit: 412 limitExceeded "Domain user limit reached.": the
	// account holds as many users as its subscription allows.
	UserLimit
)

// String says in a few words what the refusal means.
func (r Refusal) String() string {
	switch r {
	case NotAuthorized:
		return "not authorized"
	case ScopeMissing:
		return "the access token lacks a scope"
	case APIDisabled:
		return "the Admin SDK API is not enabled"
	case APIAccessOff:
		return "API access is turned off for the account"
	case TokenRefused:
		return "the access token was refused"
	case DomainNotFound:
		return "the domain is not in the account"
	case UserLimit:
		return "the account's user limit is reached"
	}
	return fmt.Sprintf("Refusal(%d)", int(r))
}

// SystemicError reports an answer of the Directory API that says the job
// itself cannot work: every call of its kind would be refused the same way
// until someone fixes the setup (a scope, an admin role, the API, the
// domain, the account's licences). The retry layer returns it only after a
// second request was refused too. Fix says in plain words what to do and
// where, in the Admin console or the Cloud console.
//
// It is distinct from a *CredentialsError, which means no access token could
// be had and so no request reached the API.
type SystemicError struct {
	Op      string  // the API method refused, such as "users.insert"
	Kind    Refusal // what the answer says cannot work
	Code    int     // the HTTP status: 401, 403, 404 or 412
	Reason  string  // Google's reason, such as "forbidden" or "accessNotConfigured"
	Message string  // Google's message
	Fix     string  // what to change, and where, in plain words
	Err     error   // the answer, a *googleapi.Error
}

func (e *SystemicError) Error() string {
	answer := fmt.Sprint(e.Code)
	if e.Reason != "" {
		answer += " " + e.Reason
	}
	return fmt.Sprintf("the directory refuses %s: %s (%s: %s)", e.Op, e.Kind, answer, e.Message)
}

func (e *SystemicError) Unwrap() error { return e.Err }

// AsSystemic returns the *SystemicError in err's chain, if any.
func AsSystemic(err error) (*SystemicError, bool) {
	var e *SystemicError
	ok := errors.As(err, &e)
	return e, ok
}

// newSystemicError describes the systemic answer err to the call op, with
// the fix for the client's setup.
func newSystemicError(op string, err error, who actor) *SystemicError {
	e, _ := apiError(err)
	kind := refusalOf(e)
	return &SystemicError{
		Op:      op,
		Kind:    kind,
		Code:    e.Code,
		Reason:  reason(err),
		Message: e.Message,
		Fix:     who.fix(kind, op),
		Err:     err,
	}
}

// actor is who the client acts as, for the fixes of systemic answers.
type actor struct {
	domain  string
	scopes  []string
	subject string // the admin acted as (domain-wide delegation); "" when the service account acts as itself
	account string // the impersonated service account, if any
}

func newActor(cfg Config) actor {
	return actor{domain: cfg.Domain, scopes: cfg.Scopes(), subject: cfg.Subject, account: cfg.Impersonate}
}

// fix says what to change, and where, so that calls like op are no longer
// refused as kind says.
func (a actor) fix(kind Refusal, op string) string {
	scopes := strings.Join(a.scopes, ",")
	switch kind {
	case NotAuthorized:
		what := privileges(op)
		if a.subject == "" {
			sa := "the service account"
			if a.account != "" {
				sa += " " + a.account
			}
			return fmt.Sprintf("%s acts as itself (no --subject) and may not %s in %s: give --subject an admin to act as, "+
				"or assign %s an admin role with the Admin API privileges to %s (Admin console > Account > Admin roles); "+
				"%s must be a domain of your Workspace account", sa, what, a.domain, sa, what, a.domain)
		}
		return fmt.Sprintf("%s may not %s in %s: give %s an admin role with the Admin API privileges to %s "+
			"(Admin console > Account > Admin roles; a super admin has them all), and check that %s is a domain of "+
			"the account %s administers", a.subject, what, a.domain, a.subject, what, a.domain, a.subject)
	case ScopeMissing:
		return fmt.Sprintf("the access token does not carry every scope provision asks for (%s); credentials from "+
			"'gcloud auth application-default login' carry only the scopes named there: use a service account "+
			"(--credentials with --subject, or --impersonate), or log in again with --scopes=%s", scopes, scopes)
	case APIDisabled:
		return "enable the Admin SDK API in the Google Cloud project the credentials belong to (Google's message names it " +
			"and links to it): Cloud console > APIs & Services > Library > Admin SDK API > Enable; " +
			"wait a few minutes for it to apply, then run the same command again"
	case APIAccessOff:
		return "allow API access for your Workspace account: Admin console > Security > Access and data control > " +
			"API controls; then run the same command again"
	case TokenRefused:
		return "Google did not accept the access token: the service account or its key may have been deleted or " +
			"disabled, access revoked, or this machine's clock is wrong; check the credentials (see \"Credentials\" " +
			"in the README) and the clock, and run the same command again, which fetches a new token"
	case DomainNotFound:
		who := "the service account"
		if a.subject != "" {
			who = a.subject
		}
		return fmt.Sprintf("Google finds no domain %s in the account %s acts in: check that --domain (domain: in the "+
			"config) is the primary or a secondary domain of your Workspace account, and that %s is an admin of it",
			a.domain, who, who)
	case UserLimit:
		return "your Workspace account holds as many users as its subscription allows: add licences, or move from the " +
			"trial to a paid plan (Admin console > Billing > Subscriptions), or delete users you no longer need " +
			"(recently deleted users still count); then run the same command again to create the rest"
	}
	return ""
}

// privileges names, for a call, the Admin API privileges its refusal lacks.
func privileges(op string) string {
	switch {
	case op == "users.delete":
		return "delete users"
	case strings.HasPrefix(op, "users."):
		return "create, read and update users"
	case op == "orgunits.delete":
		return "delete organizational units"
	case strings.HasPrefix(op, "orgunits."):
		return "read and create organizational units"
	case op == "groups.delete":
		return "delete groups"
	case op == "members.delete":
		return "remove members from groups"
	case strings.HasPrefix(op, "groups."), strings.HasPrefix(op, "members."):
		return "read groups and add members to them"
	}
	return "manage users, organizational units and groups"
}
