package taxiiclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

// Failure modes of the flaky handler.
const (
	fail503        = "503"
	fail502        = "502"
	fail429        = "429 retry-after 1"
	fail501        = "501"
	failReset      = "reset"       // connection reset before any answer
	failResetAfter = "reset after" // the request is served, then the connection reset
)

// flaky fails the requests to the API root's collections with the given
// modes in turn, then passes them to h.
type flaky struct {
	h     http.Handler
	mu    sync.Mutex
	modes []string
	hits  int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits++
	mode := ""
	if len(f.modes) > 0 {
		mode, f.modes = f.modes[0], f.modes[1:]
	}
	f.mu.Unlock()
	switch mode {
	case "":
		f.h.ServeHTTP(w, r)
	case fail503:
		w.Header().Set("Retry-After", "0")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	case fail502:
		http.Error(w, "bad gateway", http.StatusBadGateway)
	case fail501:
		http.Error(w, "no", http.StatusNotImplemented)
	case fail429:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case failReset, failResetAfter:
		if mode == failResetAfter {
			f.h.ServeHTTP(&recorder{header: http.Header{}}, r)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close with RST
		}
		conn.Close()
	}
}

func (f *flaky) set(modes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modes, f.hits = modes, 0
}

func TestRetries(t *testing.T) {
	fl := &flaky{}
	s := newServer(t, func(h http.Handler) http.Handler { fl.h = h; return fl })
	ctx := context.Background()
	collections := func(c *Client) error { _, err := c.Collections(ctx); return err }
	tests := []struct {
		name       string
		modes      []string
		call       func(c *Client) error
		wantStatus int // 0: success
		// Expected client requests and retries (-1: not checked, as Go's
		// transport may itself replay a GET on a reset connection).
		requests, retries int64
		minElapsed        time.Duration
	}{
		{"503 three times", []string{fail503, fail503, fail503}, collections, 0, 4, 3, 0},
		{"429 honours Retry-After", []string{fail429}, collections, 0, 2, 1, time.Second},
		{"502 then reset then 503", []string{fail502, failReset, fail503}, collections, 0, -1, -1, 0},
		{"POST after resets", []string{failReset, failReset}, func(c *Client) error {
			_, err := c.Add(ctx, collA, []json.RawMessage{indicator(7, 1)})
			return err
		}, 0, 3, 2, 0},
		{"gives up", []string{fail503, fail503, fail503, fail503, fail503, fail503, fail503}, collections, 503, 3, 2, 0},
		{"501 not retried", []string{fail501}, collections, 501, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl.set(tt.modes...)
			c := s.client(t, WithMaxRetries(min(len(tt.modes), 2+boolInt(tt.wantStatus == 0)*8)))
			start := time.Now()
			err := tt.call(c)
			elapsed := time.Since(start)
			if got := StatusCode(err); got != tt.wantStatus || (tt.wantStatus == 0) != (err == nil) {
				t.Fatalf("call = %v (status %d), want status %d", err, got, tt.wantStatus)
			}
			st := c.Stats()
			if tt.requests >= 0 && (st.Requests != tt.requests || st.Retries != tt.retries) {
				t.Errorf("Stats = %+v, want %d requests and %d retries", st, tt.requests, tt.retries)
			}
			if tt.wantStatus == 0 && fl.hits != len(tt.modes)+1 {
				t.Errorf("server hits = %d, want %d", fl.hits, len(tt.modes)+1)
			}
			if st.Retries < 1 && tt.wantStatus == 0 {
				t.Errorf("Stats = %+v, want retries", st)
			}
			if elapsed < tt.minElapsed {
				t.Errorf("call took %v, want at least %v (Retry-After)", elapsed, tt.minElapsed)
			}
			if tt.minElapsed > 0 && st.RetryAfterWaited != tt.minElapsed {
				t.Errorf("RetryAfterWaited = %v, want %v", st.RetryAfterWaited, tt.minElapsed)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRetryIdempotentAdd: a POST served but whose answer was lost is
// retried, and the object is stored once.
func TestRetryIdempotentAdd(t *testing.T) {
	fl := &flaky{}
	s := newServer(t, func(h http.Handler) http.Handler { fl.h = h; return fl })
	ctx := context.Background()
	c := s.client(t)
	fl.set(failResetAfter)
	st, err := c.Add(ctx, collA, []json.RawMessage{indicator(9, 1)})
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if st.SuccessCount != 1 {
		t.Errorf("Add after a lost answer = %+v, want one success", st)
	}
	if st, err = c.Status(ctx, st.ID); err != nil || len(st.Successes) != 1 || st.Successes[0].Message != "already present" {
		t.Errorf("Add after a lost answer = %+v, want one success already present", st)
	}
	vs, err := c.Versions(ctx, collA, indID(9), Query{})
	if err != nil || len(vs.Versions.Versions) != 1 {
		t.Errorf("Versions = %v, %v; want one", vs.Versions.Versions, err)
	}
	p, err := c.Objects(ctx, collA, Query{Versions: store.VersionMatch{All: true}})
	if err != nil || len(p.Objects) != 1 {
		t.Errorf("Objects = %d, %v; want 1", len(p.Objects), err)
	}
}

// TestRetryContext: a cancelled context stops the waiting at once.
func TestRetryContext(t *testing.T) {
	s := newServer(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.client(t).Collections(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || StatusCode(err) != 503 {
		t.Errorf("Collections = %v, want the deadline and the last 503", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Collections took %v after the deadline", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 120 ", 2 * time.Minute, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"99999999999999999999", 0, false},
		{"999999999", 999999999 * time.Second, true},
		{"9999999999", time.Duration(int64(1<<63-1)/int64(time.Second)) * time.Second, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 || (!ok && d != 0) {
			t.Errorf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

func TestBackoff(t *testing.T) {
	c := &Client{backoffBase: 100 * time.Millisecond, backoffCap: time.Second}
	for n, limit := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		limit *= time.Millisecond
		for range 50 {
			if d := c.backoff(n); d < 0 || d >= limit {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, limit)
			}
		}
	}
	if d := c.backoff(200); d < 0 || d >= time.Second {
		t.Errorf("backoff(200) = %v, want in [0, 1s)", d)
	}
}

// TestNoRetryOnBadCertificate: a certificate that does not verify is not
// worth retrying.
func TestNoRetryOnBadCertificate(t *testing.T) {
	s := newServer(t, nil)
	ts := httptest.NewTLSServer(s.ts.Config.Handler)
	defer ts.Close()
	c, err := New(ts.URL+"/taxii2/root/", WithBearer(s.admin), WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.APIRoot(context.Background())
	var cert *tls.CertificateVerificationError
	if !errors.As(err, &cert) {
		t.Errorf("APIRoot over an unknown certificate = %v, want a certificate error", err)
	}
	if st := c.Stats(); st.Requests != 1 {
		t.Errorf("Stats = %+v, want 1 request", st)
	}
	// With the server's CA it works.
	c, _ = New(ts.URL+"/taxii2/root/", WithBearer(s.admin), WithHTTPClient(ts.Client()))
	if _, err := c.APIRoot(context.Background()); err != nil {
		t.Errorf("APIRoot with the CA: %v", err)
	}
}
