package taxiiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// TestMethods calls every method against a real server, with each request
// encoding.
func TestMethods(t *testing.T) {
	for _, enc := range []Encoding{Zstd, Gzip, None} {
		t.Run(string(enc), func(t *testing.T) {
			ctx := context.Background()
			s := newServer(t, nil)
			c := s.client(t, WithCompression(enc))

			d, err := c.Discovery(ctx)
			if err != nil {
				t.Fatalf("Discovery: %v", err)
			}
			if want := []string{s.rootURL}; d.Title != "test" || !slices.Equal(d.APIRoots, want) {
				t.Errorf("Discovery = %+v, want title test and api_roots %v", d, want)
			}
			root, err := c.APIRoot(ctx)
			if err != nil {
				t.Fatalf("APIRoot: %v", err)
			}
			if !slices.Equal(root.Versions, []string{taxii.MediaType}) || root.MaxContentLength <= 0 {
				t.Errorf("APIRoot = %+v", root)
			}
			cs, err := c.Collections(ctx)
			if err != nil {
				t.Fatalf("Collections: %v", err)
			}
			var ids []string
			for _, col := range cs {
				ids = append(ids, col.ID)
			}
			if diff := cmp.Diff([]string{collA, collB}, ids); diff != "" {
				t.Errorf("Collections ids (-want +got):\n%s", diff)
			}
			col, err := c.Collection(ctx, "a")
			if err != nil {
				t.Fatalf("Collection: %v", err)
			}
			if col.ID != collA || !col.CanRead || !col.CanWrite {
				t.Errorf("Collection(a) = %+v", col)
			}

			// Two versions of indicator 1, one of 2 and 3.
			objs := []json.RawMessage{indicator(1, 1), indicator(1, 2), indicator(2, 1), indicator(3, 1)}
			st, err := c.Add(ctx, collA, objs)
			if err != nil {
				t.Fatalf("Add: %v", err)
			}
			if st.Status != taxii.StatusComplete || st.SuccessCount != 4 || st.FailureCount != 0 {
				t.Errorf("Add = %+v, want 4 successes", st)
			}
			got, err := c.Status(ctx, st.ID)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if got.ID != st.ID || got.SuccessCount != 4 {
				t.Errorf("Status(%s) = %+v, want %+v", st.ID, got, st)
			}

			p, err := c.Objects(ctx, collA, Query{Versions: store.VersionMatch{All: true}})
			if err != nil {
				t.Fatalf("Objects: %v", err)
			}
			gotIDs := objectIDs(t, p.Objects)
			slices.Sort(gotIDs)
			if diff := cmp.Diff([]string{indID(1), indID(1), indID(2), indID(3)}, gotIDs); diff != "" {
				t.Errorf("Objects ids (-want +got):\n%s", diff)
			}
			if p.First.IsZero() || p.Last.Before(p.First) || p.More {
				t.Errorf("Objects: date added %v..%v, more %v", p.First, p.Last, p.More)
			}
			p, err = c.Objects(ctx, collA, Query{Types: []string{"indicator"}, IDs: []string{indID(2)}})
			if err != nil || len(p.Objects) != 1 {
				t.Fatalf("Objects(match[id]) = %d objects, %v; want 1", len(p.Objects), err)
			}

			p, err = c.Object(ctx, collA, indID(1), Query{})
			if err != nil {
				t.Fatalf("Object: %v", err)
			}
			var o struct{ Modified string }
			if len(p.Objects) != 1 || json.Unmarshal(p.Objects[0], &o) != nil || o.Modified != stamp(2) {
				t.Errorf("Object(%s) = %s, want the version of %s", indID(1), p.Objects, stamp(2))
			}

			vs, err := c.Versions(ctx, collA, indID(1), Query{})
			if err != nil {
				t.Fatalf("Versions: %v", err)
			}
			if diff := cmp.Diff([]string{stamp(1), stamp(2)}, vs.Versions.Versions); diff != "" {
				t.Errorf("Versions (-want +got):\n%s", diff)
			}
			if vs.Last.IsZero() {
				t.Errorf("Versions: no %s", HeaderDateAddedLast)
			}

			m, err := c.Manifest(ctx, collA, Query{Limit: 2})
			if err != nil {
				t.Fatalf("Manifest: %v", err)
			}
			if len(m.Objects) != 2 || !m.More || m.Next == "" || m.First.IsZero() {
				t.Errorf("Manifest(limit 2) = %+v", m)
			}

			if err := c.Delete(ctx, collA, indID(1), Query{Versions: store.VersionMatch{First: true}}); err != nil {
				t.Fatalf("Delete first: %v", err)
			}
			vs, err = c.Versions(ctx, collA, indID(1), Query{})
			if err != nil || !slices.Equal(vs.Versions.Versions, []string{stamp(2)}) {
				t.Errorf("Versions after Delete(first) = %v, %v; want [%s]", vs.Versions.Versions, err, stamp(2))
			}
			if err := c.Delete(ctx, collA, indID(1), Query{}); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			_, err = c.Object(ctx, collA, indID(1), Query{})
			if StatusCode(err) != http.StatusNotFound {
				t.Errorf("Object after Delete: %v, want a 404 *taxii.Error", err)
			}

			stats := c.Stats()
			if stats.Retries != 0 || stats.Failures != 1 || stats.BytesRecvRaw == 0 || stats.BytesSentRaw == 0 {
				t.Errorf("Stats = %+v, want no retries, 1 failure and bytes counted", stats)
			}
			if enc == None && stats.BytesSentWire != stats.BytesSentRaw {
				t.Errorf("Stats without compression: sent %d on the wire for %d raw", stats.BytesSentWire, stats.BytesSentRaw)
			}
		})
	}
}

