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
// Message and Errors[0].Reason.
type apiError struct {
	code    int
	domain  string
	reason  string
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.code, e.reason, e.message)
}

// MarshalJSON writes the error body.
func (e *apiError) MarshalJSON() ([]byte, error) {
	type item struct {
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	type body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []item `json:"errors"`
	}
	return json.Marshal(struct {
		Error body `json:"error"`
	}{body{e.code, e.message, []item{{e.domain, e.reason, e.message}}}})
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

func errForbidden() *apiError {
	return newError(http.StatusForbidden, "global", "forbidden", "Not Authorized to access this resource/api")
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
