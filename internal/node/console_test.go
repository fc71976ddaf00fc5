package node

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConsoleMounted: the console answers at / beside the unchanged
// health, TAXII and metrics endpoints.
func TestConsoleMounted(t *testing.T) {
	n := open(t, t.TempDir())
	h, err := n.Handler(ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path, wantCT string
		want         int
		wantHeader   string
	}{
		{"/", "", http.StatusSeeOther, ""},
		{"/login", "text/html; charset=utf-8", http.StatusOK, "frame-ancestors 'none'"},
		{"/static/vendor/echarts.min.js", "text/javascript; charset=utf-8", http.StatusOK, ""},
		{"/healthz", "application/json", http.StatusOK, ""},
		{"/taxii2/", "", http.StatusUnauthorized, ""},
		{"/metrics", "", http.StatusUnauthorized, ""},
	}
	for _, tc := range tests {
		resp, err := hc.Get(ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
		if tc.wantCT != "" && resp.Header.Get("Content-Type") != tc.wantCT {
			t.Errorf("GET %s Content-Type = %q, want %q", tc.path, resp.Header.Get("Content-Type"), tc.wantCT)
		}
		if tc.wantHeader != "" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), tc.wantHeader) {
			t.Errorf("GET %s CSP = %q", tc.path, resp.Header.Get("Content-Security-Policy"))
		}
	}
}
