package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/provisionhq/provision/batch/input"
	"google.golang.org/api/googleapi"
)

// apiError is a failure answered to a client: an HTTP status and one line
// in plain words, sent as the Java project's {"errorMessage": "…"}.
type apiError struct {
	status int
	msg    string
	// header holds extra headers, such as Retry-After or Allow.
	header http.Header
}

func (e *apiError) Error() string { return e.msg }

// failf returns an apiError with a message formatted from args.
func failf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// errorBody is the body of every failure. Encoding it with encoding/json
// keeps it valid JSON whatever the message holds (the Java project built
// it by concatenation, and a quote in Google's message broke it).
type errorBody struct {
	ErrorMessage string `json:"errorMessage"`
}

// messageBody is the body of a select or create that succeeded.
type messageBody struct {
	Message string `json:"message"`
}

// writeJSON answers v as JSON with status, one line. < > & are written as
// themselves: the answer is served as JSON with nosniff, never as HTML, and
// a message such as `contains "<"` stays readable.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	body := []byte(`{"errorMessage":"the answer could not be encoded"}` + "\n")
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
	} else {
		body = buf.Bytes()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// writeError answers err: an *apiError as it says, anything else as a 500
// whose details go to the log only.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Error("request failed", "method", r.Method, "path", input.Visible(r.URL.Path), "err", err)
		ae = failf(http.StatusInternalServerError, "the service failed to answer; its log says why")
	}
	for k, vs := range ae.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	writeJSON(w, ae.status, errorBody{ErrorMessage: oneLine(ae.msg)})
}

// oneLine makes a message one line of visible text: line breaks become
// "; " and hidden characters their code points.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.NewReplacer("\r\n", "; ", "\n", "; ", "\r", "; ").Replace(s)), " ")
	return input.Visible(s)
}

// plainError says what went wrong with a directory call in words: Google's
// own message and code, without the Go client's wrapping.
func plainError(err error) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		reason := ""
		if len(ge.Errors) > 0 && ge.Errors[0].Reason != "" {
			reason = " " + ge.Errors[0].Reason
		}
		msg := ge.Message
		if msg == "" {
			msg = "no message"
		}
		return oneLine(fmt.Sprintf("Google answered %d%s: %s", ge.Code, reason, msg))
	}
	return oneLine(err.Error())
}
