package taxiiserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/taxii"
)

func TestDiscoveryAndAPIRoot(t *testing.T) {
	f := newFixture(t)
	var d taxii.Discovery
	f.ok(req{path: "/taxii2/"}, http.StatusOK, &d)
	root := f.ts.URL + "/taxii2/root/"
	want := taxii.Discovery{Title: "Test server", Description: "for tests", Contact: "soc@example.org",
		Default: root, APIRoots: []string{root}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("discovery mismatch (-want +got):\n%s", diff)
	}

	var a taxii.APIRoot
	f.ok(req{path: "/taxii2/root/"}, http.StatusOK, &a)
	wantRoot := taxii.APIRoot{Title: "Test server", Description: "for tests",
		Versions: []string{taxii.MediaType}, MaxContentLength: DefaultMaxContentLength}
	if diff := cmp.Diff(wantRoot, a); diff != "" {
		t.Errorf("api root mismatch (-want +got):\n%s", diff)
	}

	// A configured public URL wins over the request's Host.
	f2 := newFixture(t, func(o *Options) { o.PublicURL = "https://taxii.example.org/" })
	var d2 taxii.Discovery
	f2.ok(req{path: "/taxii2/"}, http.StatusOK, &d2)
	if want := []string{"https://taxii.example.org/taxii2/root/"}; !cmp.Equal(d2.APIRoots, want) {
		t.Errorf("api_roots with PublicURL = %v, want %v", d2.APIRoots, want)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	f := newFixture(t)
	good := Options{Objects: f.db, Collections: f.db, Statuses: f.db, Tokens: f.db, Grants: f.db}
	if _, err := New(Options{}); err == nil {
		t.Error("New(Options{}) succeeded, want an error")
	}
	for _, u := range []string{"ftp://x", "no-scheme", "https://", "https://x/?q=1"} {
		o := good
		o.PublicURL = u
		if _, err := New(o); err == nil {
			t.Errorf("New with PublicURL %q succeeded, want an error", u)
		}
	}
}

func TestCollections(t *testing.T) {
	f := newFixture(t)
	shared := taxii.Collection{ID: collShared, Title: "Shared intel", Description: "for every analyst", Alias: "shared",
		MediaTypes: []string{taxii.STIXMediaType}}
	private := taxii.Collection{ID: collPrivate, Title: "Private", Alias: "private", MediaTypes: []string{taxii.STIXMediaType}}
	inbox := taxii.Collection{ID: collInbox, Title: "Inbox", Alias: "inbox", MediaTypes: []string{taxii.STIXMediaType}}
	with := func(c taxii.Collection, read, write bool) taxii.Collection {
		c.CanRead, c.CanWrite = read, write
		return c
	}
	tests := []struct {
		token string
		want  []taxii.Collection
	}{
		{tokAdmin, []taxii.Collection{with(shared, true, true), with(private, true, true), with(inbox, true, true)}},
		{tokAlice, []taxii.Collection{with(shared, true, true), with(inbox, false, true)}},
		{tokBob, []taxii.Collection{with(shared, true, true)}},
		{tokRita, []taxii.Collection{with(shared, true, false), with(inbox, true, false)}},
		{tokNobody, []taxii.Collection{with(shared, true, false)}},
	}
	for _, tt := range tests {
		var got taxii.Collections
		f.ok(req{path: "/taxii2/root/collections/", token: tt.token}, http.StatusOK, &got)
		if diff := cmp.Diff(tt.want, got.Collections); diff != "" {
			t.Errorf("collections for %s mismatch (-want +got):\n%s", tt.token, diff)
		}
		// Each listed collection answers on its own, by id and by alias.
		for _, c := range tt.want {
			for _, key := range []string{c.ID, c.Alias} {
				var one taxii.Collection
				f.ok(req{path: collPath(key), token: tt.token}, http.StatusOK, &one)
				if diff := cmp.Diff(c, one); diff != "" {
					t.Errorf("collection %s for %s mismatch (-want +got):\n%s", key, tt.token, diff)
				}
			}
		}
	}
	// Collections a caller may not see answer 404, like unknown ones.
	for _, tc := range []struct{ token, coll string }{
		{tokBob, collPrivate}, {tokBob, "inbox"}, {tokRita, "private"}, {tokAdmin, "no-such-collection"},
		{tokAdmin, "99999999-9999-4999-8999-999999999999"},
	} {
		checkError(t, "GET collection "+tc.coll+" as "+tc.token, f.do(req{path: collPath(tc.coll), token: tc.token}), http.StatusNotFound)
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	paths := []string{"/taxii2/", "/taxii2/root/", "/taxii2/root/collections/", collPath(collShared),
		objectsPath(collShared), "/taxii2/root/status/" + uuidN(1) + "/", "/taxii2/nothing/"}
	bad := []struct {
		name string
		r    req
	}{
		{"no credentials", req{token: "-"}},
		{"unknown bearer token", req{token: tokUnknown}},
		{"basic with wrong user", req{token: tokAlice, basic: tokBob}},
		{"basic with unknown token", req{token: tokUnknown, basic: tokUnknown}},
		{"garbage", req{token: "-", header: map[string]string{"Authorization": "Bearer"}}},
		{"other scheme", req{token: "-", header: map[string]string{"Authorization": "Negotiate abc"}}},
	}
	for _, p := range paths {
		for _, b := range bad {
			r := b.r
			r.path = p
			resp := f.do(r)
			checkError(t, b.name+" on "+p, resp, http.StatusUnauthorized)
			if got, want := resp.header.Get("WWW-Authenticate"), `Basic realm="shieldwall", Bearer`; got != want {
				t.Errorf("%s on %s: WWW-Authenticate %q, want %q", b.name, p, got, want)
			}
		}
	}
	// Failures are logged for audit, without the secrets tried.
	logs := f.logs.String()
	if !strings.Contains(logs, "taxii authentication failed") {
		t.Errorf("authentication failures not logged:\n%s", logs)
	}
	for _, name := range []string{tokUnknown, tokAlice} {
		if strings.Contains(logs, f.secrets[name]) {
			t.Errorf("the log holds the secret of %s:\n%s", name, logs)
		}
	}
	// Basic with the token's own name works, as does Bearer.
	for _, name := range []string{tokAdmin, tokAlice, tokRita} {
		f.ok(req{path: "/taxii2/", token: name, basic: name}, http.StatusOK, nil)
		f.ok(req{path: "/taxii2/", token: name}, http.StatusOK, nil)
	}
}

func TestContentNegotiation(t *testing.T) {
	f := newFixture(t)
	accepts := []struct {
		accept string
		ok     bool
	}{
		{"", true},
		{"*/*", true},
		{"application/*", true},
		{"application/taxii+json", true},
		{"application/taxii+json;version=2.1", true},
		{"APPLICATION/TAXII+JSON ; Version = 2.1", true},
		{`application/taxii+json; version="2.1"`, true},
		{"text/html, application/taxii+json;version=2.1;q=0.9", true},
		{"text/html;q=1, */*;q=0.1", true},
		{"application/json", false},
		{"application/taxii+json;version=2.0", false},
		{"application/stix+json;version=2.1", false},
		{"application/taxii+json;q=0", false},
		{"text/*", false},
		{"garbage", false},
	}
	for _, a := range accepts {
		resp := f.do(req{path: "/taxii2/", header: map[string]string{"Accept": a.accept}})
		if a.ok {
			if resp.status != http.StatusOK {
				t.Errorf("Accept %q = %d %s, want 200", a.accept, resp.status, resp.body)
			}
			continue
		}
		checkError(t, "Accept "+a.accept, resp, http.StatusNotAcceptable)
	}

	contentTypes := []struct {
		ct string
		ok bool
	}{
		{"application/taxii+json;version=2.1", true},
		{"application/taxii+json ; VERSION=2.1", true},
		{"Application/TAXII+json;version=\"2.1\"", true},
		{"application/taxii+json", false},
		{"application/taxii+json;version=2.0", false},
		{"application/json", false},
		{"application/stix+json;version=2.1", false},
		{"", false},
	}
	body := envelope(indicator(1, 1))
	for _, c := range contentTypes {
		resp := f.do(req{method: http.MethodPost, path: objectsPath(collShared), body: body,
			header: map[string]string{"Content-Type": c.ct}})
		if c.ok {
			if resp.status != http.StatusAccepted {
				t.Errorf("Content-Type %q = %d %s, want 202", c.ct, resp.status, resp.body)
			}
			continue
		}
		checkError(t, "Content-Type "+c.ct, resp, http.StatusUnsupportedMediaType)
	}
}

func TestRoutingErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/taxii2/nothing/", http.StatusNotFound, ""},
		{http.MethodGet, objectsPath(collShared) + indID(1) + "/versions/x/", http.StatusNotFound, ""},
		{http.MethodGet, "/taxii2/root/collections/x/y/", http.StatusNotFound, ""},
		{http.MethodGet, "/taxii2/other-root/", http.StatusNotFound, ""},
		{http.MethodGet, "/healthz", http.StatusNotFound, ""},
		{http.MethodPost, "/taxii2/", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/taxii2/root/collections/", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPut, objectsPath(collShared), http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodPost, objectPath(collShared, indID(1)), http.StatusMethodNotAllowed, "DELETE, GET, HEAD"},
		{http.MethodDelete, objectsPath(collShared) + indID(1) + "/versions/", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPost, collPath(collShared) + "manifest/", http.StatusMethodNotAllowed, "GET, HEAD"},
	}
	for _, tt := range tests {
		resp := f.do(req{method: tt.method, path: tt.path})
		checkError(t, tt.method+" "+tt.path, resp, tt.status)
		if got := resp.header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
	// Unknown status.
	checkError(t, "unknown status", f.do(req{path: "/taxii2/root/status/" + uuidN(77) + "/"}), http.StatusNotFound)
	// HEAD works where GET does.
	if resp := f.do(req{method: http.MethodHead, path: "/taxii2/root/"}); resp.status != http.StatusOK || len(resp.body) != 0 {
		t.Errorf("HEAD api root = %d with %d body bytes, want 200 and none", resp.status, len(resp.body))
	}
	// And the server still serves.
	f.ok(req{path: "/taxii2/"}, http.StatusOK, nil)
	if strings.Contains(f.logs.String(), "level=ERROR") {
		t.Errorf("routing errors were logged as internal errors:\n%s", f.logs)
	}
}
