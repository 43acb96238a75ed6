package service

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// timeouts of the HTTP server: a slow client cannot hold a connection for
// long, and a create (within createBudget) always gets its answer out.
type timeouts struct {
	readHeader, read, write, idle time.Duration
}

var serverTimeouts = timeouts{
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	write:      90 * time.Second,
	idle:       2 * time.Minute,
}

const (
	maxHeaderBytes = 32 << 10
	// drainTime is how long a stopping server lets requests in flight,
	// creates above all, finish.
	drainTime = createBudget + 15*time.Second
)

// minKeyLength is the shortest API key accepted: 16 characters of a
// random string are beyond guessing at any rate the limiter allows.
const minKeyLength = 16

// Exposure says how the service will be reached.
type Exposure struct {
	Addr      string // the listen address
	APIKeys   int    // how many API keys clients may use
	TLS       bool   // it serves TLS itself
	PlainHTTP bool   // a TLS-terminating proxy is in front
}

// ExposureError is a refusal to start: the address is reachable from
// other machines without the protection it needs. Hint says what to do.
type ExposureError struct {
	Msg  string
	Hint string
}

func (e *ExposureError) Error() string { return e.Msg }

// IsLoopback reports whether addr (host:port) listens on the loopback
// only: 127.0.0.0/8, ::1 or localhost. An empty host listens everywhere.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// CheckExposure refuses an address reachable from other machines without
// an API key, or without TLS (its own, or a proxy's said by PlainHTTP):
// anyone who reaches the port could otherwise create accounts in the
// domain, or read the passwords on the wire.
func CheckExposure(e Exposure) error {
	if _, _, err := net.SplitHostPort(e.Addr); err != nil {
		return &ExposureError{Msg: fmt.Sprintf("--addr %q is not host:port", e.Addr), Hint: "such as 127.0.0.1:8080"}
	}
	if IsLoopback(e.Addr) {
		return nil
	}
	if e.APIKeys == 0 {
		return &ExposureError{
			Msg:  fmt.Sprintf("refusing to serve on %s without an API key: anyone who reaches it could create accounts in your domain", e.Addr),
			Hint: "give --api-key-file FILE (one key a line, at least 16 characters each), or listen on 127.0.0.1",
		}
	}
	if !e.TLS && !e.PlainHTTP {
		return &ExposureError{
			Msg:  fmt.Sprintf("refusing to serve plain HTTP on %s: API keys and passwords would cross the network in clear", e.Addr),
			Hint: "give --tls-cert and --tls-key, or --plain-http when a TLS-terminating proxy (an ingress) is in front",
		}
	}
	return nil
}

// LoadAPIKeys reads API keys from a file, one a line; blank lines and lines
// starting with # are skipped. Several keys allow rotation: add the new
// one, move the clients, remove the old one.
func LoadAPIKeys(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read API keys: %w", err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		k := strings.TrimSpace(sc.Text())
		if k == "" || strings.HasPrefix(k, "#") {
			continue
		}
		if len(k) < minKeyLength {
			return nil, fmt.Errorf("API key file %s, line %d: the key is shorter than %d characters", path, line, minKeyLength)
		}
		for _, c := range k {
			if c <= ' ' || c > '~' {
				return nil, fmt.Errorf("API key file %s, line %d: a key may hold only printable ASCII characters without spaces", path, line)
			}
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read API keys from %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("API key file %s holds no key", path)
	}
	return keys, nil
}

// Serve answers on l until ctx ends, then stops taking requests and lets
// those in flight finish for up to drainTime. With a certificate and key
// it serves TLS (1.2 and later).
func (s *Service) Serve(ctx context.Context, l net.Listener, certFile, keyFile string) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.timeouts.readHeader,
		ReadTimeout:       s.timeouts.read,
		WriteTimeout:      s.timeouts.write,
		IdleTimeout:       s.timeouts.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if certFile != "" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	served := make(chan error, 1)
	go func() {
		if certFile != "" {
			served <- srv.ServeTLS(l, certFile, keyFile)
			return
		}
		served <- srv.Serve(l)
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.log.Info("stopping: letting requests in flight finish", "within", drainTime.String())
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTime)
	defer cancel()
	err := srv.Shutdown(drain)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	if err != nil {
		return fmt.Errorf("stop serving: %w", err)
	}
	return nil
}
