package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
)

func TestCheckExposure(t *testing.T) {
	tests := []struct {
		name string
		e    Exposure
		want string // substring of the error; "" means allowed
	}{
		{"loopback", Exposure{Addr: "127.0.0.1:8080"}, ""},
		{"localhost", Exposure{Addr: "localhost:8080"}, ""},
		{"ipv6 loopback", Exposure{Addr: "[::1]:8080"}, ""},
		{"all interfaces without a key", Exposure{Addr: "0.0.0.0:8080"}, "without an API key"},
		{"empty host without a key", Exposure{Addr: ":8080", TLS: true}, "without an API key"},
		{"LAN address with a key, no TLS", Exposure{Addr: "192.0.2.10:8080", APIKeys: 1}, "plain HTTP"},
		{"with a key and TLS", Exposure{Addr: "0.0.0.0:8443", APIKeys: 1, TLS: true}, ""},
		{"with a key behind a TLS proxy", Exposure{Addr: "0.0.0.0:8080", APIKeys: 2, PlainHTTP: true}, ""},
		{"not host:port", Exposure{Addr: "8080"}, "not host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckExposure(tt.e)
			var ee *ExposureError
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckExposure(%+v) = %v, want nil", tt.e, err)
			case tt.want != "" && (!errors.As(err, &ee) || !strings.Contains(err.Error(), tt.want) || ee.Hint == ""):
				t.Errorf("CheckExposure(%+v) = %v, want an *ExposureError with a hint mentioning %q", tt.e, err, tt.want)
			}
		})
	}
}

func TestLoadAPIKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(dir, "keys")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keys, err := LoadAPIKeys(write("# rotated 2026-03\nold-key-0123456789abcdef\n\n  new-key-0123456789abcdef  \n"))
	if err != nil || len(keys) != 2 || keys[1] != "new-key-0123456789abcdef" {
		t.Errorf("LoadAPIKeys = %q, %v", keys, err)
	}
	for text, want := range map[string]string{
		"short\n":                      "shorter than 16",
		"# only a comment\n":           "holds no key",
		"key with spaces 0123456789\n": "printable ASCII",
	} {
		if _, err := LoadAPIKeys(write(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadAPIKeys(%q) = %v, want an error mentioning %q", text, err, want)
		}
	}
	if _, err := LoadAPIKeys(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadAPIKeys of a missing file succeeded")
	}
}

// TestServe_drains: a stopping server lets a create in flight finish and
// answers it.
func TestServe_drains(t *testing.T) {
	e := newEnv(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	e.dir.onInsertUser(func(ctx context.Context, u *admin.User) (*admin.User, error) {
		close(entered)
		<-release
		return e.client.InsertUser(ctx, u)
	})
	names := e.suggest("Ada", "Lovelace")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- e.svc.Serve(ctx, l, "", "") }()

	answered := make(chan int, 1)
	go func() {
		body, _ := json.Marshal(createBody(names[0], "correct horse battery"))
		resp, err := http.Post("http://"+l.Addr().String()+"/rest/create", "text/plain", strings.NewReader(string(body)))
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-entered
	stop() // SIGTERM
	// Wait until the listener is closed: the server is shutting down.
	for {
		c, err := net.DialTimeout("tcp", l.Addr().String(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) with a create in flight", err)
	default:
	}
	close(release)
	if status := <-answered; status != http.StatusOK {
		t.Errorf("the create in flight was answered %d, want 200", status)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
	if e.users(names[0]+"@"+testDomain) != 1 {
		t.Error("the account of the drained create does not exist")
	}
}

func TestServe_TLS(t *testing.T) {
	e := newEnv(t, nil)
	cert, key, pool := selfSigned(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- e.svc.Serve(ctx, l, cert, key) }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + l.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz over TLS = %d", resp.StatusCode)
	}
	stop()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "provision test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(parsed)
	return certFile, keyFile, pool
}

// TestServe_slowClient: a client that sends its headers or its body too
// slowly loses its connection.
func TestServe_slowClient(t *testing.T) {
	e := newEnv(t, nil)
	e.svc.timeouts = timeouts{readHeader: 300 * time.Millisecond, read: time.Second, write: 5 * time.Second, idle: time.Second}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go e.svc.Serve(ctx, l, "", "")
	for name, partial := range map[string]string{
		"headers": "POST /rest/suggest HTTP/1.1\r\nHost: 127.0.0.1\r\n",
		"body":    "POST /rest/suggest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"firstname\":",
	} {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write([]byte(partial)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		// The server closes the connection (possibly after an answer);
		// reading ends either way, well before the test's deadline.
		io.Copy(io.Discard, c)
		c.Close()
		if waited := time.Since(start); waited > 5*time.Second {
			t.Errorf("a client slow with its %s kept its connection for %s", name, waited)
		}
	}
}
