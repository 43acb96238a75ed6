package service

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/provisionhq/provision/batch/input"
)

// middleware wraps the routes, outermost first: recovery and the request
// log, the Host check on loopback, security headers, CORS, and for the
// REST API the per-client rate limit, the API key and the body limit.
func (s *Service) middleware(next http.Handler) http.Handler {
	rest := s.rateLimit(s.authenticate(limitBody(next)))
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/rest/") {
			rest.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
	return s.logRequests(s.checkHost(securityHeaders(s.cors(inner))))
}

// statusWriter records the status and size of an answer for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, path, status, duration
// and the client's address; never a query, a body or a header value,
// which hold names and passwords. A panic is answered with a 500 and
// logged.
func (s *Service) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("request panicked", "method", r.Method, "path", input.Visible(r.URL.Path), "panic", fmt.Sprint(p))
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, errorBody{ErrorMessage: "the service failed to answer; its log says why"})
				}
			}
			s.log.Info("request", "method", input.Visible(r.Method), "path", input.Visible(r.URL.Path), "status", sw.status,
				"duration", time.Since(start).Round(time.Microsecond).String(), "bytes", sw.bytes, "client", input.Visible(s.clientIP(r)))
		}()
		next.ServeHTTP(sw, r)
	})
}

// checkHost refuses, on a loopback address, a Host header that does not
// name the loopback: a page of another site whose name was made to resolve
// to 127.0.0.1 (DNS rebinding) would otherwise reach the service as its
// own origin.
func (s *Service) checkHost(next http.Handler) http.Handler {
	if !s.loopback {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && !strings.EqualFold(host, "localhost") {
			s.writeError(w, r, failf(http.StatusForbidden, "this service listens on the loopback only; reach it as 127.0.0.1 or localhost"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders keeps the page from being framed or sniffed and from
// loading anything but its own files.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

// origins are the browser origins allowed to call the REST API from
// another site.
type origins struct {
	any  bool
	list []string
}

// newOrigins returns the allowed origins: the configured ones, or every
// origin on a loopback address when none are configured (the Java
// project's pages are opened from a file, whose origin is "null").
func newOrigins(allowed []string, loopback bool) origins {
	if len(allowed) == 0 {
		return origins{any: loopback}
	}
	return origins{any: slices.Contains(allowed, "*"), list: allowed}
}

func (o origins) allows(origin string) bool {
	return o.any || slices.Contains(o.list, origin)
}

// sameOrigin reports whether origin is the service's own: the operator
// page calling its API.
func sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// cors answers preflights and puts Access-Control-Allow-Origin on every
// answer to an allowed origin, errors included. A request from an origin
// that is not allowed is refused before it can change anything: a
// "simple" cross-site POST runs even when the browser hides its answer.
func (s *Service) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		if origin == "" {
			if r.Method == http.MethodOptions {
				w.Header().Set("Allow", "GET, POST, OPTIONS")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if !s.origins.allows(origin) && !sameOrigin(r, origin) {
			s.writeError(w, r, failf(http.StatusForbidden, "the origin %s is not allowed to call this service; an admin can allow it with --allow-origin", input.Visible(origin)))
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
			h.Set("Access-Control-Max-Age", "600")
			if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
				h.Set("Access-Control-Allow-Private-Network", "true")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hashKeys returns the SHA-256 of each API key: keys are compared as
// digests of equal length, in constant time.
func hashKeys(keys []string) [][32]byte {
	out := make([][32]byte, 0, len(keys))
	for _, k := range keys {
		out = append(out, sha256.Sum256([]byte(k)))
	}
	return out
}

// authenticate asks for a bearer token that is one of the API keys, when
// the service has keys. Every key is compared, in constant time, so the
// answer's timing says nothing about which key came close.
func (s *Service) authenticate(next http.Handler) http.Handler {
	if len(s.keys) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			err := failf(http.StatusUnauthorized, "an API key is required: send it as Authorization: Bearer KEY")
			err.header = http.Header{"Www-Authenticate": {`Bearer realm="provision"`}}
			s.writeError(w, r, err)
			return
		}
		sum := sha256.Sum256([]byte(token))
		match := 0
		for _, k := range s.keys {
			match |= subtle.ConstantTimeCompare(sum[:], k[:])
		}
		if match != 1 {
			err := failf(http.StatusUnauthorized, "the API key is not valid")
			err.header = http.Header{"Www-Authenticate": {`Bearer realm="provision", error="invalid_token"`}}
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// limitBody refuses bodies over maxBody with 413: at once when the length
// is announced, otherwise when reading passes it.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{ErrorMessage: fmt.Sprintf("the body is larger than %d KiB", maxBody>>10)})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}
