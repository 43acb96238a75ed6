package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an answer in the shape of Google's JSON error body:
//
//	{"error":{"code":409,"message":"Entity already exists.",
//	  "errors":[{"domain":"global","reason":"duplicate","message":"Entity already exists."}]}}
//
// The official client turns it into a *googleapi.Error with the same Code,
// Message and Errors[0].Reason. Some answers carry more, as Google's newer
// error format does: a status, details, the item's own message, location
// and help link; see answer.
type apiError struct {
	code    int
	domain  string
	reason  string
	message string
	more    *answer
}

// answer holds the optional parts of an error body.
type answer struct {
	itemMessage  string // errors[0].message when it differs from message
	location     string // errors[0].location, such as "Authorization"
	locationType string // errors[0].locationType, such as "header"
	extendedHelp string // errors[0].extendedHelp
	status       string // the gRPC status, such as "PERMISSION_DENIED"
	details      []any  // google.rpc detail objects
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.code, e.reason, e.message)
}

// MarshalJSON writes the error body.
func (e *apiError) MarshalJSON() ([]byte, error) {
	type item struct {
		Message      string `json:"message"`
		Domain       string `json:"domain"`
		Reason       string `json:"reason"`
		Location     string `json:"location,omitempty"`
		LocationType string `json:"locationType,omitempty"`
		ExtendedHelp string `json:"extendedHelp,omitempty"`
	}
	type body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []item `json:"errors"`
		Status  string `json:"status,omitempty"`
		Details []any  `json:"details,omitempty"`
	}
	more := answer{}
	if e.more != nil {
		more = *e.more
	}
	it := item{Message: e.message, Domain: e.domain, Reason: e.reason,
		Location: more.location, LocationType: more.locationType, ExtendedHelp: more.extendedHelp}
	if more.itemMessage != "" {
		it.Message = more.itemMessage
	}
	return json.Marshal(struct {
		Error body `json:"error"`
	}{body{e.code, e.message, []item{it}, more.status, more.details}})
}

func newError(code int, domain, reason, message string) *apiError {
	return &apiError{code: code, domain: domain, reason: reason, message: message}
}

// Errors the Directory API answers, with Google's codes, reasons and messages.
func errDuplicate() *apiError {
	return newError(http.StatusConflict, "global", "duplicate", "Entity already exists.")
}

func errMemberExists() *apiError {
	return newError(http.StatusConflict, "global", "duplicate", "Member already exists.")
}

// errNotFound is "Resource Not Found: key", where key names the parameter
// that did not resolve: userKey, groupKey, memberKey or domain.
func errNotFound(key string) *apiError {
	return newError(http.StatusNotFound, "global", "notFound", "Resource Not Found: "+key)
}

func errOrgUnitNotFound() *apiError {
	return newError(http.StatusNotFound, "global", "notFound", "Org unit not found")
}

func errInvalid(message string) *apiError {
	return newError(http.StatusBadRequest, "global", "invalid", message)
}

// errInvalidInput is "Invalid Input: what", Google's answer to a bad value
// such as INVALID_OU_ID or primary_user_email.
func errInvalidInput(what string) *apiError { return errInvalid("Invalid Input: " + what) }

// errInvalidName names the field as Google does: GivenName or FamilyName.
func errInvalidName(field string) *apiError {
	return errInvalid("Invalid Given/Family Name: " + field)
}

func errInvalidPassword() *apiError { return errInvalid("Invalid Password") }

func errRequired(field string) *apiError {
	return newError(http.StatusBadRequest, "global", "required", "Missing required field: "+field)
}

func errBadRequest(message string) *apiError {
	return newError(http.StatusBadRequest, "global", "badRequest", message)
}

// errOutOfRange is the answer to a numeric parameter outside its bounds.
func errOutOfRange(value string, lo, hi int) *apiError {
	return errInvalid("Invalid value '" + value + "'. Values must be within the range: [" +
		strconv.Itoa(lo) + ", " + strconv.Itoa(hi) + "]")
}

