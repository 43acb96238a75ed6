package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"
)

// call is one request as the handlers see it.
type call struct {
	r      *http.Request
	params map[string]string
	query  url.Values
}

// object reads the request body as a JSON object, keeping each member raw
// so that handlers know which fields were sent. A member whose name is not
// in known is refused, as Google refuses unknown names.
func (c *call) object(known map[string]fieldUse) (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, errParse("Request payload too large.")
	}
	return decodeObject(body, known)
}

// fieldUse says what the emulator does with a field of a request body.
type fieldUse int

const (
	fieldHandled     fieldUse = iota // interpreted by the handler
	fieldStored                      // kept as sent and returned
	fieldReadOnly                    // output only: accepted and ignored
	fieldUnsupported                 // Google's, but not emulated: refused
)

func decodeObject(body []byte, known map[string]fieldUse) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, errParse(err.Error())
	}
	if obj == nil {
		return nil, errParse("Expected an object.")
	}
	for name := range obj {
		use, ok := known[name]
		if !ok {
			return nil, errUnknownField(name)
		}
		if use == fieldUnsupported {
			return nil, unsupported("field", name)
		}
	}
	return obj, nil
}

// decodeField decodes the member name of obj into v, if present, and
// reports whether it was.
func decodeField(obj map[string]json.RawMessage, name string, v any) (bool, error) {
	raw, ok := obj[name]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, errParse(fmt.Sprintf("Invalid value at '%s': %v", name, err))
	}
	return true, nil
}

// stringField names a string field of a request body and where it goes.
type stringField struct {
	name string
	dst  *string
}

// decodeStrings decodes string fields of a request body, in order.
func decodeStrings(obj map[string]json.RawMessage, fields ...stringField) error {
	for _, f := range fields {
		if _, err := decodeField(obj, f.name, f.dst); err != nil {
			return err
		}
	}
	return nil
}

// maxResults parses the maxResults parameter, between 1 and hi.
func (c *call) maxResults(def, hi int) (int, error) {
	s := c.query.Get("maxResults")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > hi {
		return 0, errOutOfRange(s, 1, hi)
	}
	return n, nil
}

// pageToken returns the key a page token continues after: the key of the
// last item of the previous page.
func (c *call) pageToken() (string, error) {
	t := c.query.Get("pageToken")
	if t == "" {
		return "", nil
	}
	k, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(k) == 0 {
		return "", errInvalidInput("pageToken")
	}
	return string(k), nil
}

func nextPageToken(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastKey))
}

// checkCustomer checks a customer parameter: my_customer or the account's
// id.
func (s *Server) checkCustomer(customer string) error {
	if customer == "my_customer" || customer == s.opts.CustomerID {
		return nil
	}
	return errBadRequest("Bad Request")
}

// checkScope checks the customer and domain parameters of a list, one of
// which is required.
func (s *Server) checkScope(c *call) error {
	customer, domain := c.query.Get("customer"), c.query.Get("domain")
	switch {
	case customer != "":
		return s.checkCustomer(customer)
	case domain != "":
		if normalizeAddress(domain) != s.opts.Domain {
			return errDomainNotFound()
		}
		return nil
	default:
		return errBadRequest("Bad Request")
	}
}

// unsupported answers a parameter value Google accepts but the emulator
// does not implement, saying so rather than answering something else.
func unsupported(param, value string) error {
	return errBadRequest(fmt.Sprintf("emulator: %s=%q is not supported", param, value))
}

// formatTime renders a time as Google does: RFC 3339 in UTC with
// milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":500,"message":"Backend Error","errors":[{"domain":"global","reason":"backendError","message":"Backend Error"}]}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}

// applyMask returns the parts of the response v that mask selects.
func applyMask(v any, mask fieldMask) (any, error) {
	out, err := mask.project(reflect.ValueOf(v))
	if err != nil {
		return nil, fmt.Errorf("apply field mask: %w", err)
	}
	return out, nil
}
