package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

// maxBody is the largest request body accepted: far more than one person's
// fields, far less than what could tire the server.
const maxBody = 64 << 10

// maxFields bounds how many fields one request may give.
const maxFields = 50

// object is a request body: a JSON object by key as sent.
type object map[string]json.RawMessage

// readObject reads the body of r as one JSON object, whatever its
// Content-Type says: the Java project's pages send text/plain. The body is
// read as UTF-8; a key given twice is refused rather than guessed at.
func readObject(r *http.Request) (object, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, failf(http.StatusRequestEntityTooLarge, "the body is larger than %d KiB", maxBody>>10)
		}
		return nil, failf(http.StatusBadRequest, "the body could not be read: %v", err)
	}
	body = bytes.TrimPrefix(body, []byte("\uFEFF"))
	if !utf8.Valid(body) {
		return nil, failf(http.StatusBadRequest, "the body is not valid UTF-8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, failf(http.StatusBadRequest, `the body is empty: send a JSON object such as {"firstname": "Ada", "lastname": "Lovelace"}`)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	notObject := failf(http.StatusBadRequest, `the body is not a JSON object: send one such as {"firstname": "Ada", "lastname": "Lovelace"}`)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, notObject
	}
	obj := object{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, failf(http.StatusBadRequest, "the body is not valid JSON: %v", err)
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, failf(http.StatusBadRequest, "the body is not valid JSON: %v", err)
		}
		lower := strings.ToLower(key)
		if seen[lower] {
			return nil, failf(http.StatusBadRequest, "%s is given twice", input.Visible(key))
		}
		seen[lower] = true
		if len(obj) == maxFields {
			return nil, failf(http.StatusBadRequest, "the body gives more than %d fields", maxFields)
		}
		obj[key] = value
	}
	if _, err := dec.Token(); err != nil {
		return nil, failf(http.StatusBadRequest, "the body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, failf(http.StatusBadRequest, "the body holds more than one JSON value")
	}
	return obj, nil
}

// lookup returns the raw value of key, matched case-insensitively.
func (o object) lookup(key string) (json.RawMessage, bool) {
	if v, ok := o[key]; ok {
		return v, true
	}
	for k, v := range o {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// text returns the value of key as text: a JSON string, or a number as
// written (the Java project took any value as text). ok is false when the
// key is missing or null.
func (o object) text(key string) (value string, ok bool, err error) {
	raw, found := o.lookup(key)
	if !found {
		return "", false, nil
	}
	return rawText(key, raw)
}

func rawText(key string, raw json.RawMessage) (string, bool, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", false, failf(http.StatusBadRequest, "%s is not valid JSON", input.Visible(key))
	}
	switch v := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	case json.Number:
		return v.String(), true, nil
	}
	return "", false, failf(http.StatusBadRequest, "%s must be text", input.Visible(key))
}

// person reads the fields of a person from a request: firstname and
// lastname, checked as run checks them, and every other key not in skip as
// a custom field, checked like run's custom columns.
func (o object) person(skip ...string) (naming.Fields, error) {
	fields := naming.Fields{}
	for _, name := range []string{naming.FirstName, naming.LastName} {
		v, ok, err := o.text(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, failf(http.StatusBadRequest, "%s is missing", name)
		}
		if err := input.CheckName(v); err != nil {
			return nil, failf(http.StatusBadRequest, "%s %v", name, err)
		}
		fields[name] = strings.TrimSpace(v)
	}
	for key, raw := range o {
		lower := strings.ToLower(key)
		if lower == naming.FirstName || lower == naming.LastName || containsFold(skip, lower) {
			continue
		}
		if !isFieldName(key) {
			return nil, failf(http.StatusBadRequest, "%q is not a field name: use letters, digits and underscores", input.Visible(key))
		}
		v, ok, err := rawText(key, raw)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if err := input.CheckValue(v); err != nil {
			return nil, failf(http.StatusBadRequest, "%s %v", key, err)
		}
		fields[lower] = strings.TrimSpace(v)
	}
	return fields, nil
}

// queryObject turns the query of a GET suggest into an object, one value
// per key.
func queryObject(r *http.Request) (object, error) {
	q := r.URL.Query()
	if len(q) > maxFields {
		return nil, failf(http.StatusBadRequest, "the query gives more than %d fields", maxFields)
	}
	obj := object{}
	for key, values := range q {
		if len(values) > 1 {
			return nil, failf(http.StatusBadRequest, "%s is given %d times", input.Visible(key), len(values))
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return nil, failf(http.StatusBadRequest, "%s is not valid UTF-8", input.Visible(key))
			}
			raw, _ := json.Marshal(v)
			obj[key] = raw
		}
	}
	return obj, nil
}

func isFieldName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