func errParse(detail string) *apiError {
	return newError(http.StatusBadRequest, "global", "parseError", "Invalid JSON payload received. "+detail)
}

func errUnknownField(name string) *apiError {
	return errInvalid(fmt.Sprintf("Invalid JSON payload received. Unknown name %q: Cannot find field.", name))
}

// errForbidden is Google's answer to a call the acting account may not
// make: no admin role with the privilege, or an address in a domain the
// account does not own.
func errForbidden() *apiError {
	return newError(http.StatusForbidden, "global", "forbidden", "Not Authorized to access this resource/api")
}

// emulatedProject is the Google Cloud project number the emulator's
// answers name, as Google names the project of the credentials.
const emulatedProject = "123456789012"

// errAccessNotConfigured is Google's answer when the project of the
// credentials has not enabled the Admin SDK API.
func errAccessNotConfigured() *apiError {
	link := "https://console.developers.google.com/apis/api/admin.googleapis.com/overview?project=" + emulatedProject
	e := newError(http.StatusForbidden, "usageLimits", "accessNotConfigured",
		"Admin SDK API has not been used in project "+emulatedProject+" before or it is disabled. Enable it by visiting "+
			link+" then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.")
	e.more = &answer{
		extendedHelp: "https://console.developers.google.com",
		status:       "PERMISSION_DENIED",
		details: []any{
			map[string]any{
				"@type": "type.googleapis.com/google.rpc.Help",
				"links": []any{map[string]any{"description": "Google developers console API activation", "url": link}},
			},
			map[string]any{
				"@type":    "type.googleapis.com/google.rpc.ErrorInfo",
				"reason":   "SERVICE_DISABLED",
				"domain":   "googleapis.com",
				"metadata": map[string]any{"service": "admin.googleapis.com", "consumer": "projects/" + emulatedProject},
			},
		},
	}
	return e
}

// errUnauthorized is Google's answer to an access token it does not accept.
func errUnauthorized() *apiError {
	e := newError(http.StatusUnauthorized, "global", "authError",
		"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "+
			"authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
	e.more = &answer{itemMessage: "Invalid Credentials", location: "Authorization", locationType: "header", status: "UNAUTHENTICATED"}
	return e
}

// errDomainNotFound is Google's answer when the domain, or the customer of
// the acting account, does not resolve.
func errDomainNotFound() *apiError {
	return newError(http.StatusNotFound, "global", "notFound", "Domain not found.")
}

// errUserLimit is Google's answer to users.insert in an account that holds
// as many users as its subscription allows.
func errUserLimit() *apiError {
	e := newError(http.StatusPreconditionFailed, "global", "limitExceeded", "Domain user limit reached.")
	e.more = &answer{location: "If-Match", locationType: "header"}
	return e
}

func errNotComplete() *apiError {
	return newError(http.StatusPreconditionFailed, "global", "conditionNotMet", "User creation is not complete.")
}

func errUserRateLimit() *apiError {
	return newError(http.StatusForbidden, "usageLimits", "userRateLimitExceeded", "User Rate Limit Exceeded")
}

func errQuotaExceeded() *apiError {
	return newError(http.StatusForbidden, "usageLimits", "quotaExceeded", "Quota exceeded")
}

func errRateLimit() *apiError {
	return newError(http.StatusTooManyRequests, "global", "rateLimitExceeded", "Resource has been exhausted (e.g. check quota).")
}

func errBackend() *apiError {
	return newError(http.StatusServiceUnavailable, "global", "backendError", "Service unavailable. Please try again")
}

// errInternal answers a failure of the emulator itself.
func errInternal() *apiError {
	return newError(http.StatusInternalServerError, "global", "backendError", "Backend Error")
}

func errFieldSelection(detail string) *apiError {
	return newError(http.StatusBadRequest, "global", "invalidParameter", "Invalid field selection: "+detail)
}

func errNoRoute() *apiError {
	return newError(http.StatusNotFound, "global", "notFound", "Not Found")
}