// TestErrors checks that failures are *taxii.Error with the HTTP status and
// that 4xx other than 429 are not retried.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, nil)
	tests := []struct {
		name   string
		opts   []Option
		call   func(c *Client) error
		status int
	}{
		{"bad token", []Option{WithBearer("swt_nope")}, func(c *Client) error { _, err := c.Collections(ctx); return err }, 401},
		{"bad basic", []Option{WithBasic("rita", "swt_nope")}, func(c *Client) error { _, err := c.APIRoot(ctx); return err }, 401},
		{"no such collection", nil, func(c *Client) error { _, err := c.Collection(ctx, "nope"); return err }, 404},
		{"hidden collection", []Option{WithBearer(s.reader)}, func(c *Client) error { _, err := c.Objects(ctx, collB, Query{}); return err }, 404},
		{"read only", []Option{WithBasic("rita", s.reader)}, func(c *Client) error {
			_, err := c.Add(ctx, collA, []json.RawMessage{indicator(1, 1)})
			return err
		}, 403},
		{"bad next", nil, func(c *Client) error { _, err := c.Objects(ctx, collA, Query{Next: "garbage"}); return err }, 400},
		{"no such status", nil, func(c *Client) error { _, err := c.Status(ctx, "00000000-0000-4000-8000-000000000000"); return err }, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.client(t, tt.opts...)
			err := tt.call(c)
			var te *taxii.Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a *taxii.Error", err)
			}
			if got := StatusCode(err); got != tt.status || te.Title == "" {
				t.Errorf("StatusCode(%v) = %d, want %d with a title", err, got, tt.status)
			}
			if st := c.Stats(); st.Requests != 1 || st.Retries != 0 {
				t.Errorf("Stats = %+v, want 1 request and no retry", st)
			}
		})
	}
}

