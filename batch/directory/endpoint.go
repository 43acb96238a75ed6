package directory

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// googleEndpoint is the Directory API's root at Google.
const googleEndpoint = "https://admin.googleapis.com/"

// endpointHint is what to do about an endpoint the client refuses.
const endpointHint = "use https://, or a loopback address (127.0.0.1, [::1] or localhost) for the emulator"

// EndpointError reports an endpoint the client refuses, or a request it
// refuses to send. Credentials travel only over TLS: plain http is for this
// machine alone, where the emulator runs and no credentials are loaded.
type EndpointError struct {
	URL    string // the endpoint, or where a request was sent on to
	Reason string // why, in plain words
	Hint   string // what to do instead
}

func (e *EndpointError) Error() string { return "endpoint " + e.URL + ": " + e.Reason }

var _ error = (*EndpointError)(nil)

// parseEndpoint checks a configured endpoint and returns it with the
// trailing slash the generated client needs to resolve its paths. Plain http
// is refused unless the host is this machine.
func parseEndpoint(s string) (*url.URL, error) {
	if s == "" {
		s = googleEndpoint
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &EndpointError{
			URL:    s,
			Reason: "want an http or https URL such as " + googleEndpoint,
			Hint:   "give the root URL of the Directory API, or leave --endpoint out to use Google's",
		}
	}
	if u.Scheme == "http" && !loopback(u) {
		return nil, &EndpointError{
			URL:    s,
			Reason: "plain http is accepted only on this machine: credentials travel only over TLS",
			Hint:   endpointHint,
		}
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// IsLoopback reports whether endpoint is a URL on this machine: its host is
// "localhost" or an address in 127.0.0.0/8 or ::1. New reaches such an
// endpoint without credentials, whatever the Config says about them.
func IsLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	return err == nil && loopback(u)
}

// loopback reports whether u is on this machine. Only the literal name
// "localhost" (in any case) and literal loopback addresses count: a name
// that merely starts with localhost or an address ("localhost.example.com",
// "127.0.0.1.nip.io"), a trailing dot ("localhost.") or a short form
// ("127.1") is resolved by DNS and could lead anywhere. An IPv4-mapped
// IPv6 address of 127.0.0.0/8 (::ffff:127.0.0.1) is loopback.
func loopback(u *url.URL) bool {
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newTransport returns the default transport with room for many idle
// connections to the one host the client talks to: the standard two would
// make concurrent callers open and close connections all the time. For a
// loopback endpoint it connects to loopback addresses only, so that a
// "localhost" that resolves elsewhere, or a redirect, cannot carry requests
// off this machine in clear text.
func newTransport(local bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	if local {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: dialLoopbackOnly}
		t.DialContext = d.DialContext
		t.Proxy = nil
	}
	return t
}

// dialLoopbackOnly is a net.Dialer's Control: it runs after the address is
// resolved and before the connection is made, and refuses any address that
// is not loopback.
func dialLoopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return nil
	}
	return &EndpointError{
		URL:    address,
		Reason: "the endpoint is on this machine, but this address is not: refusing to connect",
		Hint:   endpointHint,
	}
}

// tlsOnly is the outermost transport of a client with credentials. It sends
// a request on only when it goes over https to the endpoint's own host, so
// that no token is fetched for, and no Authorization header reaches, any
// other place. oauth2.Transport sets the header on every request it sends,
// redirects included, which undoes net/http's own rule of dropping it on a
// redirect to another host; and net/http keeps it on a redirect from https
// to http on the same host.
type tlsOnly struct {
	host string // the endpoint's host:port, lowercase
	next http.RoundTripper
}

var _ http.RoundTripper = (*tlsOnly)(nil)

func newTLSOnly(endpoint *url.URL, next http.RoundTripper) *tlsOnly {
	return &tlsOnly{host: hostPort(endpoint), next: next}
}

func (t *tlsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	var reason string
	switch {
	case r.URL.Scheme != "https":
		reason = "refusing to send credentials over plain " + r.URL.Scheme + " (a redirect from the endpoint?)"
	case hostPort(r.URL) != t.host:
		reason = "refusing to send credentials to a host other than the endpoint's (" + t.host + ")"
	}
	if reason == "" {
		return t.next.RoundTrip(r)
	}
	if r.Body != nil {
		r.Body.Close()
	}
	where := &url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host, Path: r.URL.Path}
	return nil, &EndpointError{URL: where.String(), Reason: reason, Hint: "the Directory API never redirects; check the endpoint and any proxy in between"}
}

// hostPort returns u's host and port, lowercase, with the scheme's default
// port when u names none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
