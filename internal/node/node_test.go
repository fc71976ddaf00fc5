package node

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
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/store"
)

// open opens a node on a new data directory and closes it at the end.
func open(t *testing.T, dir string) *Node {
	t.Helper()
	n, err := Open(t.Context(), Options{DataDir: dir})
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func TestOpenNeedsDataDir(t *testing.T) {
	if n, err := Open(t.Context(), Options{}); err == nil {
		n.Close()
		t.Fatal("Open with no DataDir succeeded, want an error")
	}
}

// TestOpenDefaultCollection checks that a new data directory gets one
// default collection with the documented grants, and that reopening it
// neither duplicates nor replaces it.
func TestOpenDefaultCollection(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data") // Open creates missing parents
	ctx := t.Context()

	n := open(t, dir)
	first, err := n.Store.Collection(ctx, DefaultCollectionAlias)
	if err != nil {
		t.Fatalf("Collection(%q) after Open: %v", DefaultCollectionAlias, err)
	}
	if first.Title == "" || first.ID == "" {
		t.Errorf("default collection = %+v, want an id and a title", first)
	}
	if diff := cmp.Diff([]string{"application/stix+json;version=2.1"}, first.MediaTypes); diff != "" {
		t.Errorf("default collection media types (-want +got):\n%s", diff)
	}
	grants, err := n.Store.Grants(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantGrants := []store.Grant{
		{CollectionID: first.ID, Principal: "role:analyst", Read: true, Write: true},
		{CollectionID: first.ID, Principal: "role:reader", Read: true},
	}
	byPrincipal := cmpopts.SortSlices(func(a, b store.Grant) bool { return a.Principal < b.Principal })
	if diff := cmp.Diff(wantGrants, grants, byPrincipal); diff != "" {
		t.Errorf("grants on the default collection (-want +got):\n%s", diff)
	}
	n.Close()

	for i := range 2 {
		n := open(t, dir)
		cs, err := n.Store.Collections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].ID != first.ID || cs[0].Alias != DefaultCollectionAlias {
			t.Errorf("reopen %d: collections = %+v, want only %s (%s)", i+1, cs, first.ID, DefaultCollectionAlias)
		}
		n.Close()
	}
}

func TestCreateToken(t *testing.T) {
	n := open(t, t.TempDir())
	ctx := t.Context()
	tests := []struct {
		name    string
		role    store.Role
		wantErr string // substring; "" means success
	}{
		{"alice", store.RoleAdmin, ""},
		{"bob", store.RoleAnalyst, ""},
		{"carol", store.RoleReader, ""},
		{"alice", store.RoleReader, "exists already"},
		{"dave", "root", "unknown role"},
		{"erin", "", "unknown role"},
		{"frank", "Admin", "unknown role"},
		{"", store.RoleAdmin, "name"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		secret, err := n.CreateToken(ctx, tt.name, tt.role)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CreateToken(%q, %q) = %q, %v; want an error containing %q", tt.name, tt.role, secret, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("CreateToken(%q, %q): %v", tt.name, tt.role, err)
			continue
		}
		if !strings.HasPrefix(secret, auth.SecretPrefix) || len(secret) < len(auth.SecretPrefix)+40 || strings.ContainsAny(secret, " \n\t") {
			t.Errorf("CreateToken(%q, %q) = %q, want %s followed by 256 random bits", tt.name, tt.role, secret, auth.SecretPrefix)
		}
		if seen[secret] {
			t.Errorf("CreateToken(%q) returned a secret already handed out", tt.name)
		}
		seen[secret] = true
		tok, err := n.Store.TokenByHash(ctx, auth.Hash(secret))
		if err != nil {
			t.Errorf("TokenByHash(Hash(secret of %q)): %v", tt.name, err)
			continue
		}
		if tok.Name != tt.name || tok.Role != tt.role {
			t.Errorf("stored token = %q %q, want %q %q", tok.Name, tok.Role, tt.name, tt.role)
		}
		if string(tok.Hash) == secret || strings.Contains(string(tok.Hash), secret) {
			t.Errorf("the store keeps the secret of %q in clear", tt.name)
		}
	}
}

func TestCreateCollectionGrants(t *testing.T) {
	n := open(t, t.TempDir())
	ctx := t.Context()
	c, err := n.CreateCollection(ctx, store.Collection{Title: "Shared", Alias: "shared"},
		[]store.Grant{{Principal: "bob", Read: true}, {CollectionID: "ignored", Principal: "role:analyst", Read: true, Write: true}})
	if err != nil {
		t.Fatal(err)
	}
	grants, err := n.Store.Grants(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Grant{
		{CollectionID: c.ID, Principal: "bob", Read: true},
		{CollectionID: c.ID, Principal: "role:analyst", Read: true, Write: true},
	}
	byPrincipal := cmpopts.SortSlices(func(a, b store.Grant) bool { return a.Principal < b.Principal })
	if diff := cmp.Diff(want, grants, byPrincipal); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	if _, err := n.CreateCollection(ctx, store.Collection{Title: "Again", Alias: "shared"}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateCollection with a taken alias: %v, want ErrConflict", err)
	}
	if _, err := n.CreateCollection(ctx, store.Collection{Title: "Clash", Alias: DefaultCollectionAlias}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateCollection with alias %q: %v, want ErrConflict", DefaultCollectionAlias, err)
	}
}

// server serves a node over httptest with one token per role.
type server struct {
	url     string
	secrets map[store.Role]string // token name is the role's name
}

func newServer(t *testing.T) *server {
	t.Helper()
	n := open(t, t.TempDir())
	s := &server{secrets: map[store.Role]string{}}
	for _, r := range []store.Role{store.RoleAdmin, store.RoleAnalyst, store.RoleReader} {
		secret, err := n.CreateToken(t.Context(), string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		s.secrets[r] = secret
	}
	h, err := n.Handler(ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHealthz(t *testing.T) {
	s := newServer(t)
	resp, body := do(t, mustRequest(t, "GET", s.url+"/healthz", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz without credentials = %d %s, want 200", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET /healthz Content-Type = %q, want application/json", ct)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("GET /healthz body %q: %v", body, err)
	}
	if diff := cmp.Diff(map[string]any{"status": "ok"}, got); diff != "" {
		t.Errorf("GET /healthz body (-want +got):\n%s", diff)
	}
	resp, _ = do(t, mustRequest(t, "POST", s.url+"/healthz", nil))
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", resp.StatusCode)
	}
}

func mustRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTAXIIAuthentication(t *testing.T) {
	s := newServer(t)
	admin := s.secrets[store.RoleAdmin]
	tests := []struct {
		name string
		set  func(*http.Request)
		want int
	}{
		{"none", func(*http.Request) {}, http.StatusUnauthorized},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+admin) }, http.StatusOK},
		{"bearer lower-case scheme", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+admin) }, http.StatusOK},
		{"basic", func(r *http.Request) { r.SetBasicAuth("admin", admin) }, http.StatusOK},
		{"basic reader", func(r *http.Request) { r.SetBasicAuth("reader", s.secrets[store.RoleReader]) }, http.StatusOK},
		{"basic wrong user", func(r *http.Request) { r.SetBasicAuth("reader", admin) }, http.StatusUnauthorized},
		{"bearer unknown", func(r *http.Request) { r.Header.Set("Authorization", "Bearer swt_unknown") }, http.StatusUnauthorized},
		{"bearer truncated", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+admin[:len(admin)-1]) }, http.StatusUnauthorized},
		{"other scheme", func(r *http.Request) { r.Header.Set("Authorization", "Token "+admin) }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/taxii2/", "/taxii2/root/", "/taxii2/root/collections/"} {
				req := mustRequest(t, "GET", s.url+path, nil)
				req.Header.Set("Accept", "application/taxii+json;version=2.1")
				tt.set(req)
				resp, body := do(t, req)
				if resp.StatusCode != tt.want {
					t.Errorf("GET %s = %d %s, want %d", path, resp.StatusCode, body, tt.want)
				}
				if resp.StatusCode == http.StatusOK {
					if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/taxii+json") {
						t.Errorf("GET %s Content-Type = %q, want application/taxii+json;version=2.1", path, ct)
					}
				}
			}
		})
	}
}

const indicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
"created":"2024-01-02T03:04:05.000Z","modified":"2024-01-02T03:04:05.000Z","name":"bad address",
"pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`

// TestTAXIIWriteRights posts to the default collection with each role:
// analysts write (by the role:analyst grant), readers may not, admins may.
func TestTAXIIWriteRights(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		role        store.Role
		wantPost    int
		wantSuccess int
	}{
		{store.RoleReader, http.StatusForbidden, 0},
		{store.RoleAnalyst, http.StatusAccepted, 1},
		{store.RoleAdmin, http.StatusAccepted, 1},
	}
	objects := s.url + "/taxii2/root/collections/" + DefaultCollectionAlias + "/objects/"
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			req := mustRequest(t, "POST", objects, strings.NewReader(`{"objects":[`+indicator+`]}`))
			req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
			req.Header.Set("Accept", "application/taxii+json;version=2.1")
			req.Header.Set("Authorization", "Bearer "+s.secrets[tt.role])
			resp, body := do(t, req)
			if resp.StatusCode != tt.wantPost {
				t.Fatalf("POST as %s = %d %s, want %d", tt.role, resp.StatusCode, body, tt.wantPost)
			}
			if resp.StatusCode != http.StatusAccepted {
				return
			}
			var st struct {
				Status       string `json:"status"`
				SuccessCount int    `json:"success_count"`
				FailureCount int    `json:"failure_count"`
			}
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				t.Fatalf("status resource %q: %v", body, err)
			}
			if st.Status != "complete" || st.SuccessCount != tt.wantSuccess || st.FailureCount != 0 {
				t.Errorf("POST as %s: status %+v, want complete with %d success", tt.role, st, tt.wantSuccess)
			}
		})
	}
	// The reader still reads what the others wrote.
	req := mustRequest(t, "GET", objects, nil)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", "Bearer "+s.secrets[store.RoleReader])
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") {
		t.Errorf("GET objects as reader = %d %s, want 200 with the indicator", resp.StatusCode, body)
	}
}

