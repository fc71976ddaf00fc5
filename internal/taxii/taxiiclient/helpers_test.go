package taxiiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/sqlitestore"
	"github.com/shieldwall/shieldwall/internal/taxii/taxiiserver"
)

const (
	collA = "11111111-1111-4111-8111-111111111111"
	collB = "22222222-2222-4222-8222-222222222222" // reader has no grant on it
)

// server is a real taxiiserver over a sqlitestore, served on httptest.
type server struct {
	db      *sqlitestore.DB
	ts      *httptest.Server
	admin   string // admin secret
	reader  string // reader secret (read on collA only)
	rootURL string
}

// newServer starts a server; wrap, when set, puts a handler in front of it.
func newServer(t testing.TB, wrap func(http.Handler) http.Handler) *server {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, c := range []store.Collection{
		{ID: collA, Alias: "a", Title: "A"},
		{ID: collB, Alias: "b", Title: "B"},
	} {
		if _, err := db.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	s := &server{db: db, admin: auth.NewSecret(), reader: auth.NewSecret()}
	if err := db.CreateToken(ctx, store.Token{Name: "root", Role: store.RoleAdmin, Hash: auth.Hash(s.admin)}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, store.Token{Name: "rita", Role: store.RoleReader, Hash: auth.Hash(s.reader)}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetGrant(ctx, store.Grant{CollectionID: collA, Principal: "rita", Read: true}); err != nil {
		t.Fatal(err)
	}
	srv, err := taxiiserver.New(taxiiserver.Options{
		Objects: db, Collections: db, Statuses: db, Tokens: db, Grants: db,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Title:  "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	s.ts = httptest.NewServer(h)
	t.Cleanup(s.ts.Close)
	s.rootURL = s.ts.URL + taxiiserver.APIRootPath
	return s
}

// client makes a client of s as admin with fast retries.
func (s *server) client(t testing.TB, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithBearer(s.admin),
		WithHTTPClient(s.ts.Client()),
		WithBackoff(time.Millisecond, 5*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}
	c, err := New(s.rootURL, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func uuidN(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

func stamp(n int) string {
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute).Format("2006-01-02T15:04:05.000Z")
}

func indID(n int) string { return "indicator--" + uuidN(n) }

// indicator is a valid STIX 2.1 indicator, version v (minutes).
func indicator(n, v int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":%q,"modified":%q,`+
		`"name":"bad ip %d","description":"seen scanning the perimeter","indicator_types":["malicious-activity"],`+
		`"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":%q}`,
		indID(n), stamp(0), stamp(v), n, n/65536%256, n/256%256, n%256, stamp(0)))
}

func indicators(from, n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = indicator(from+i, 1)
	}
	return out
}

// add posts objects as admin, in batches of 1000, checking all succeed.
func (s *server) add(t testing.TB, c *Client, coll string, objs []json.RawMessage) {
	t.Helper()
	for len(objs) > 0 {
		n := min(len(objs), 1000)
		st, err := c.Add(context.Background(), coll, objs[:n])
		if err != nil {
			t.Fatal(err)
		}
		if st.SuccessCount != n {
			t.Fatalf("Add(%d objects): status %+v", n, st)
		}
		objs = objs[n:]
	}
}

// objectIDs returns the id of each object.
func objectIDs(t testing.TB, objs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(objs))
	for i, raw := range objs {
		var o struct{ ID string }
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		out[i] = o.ID
	}
	return out
}
