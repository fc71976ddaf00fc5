package taxiiserver

import (
	"net/http"
	"testing"
)

// TestRoles runs every endpoint as every kind of caller and checks the
// status: 404 where the caller may not see the collection, 403 where it
// sees it but lacks the right, success otherwise.
func TestRoles(t *testing.T) {
	f := newFixture(t)
	var st struct{ ID string }
	f.ok(req{method: http.MethodPost, path: objectsPath(collShared), body: envelope(indicator(1, 1))}, http.StatusAccepted, &st)
	for _, c := range []string{collPrivate, collInbox} {
		f.post(c, indicator(1, 1))
	}

	// rights per token and collection: "rw", "r", "w" or "" (hidden).
	rights := map[string]map[string]string{
		tokAdmin:  {collShared: "rw", collPrivate: "rw", collInbox: "rw"},
		tokAlice:  {collShared: "rw", collInbox: "w"},
		tokBob:    {collShared: "rw"},
		tokRita:   {collShared: "r", collInbox: "r"},
		tokNobody: {collShared: "r"},
	}
	const (
		seeOnly = iota // answers when the caller can read or write
		read
		write
	)
	endpoints := []struct {
		name   string
		method string
		path   func(coll string) string
		body   string
		need   int
		ok     int
	}{
		{"collection", http.MethodGet, collPath, "", seeOnly, http.StatusOK},
		{"objects", http.MethodGet, objectsPath, "", read, http.StatusOK},
		{"object", http.MethodGet, func(c string) string { return objectPath(c, indID(1)) }, "", read, http.StatusOK},
		{"versions", http.MethodGet, func(c string) string { return objectPath(c, indID(1)) + "versions/" }, "", read, http.StatusOK},
		{"manifest", http.MethodGet, func(c string) string { return collPath(c) + "manifest/" }, "", read, http.StatusOK},
		{"post", http.MethodPost, objectsPath, envelope(malware(1, 1)), write, http.StatusAccepted},
		{"delete", http.MethodDelete, func(c string) string { return objectPath(c, malID(1)) }, "", write, http.StatusOK},
	}
	for token, byColl := range rights {
		// Endpoints outside collections answer everyone.
		for _, p := range []string{"/taxii2/", "/taxii2/root/", "/taxii2/root/collections/", "/taxii2/root/status/" + st.ID + "/"} {
			f.ok(req{path: p, token: token}, http.StatusOK, nil)
		}
		for _, coll := range []string{collShared, collPrivate, collInbox} {
			r := byColl[coll]
			for _, e := range endpoints {
				if e.name == "delete" {
					f.post(coll, malware(1, 1)) // something to delete
				}
				want := e.ok
				switch {
				case r == "":
					want = http.StatusNotFound
				case e.need == read && r == "w", e.need == write && r == "r":
					want = http.StatusForbidden
				}
				resp := f.do(req{method: e.method, path: e.path(coll), token: token, body: e.body})
				what := token + " " + e.name + " on " + coll
				if want >= 400 {
					checkError(t, what, resp, want)
				} else if resp.status != want {
					t.Errorf("%s = %d %s, want %d", what, resp.status, resp.body, want)
				}
				// Basic authentication gives the same answer.
				if resp2 := f.do(req{method: e.method, path: e.path(coll), token: token, basic: token, body: e.body}); e.method == http.MethodGet && resp2.status != resp.status {
					t.Errorf("%s with Basic = %d, with Bearer %d", what, resp2.status, resp.status)
				}
			}
		}
	}
}