func TestHandlerPublicURL(t *testing.T) {
	n := open(t, t.TempDir())
	tests := []struct {
		url    string
		wantOK bool
	}{
		{"", true},
		{"https://taxii.example.org", true},
		{"https://taxii.example.org/", true},
		{"http://127.0.0.1:9440", true},
		{"taxii.example.org", false},
		{"ftp://taxii.example.org", false},
		{"https://", false},
		{"https://taxii.example.org/?x=1", false},
		{"https://taxii.example.org/#top", false},
		{"http://[::1", false},
		{"://nohost", false},
	}
	for _, tt := range tests {
		h, err := n.Handler(ServeOptions{PublicURL: tt.url})
		if gotOK := err == nil && h != nil; gotOK != tt.wantOK {
			t.Errorf("Handler(PublicURL %q) = %v, %v; want ok %v", tt.url, h != nil, err, tt.wantOK)
		}
	}
	// Serve reports the same error instead of serving.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := n.Serve(t.Context(), ln, ServeOptions{PublicURL: "ftp://x"}); err == nil {
		t.Error("Serve with a malformed PublicURL returned nil, want an error")
	}
}

// TestPublicURLInDiscovery checks that discovery announces PublicURL.
func TestPublicURLInDiscovery(t *testing.T) {
	n := open(t, t.TempDir())
	secret, err := n.CreateToken(t.Context(), "root", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	h, err := n.Handler(ServeOptions{PublicURL: "https://taxii.example.org/"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req := mustRequest(t, "GET", srv.URL+"/taxii2/", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "https://taxii.example.org/taxii2/root/") {
		t.Errorf("discovery with PublicURL = %d %s, want the API root under https://taxii.example.org", resp.StatusCode, body)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	n := open(t, t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- n.Serve(ctx, ln, ServeOptions{}) }()

	resp, body := do(t, mustRequest(t, "GET", "http://"+addr+"/healthz", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz while serving = %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running 5s after its context was cancelled")
	}
	http.DefaultClient.CloseIdleConnections()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Serve returned", addr)
	}
}

// TestServeTLSNeedsReadableFiles checks that Serve fails at once, rather
// than serve nothing, when the TLS files cannot be read.
func TestServeTLSNeedsReadableFiles(t *testing.T) {
	n := open(t, t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = n.Serve(ctx, ln, ServeOptions{TLSCert: "/nonexistent/cert.pem", TLSKey: "/nonexistent/key.pem"})
	if err == nil || ctx.Err() != nil {
		t.Errorf("Serve with missing TLS files = %v (ctx %v), want an immediate error", err, ctx.Err())
	}
}

// TestServeTLS serves HTTPS with a self-signed certificate made here and
// checks that a client trusting it reaches /healthz and plain HTTP does not.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "shieldwall test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}

	n := open(t, filepath.Join(dir, "data"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- n.Serve(ctx, ln, ServeOptions{TLSCert: certFile, TLSKey: keyFile}) }()

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET https://%s/healthz: %v", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("GET /healthz over TLS = %d (TLS %v), want 200 over TLS 1.2 or later", resp.StatusCode, resp.TLS)
	}
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the TLS listener")
		}
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve(TLS) after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve(TLS) still running 5s after cancel")
	}
}