// TestNonTAXIIError: a proxy's plain error page still gives a *taxii.Error.
func TestNonTAXIIError(t *testing.T) {
	s := newServer(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "proxy says no", http.StatusForbidden)
		})
	})
	_, err := s.client(t).APIRoot(context.Background())
	var te *taxii.Error
	if !errors.As(err, &te) || te.HTTPStatus != "403" || te.Title != "Forbidden" || te.Description != "proxy says no" {
		t.Errorf("APIRoot through a plain 403 = %v (%+v), want a 403 *taxii.Error with the text", err, te)
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts []Option
	}{
		{"ftp://x/taxii2/root/", nil},
		{"/taxii2/root/", nil},
		{"http://x/taxii2/root/?a=b", nil},
		{"http://x/taxii2/root/", []Option{WithCompression("br")}},
		{"http://x/taxii2/root/", []Option{WithBackoff(time.Second, time.Millisecond)}},
		{"http://x/taxii2/root/", []Option{WithMaxRetries(-1)}},
		{"http://x/taxii2/root/", []Option{WithBasic("a:b", "c")}},
		{"http://x/taxii2/root/", []Option{WithMaxResponseSize(0)}},
	} {
		if _, err := New(tc.url, tc.opts...); err == nil {
			t.Errorf("New(%q, %d options) = nil error, want one", tc.url, len(tc.opts))
		}
	}
	c, err := New("http://x/taxii2/root")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Collection(context.Background(), "../status"); err == nil || !strings.Contains(err.Error(), "bad path segment") {
		t.Errorf(`Collection("../status") = %v, want a bad path segment error`, err)
	}
}

// TestPages posts 2,500 objects and walks them 1,000 at a time: three
// pages, each object once, with the server's next.
func TestPages(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var queries []string
	s := newServer(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				mu.Lock()
				queries = append(queries, r.URL.RawQuery)
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	})
	c := s.client(t)
	s.add(t, c, collA, indicators(0, 2500))
	ids, pages := walk(t, c.Pages(ctx, collA, Query{Limit: 1000}))
	checkAllOnce(t, ids, 2500)
	if pages != 3 {
		t.Errorf("Pages over 2,500 objects, limit 1000: %d pages, want 3", pages)
	}
	for i, q := range queries {
		if i > 0 && !strings.Contains(q, "next=") {
			t.Errorf("request %d query %q: want next", i, q)
		}
	}

	// Stopping early stops the requests.
	n := 0
	for _, err := range c.Pages(ctx, collA, Query{Limit: 1000}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if before := len(queries); n != 1 || before != 4 {
		t.Errorf("breaking out of Pages after one page: %d pages, %d requests in all; want 1 and 4", n, before)
	}
}

// TestPagesAddedAfter: a server that gives no next is walked with
// added_after = the last page's X-TAXII-Date-Added-Last.
func TestPagesAddedAfter(t *testing.T) {
	ctx := context.Background()
	var queries []string
	s := newServer(t, func(h http.Handler) http.Handler { return dropNext(h, &queries) })
	c := s.client(t)
	s.add(t, c, collA, indicators(0, 2500))
	queries = nil
	ids, pages := walk(t, c.Pages(ctx, collA, Query{Limit: 1000}))
	checkAllOnce(t, ids, 2500)
	if pages != 3 || len(queries) != 3 {
		t.Errorf("Pages: %d pages in %d requests, want 3 and 3", pages, len(queries))
	}
	for i, q := range queries {
		if strings.Contains(q, "next=") || (i > 0) != strings.Contains(q, "added_after=") {
			t.Errorf("request %d query %q: want no next, and added_after after the first", i, q)
		}
	}
}

// dropNext serves h with "next" removed from object envelopes, recording
// the queries of GETs.
func dropNext(h http.Handler, queries *[]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/objects/") {
			h.ServeHTTP(w, r)
			return
		}
		*queries = append(*queries, r.URL.RawQuery)
		r.Header.Del("Accept-Encoding")
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		var env map[string]json.RawMessage
		if err := json.Unmarshal(rec.body.Bytes(), &env); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		delete(env, "next")
		out, _ := json.Marshal(env)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.status)
		w.Write(out)
	})
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}

func walk(t *testing.T, seq func(func(Page, error) bool)) (ids []string, pages int) {
	t.Helper()
	for p, err := range seq {
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		ids = append(ids, objectIDs(t, p.Objects)...)
	}
	return ids, pages
}

func checkAllOnce(t *testing.T, ids []string, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	if len(ids) != n || len(seen) != n {
		t.Errorf("walked %d objects, %d distinct; want %d each once", len(ids), len(seen), n)
	}
	for i := range n {
		if seen[indID(i)] != 1 {
			t.Errorf("%s seen %d times, want once", indID(i), seen[indID(i)])
		}
	}
}
