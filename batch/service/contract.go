package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

// routes returns the service's handler: the REST contract under /rest/,
// /healthz, and the operator page, behind the middleware.
func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/rest/suggest", s.endpoint(s.suggest, http.MethodGet, http.MethodPost))
	mux.Handle("/rest/select", s.endpoint(s.selectNames, http.MethodPost))
	mux.Handle("/rest/create", s.endpoint(s.create, http.MethodPost))
	mux.Handle("/rest/config", s.endpoint(s.config, http.MethodGet, http.MethodPost))
	mux.Handle("/rest/", s.endpoint(func(*http.Request) (any, error) {
		return nil, failf(http.StatusNotFound, "there is no such method: the REST API has suggest, select, create and config")
	}, http.MethodGet, http.MethodPost))
	mux.HandleFunc("/healthz", s.healthz)
	mux.Handle("/", s.page())
	return s.middleware(mux)
}

// endpoint adapts a method of the contract to an http.Handler: it refuses
// other HTTP methods and answers the result as JSON, or the error as
// {"errorMessage": …}.
func (s *Service) endpoint(fn func(*http.Request) (any, error), methods ...string) http.Handler {
	allow := strings.Join(append(methods, http.MethodOptions), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !containsFold(methods, r.Method) {
			err := failf(http.StatusMethodNotAllowed, "%s is not allowed here; use %s", input.Visible(r.Method), strings.Join(methods, " or "))
			err.header = http.Header{"Allow": {allow}}
			s.writeError(w, r, err)
			return
		}
		v, err := fn(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// suggest answers POST /rest/suggest with a JSON object of a person's
// fields, or GET /rest/suggest?firstname=…&lastname=…: a JSON array of up
// to N available names, each now held for the hold time.
func (s *Service) suggest(r *http.Request) (any, error) {
	var obj object
	var err error
	if r.Method == http.MethodGet {
		obj, err = queryObject(r)
	} else {
		obj, err = readObject(r)
	}
	if err != nil {
		return nil, err
	}
	fields, err := obj.person()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), suggestBudget)
	defer cancel()
	s.suggestMu.Lock()
	defer s.suggestMu.Unlock()
	names, err := s.reserver.Suggest(ctx, fields, s.cfg.Serve.Suggestions)
	if err != nil {
		return nil, s.namingError(err)
	}
	if _, err := s.store.HoldAll(ctx, names); err != nil {
		return nil, err
	}
	return names, nil
}

// namingError turns an error of the Reserver into an answer.
func (s *Service) namingError(err error) error {
	var fe *naming.FieldError
	switch {
	case errors.As(err, &fe), errors.Is(err, naming.ErrNoName):
		return failf(http.StatusBadRequest, "%v", err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return failf(http.StatusServiceUnavailable, "the directory did not answer in time; try again")
	case errors.As(err, new(*directory.CredentialsError)):
		return failf(http.StatusServiceUnavailable, "the service could not authenticate to the directory: %v", err)
	case errors.As(err, new(*directoryError)):
		return failf(http.StatusServiceUnavailable, "the directory could not be asked which names are taken: %s", plainError(err))
	}
	return err
}

// selectRequest is the body of POST /rest/select.
type selectRequest struct {
	username    string
	suggestions []string
}

// selectNames answers POST /rest/select {"username": U, "suggestions":
// [...]}: every listed name except U is released; U keeps its hold until
// it expires or is created. U may be "" to release them all.
func (s *Service) selectNames(r *http.Request) (any, error) {
	obj, err := readObject(r)
	if err != nil {
		return nil, err
	}
	req, err := parseSelect(obj)
	if err != nil {
		return nil, err
	}
	released, err := s.store.Release(r.Context(), req.suggestions, req.username)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("Released %d of the %d suggested names.", released, len(req.suggestions))
	if req.username != "" {
		expires, held, err := s.store.HoldExpiry(r.Context(), req.username)
		switch {
		case err != nil:
			return nil, err
		case held:
			msg += fmt.Sprintf(" %s stays held until %s.", req.username, expires.UTC().Format("15:04:05 UTC"))
		default:
			msg += fmt.Sprintf(" %s is not held: ask for suggestions again before creating it.", req.username)
		}
	}
	return messageBody{Message: msg}, nil
}

// parseSelect checks a select body: username is text (possibly empty) and
// suggestions an array of text; anything else changes nothing.
func parseSelect(obj object) (selectRequest, error) {
	var req selectRequest
	username, ok, err := obj.text("username")
	switch {
	case err != nil:
		return req, err
	case !ok:
		return req, failf(http.StatusBadRequest, `username is missing: give the chosen name, or "" to release every suggestion`)
	}
	raw, ok := obj.lookup("suggestions")
	if !ok {
		return req, failf(http.StatusBadRequest, "suggestions is missing: give the names the suggest answered, as an array")
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return req, failf(http.StatusBadRequest, `suggestions must be an array of names, such as ["ada.lovelace", "alovelace"]`)
	}
	if len(list) > maxFields {
		return req, failf(http.StatusBadRequest, "suggestions lists more than %d names", maxFields)
	}
	req.username = strings.ToLower(strings.TrimSpace(username))
	req.suggestions = lowerAll(list)
	return req, nil
}

// configBody is the answer of /rest/config. The Java project's clients
// read the first three; numbers are JSON numbers. Fields is what the
// operator page asks for besides the names.
type configBody struct {
	Domain                    string   `json:"domain"`
	NumberOfSuggestions       int      `json:"numberOfSuggestions"`
	SuggestedUsernamesTimeout int      `json:"suggestedUsernamesTimeout"`
	Fields                    []string `json:"fields"`
}

// config answers GET or POST /rest/config; a body, if any, is ignored.
func (s *Service) config(*http.Request) (any, error) {
	fields := s.fields
	if fields == nil {
		fields = []string{}
	}
	return configBody{
		Domain:                    s.cfg.Domain,
		NumberOfSuggestions:       s.cfg.Serve.Suggestions,
		SuggestedUsernamesTimeout: int(s.cfg.Serve.Hold.Seconds()),
		Fields:                    fields,
	}, nil
}

// healthz answers GET /healthz for liveness and readiness probes: 200 when
// the journal answers, 503 otherwise. It needs no key.
func (s *Service) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.Error("health check failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorBody{ErrorMessage: "the service journal does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
