package directory

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/api/googleapi"
)

// Reasons Google puts in the errors[].reason field of its JSON error bodies
// that change what the client does.
const (
	reasonRateLimitExceeded     = "rateLimitExceeded"
	reasonUserRateLimitExceeded = "userRateLimitExceeded"
	reasonQuotaExceeded         = "quotaExceeded"
)

// OutcomeUnknownError reports a write that is not safe to repeat (users.insert)
// and that failed after the request may have reached Google: a 5xx answer, a
// timeout, a reset connection or a cut response. It may or may not have been
// applied; the caller finds out with a point read (GetUser) before deciding to
// insert again.
type OutcomeUnknownError struct {
	Op  string // the API method, such as "users.insert"
	Err error  // what went wrong
}

func (e *OutcomeUnknownError) Error() string {
	return e.Op + ": outcome unknown: " + e.Err.Error()
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

var (
	_ error = (*OutcomeUnknownError)(nil)
	_ error = (*CredentialsError)(nil)
	_ error = (*SystemicError)(nil)
)

// CredentialsError reports credentials that could not be found, read or
// exchanged for an access token. Hint, when set, says in plain words what to
// fix.
type CredentialsError struct {
	Err  error
	Hint string

	// transient marks a token endpoint that was unreachable or answered
	// 5xx or 429, as opposed to one that refused the credentials.
	transient bool
}

func (e *CredentialsError) Error() string { return e.Err.Error() }

func (e *CredentialsError) Unwrap() error { return e.Err }

// IsNotFound reports whether err is a 404 answer: no such user, group, member
// or org unit. Google's 404 "Domain not found." is not one: it is a
// *SystemicError about the whole domain, and a caller that took it for an
// absent user would go on to create one.
func IsNotFound(err error) bool {
	e, ok := apiError(err)
	return ok && e.Code == http.StatusNotFound && refusalOf(e) == 0
}

// IsDuplicate reports whether err is a 409 answer: the address, alias, group,
// member or org unit already exists.
func IsDuplicate(err error) bool {
	e, ok := apiError(err)
	return ok && e.Code == http.StatusConflict
}

// IsRefused reports whether err is an answer that refused the request
// outright, so that nothing was applied: a 4xx answer, a systemic refusal
// included. An outcome-unknown error never is.
func IsRefused(err error) bool {
	if IsOutcomeUnknown(err) {
		return false
	}
	e, ok := apiError(err)
	return ok && e.Code >= 400 && e.Code < 500
}

// IsOutcomeUnknown reports whether err is an *OutcomeUnknownError.
func IsOutcomeUnknown(err error) bool {
	var e *OutcomeUnknownError
	return errors.As(err, &e)
}

// IsRateLimited reports whether err is a rate-limit answer: 429, or 403 with
// reason rateLimitExceeded, userRateLimitExceeded or quotaExceeded.
func IsRateLimited(err error) bool {
	e, ok := apiError(err)
	return ok && rateLimited(e)
}

// reason returns the reason of the first item of Google's error body
// ("duplicate", "notFound", "conditionNotMet", "userRateLimitExceeded" …),
// or "" when err carries none.
func reason(err error) string {
	e, ok := apiError(err)
	if !ok || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Reason
}

// StatusCode returns the HTTP status of Google's answer in err, or 0 when err
// is not an answer from the API (a network or credentials error).
func StatusCode(err error) int {
	if e, ok := apiError(err); ok {
		return e.Code
	}
	return 0
}

func apiError(err error) (*googleapi.Error, bool) {
	var e *googleapi.Error
	ok := errors.As(err, &e)
	return e, ok
}

func rateLimited(e *googleapi.Error) bool {
	switch e.Code {
	case http.StatusTooManyRequests:
		return true
	case http.StatusForbidden:
		for _, item := range e.Errors {
			switch item.Reason {
			case reasonRateLimitExceeded, reasonUserRateLimitExceeded, reasonQuotaExceeded:
				return true
			}
		}
	}
	return false
}

// memberKeyNotFound reports whether a members.insert 404 is about the member
// rather than the group. Google gives both the same code and the reason
// "notFound"; only the message differs ("Resource Not Found: memberKey" versus
// "Resource Not Found: groupKey"), so this is the one place that reads it.
func memberKeyNotFound(e *googleapi.Error) bool {
	if e.Code != http.StatusNotFound {
		return false
	}
	if strings.Contains(strings.ToLower(e.Message), "memberkey") {
		return true
	}
	for _, item := range e.Errors {
		if strings.Contains(strings.ToLower(item.Message), "memberkey") {
			return true
		}
	}
	return false
}

// errorSummary is a short description of err for log lines: the status and
// reason of an API answer, or the error text otherwise. Request bodies never
// appear in errors, so passwords cannot leak through it.
func errorSummary(err error) string {
	if e, ok := apiError(err); ok {
		if len(e.Errors) > 0 {
			return fmt.Sprintf("%d %s", e.Code, e.Errors[0].Reason)
		}
		return fmt.Sprintf("%d", e.Code)
	}
	return err.Error()
}

// Reasons and messages of the systemic answers. Google gives several of them
// the generic reason "forbidden" or "notFound", so for those the message is
// the only signal; this is the one place that reads it.
const (
	reasonAccessNotConfigured     = "accessNotConfigured"
	reasonDomainCannotUseApis     = "domainCannotUseApis"
	reasonInsufficientPermissions = "insufficientPermissions"
	reasonLimitExceeded           = "limitExceeded"

	messageNotAuthorized      = "not authorized to access this resource/api"
	messageDomainNotFound     = "domain not found"
	messageUserLimit          = "domain user limit"
	messageInsufficientScopes = "request had insufficient authentication scopes"
)

// refusalOf classifies an answer: the Refusal it is, or 0 when it is about
// the one call (a row's data, a missing user, a rate limit).
func refusalOf(e *googleapi.Error) Refusal {
	switch {
	case hasReason(e, reasonAccessNotConfigured):
		return APIDisabled
	case e.Code == http.StatusUnauthorized:
		return TokenRefused
	case hasReason(e, reasonDomainCannotUseApis):
		return APIAccessOff
	case e.Code == http.StatusForbidden && (hasReason(e, reasonInsufficientPermissions) || hasMessage(e, messageInsufficientScopes, false)):
		return ScopeMissing
	case hasMessage(e, messageDomainNotFound, false):
		return DomainNotFound
	case (e.Code == http.StatusPreconditionFailed && hasReason(e, reasonLimitExceeded)) || hasMessage(e, messageUserLimit, true):
		return UserLimit
	case e.Code == http.StatusForbidden && hasMessage(e, messageNotAuthorized, false):
		return NotAuthorized
	}
	return 0
}

func hasReason(e *googleapi.Error, reason string) bool {
	for _, item := range e.Errors {
		if item.Reason == reason {
			return true
		}
	}
	return false
}

// hasMessage reports whether e's message, or one of its items', is text
// (ignoring case and a final period), or starts with it when prefix is set.
func hasMessage(e *googleapi.Error, text string, prefix bool) bool {
	match := func(m string) bool {
		m = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(m), "."))
		if prefix {
			return strings.HasPrefix(m, text)
		}
		return m == text
	}
	if match(e.Message) {
		return true
	}
	for _, item := range e.Errors {
		if match(item.Message) {
			return true
		}
	}
	return false
}
