package taxiiserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/sqlitestore"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// Collections of the fixture, with the grants each has.
const (
	// collShared: analysts read and write, readers read.
	collShared = "11111111-1111-4111-8111-111111111111"
	// collPrivate: no grants, admin only.
	collPrivate = "22222222-2222-4222-8222-222222222222"
	// collInbox: alice may only write; rita (a reader) is granted read
	// and write but, being a reader, only reads.
	collInbox = "33333333-3333-4333-8333-333333333333"
)

// Token names of the fixture.
const (
	tokAdmin   = "root"    // admin
	tokAlice   = "alice"   // analyst, own grant on collInbox
	tokBob     = "bob"     // analyst, only the role grants
	tokRita    = "rita"    // reader
	tokNobody  = "nobody"  // reader, and no grant reaches readers on collPrivate
	tokUnknown = "unknown" // not in the store
)

type fixture struct {
	t       testing.TB
	db      *sqlitestore.DB
	srv     *Server
	ts      *httptest.Server
	secrets map[string]string // token name → secret
	logs    *bytes.Buffer
}

// newFixture opens a sqlitestore in t.TempDir() with the collections,
// tokens and grants above, and serves it over HTTP.
func newFixture(t testing.TB, tweak ...func(*Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, secrets: map[string]string{}, logs: &bytes.Buffer{}}
	for _, c := range []store.Collection{
		{ID: collShared, Alias: "shared", Title: "Shared intel", Description: "for every analyst"},
		{ID: collPrivate, Alias: "private", Title: "Private"},
		{ID: collInbox, Alias: "inbox", Title: "Inbox"},
	} {
		if _, err := db.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for name, role := range map[string]store.Role{
		tokAdmin: store.RoleAdmin, tokAlice: store.RoleAnalyst, tokBob: store.RoleAnalyst,
		tokRita: store.RoleReader, tokNobody: store.RoleReader,
	} {
		secret := auth.NewSecret()
		f.secrets[name] = secret
		if err := db.CreateToken(ctx, store.Token{Name: name, Role: role, Hash: auth.Hash(secret)}); err != nil {
			t.Fatal(err)
		}
	}
	f.secrets[tokUnknown] = auth.NewSecret()
	for _, g := range []store.Grant{
		{CollectionID: collShared, Principal: "role:analyst", Read: true, Write: true},
		{CollectionID: collShared, Principal: "role:reader", Read: true},
		{CollectionID: collInbox, Principal: tokAlice, Write: true},
		{CollectionID: collInbox, Principal: tokRita, Read: true, Write: true},
	} {
		if err := db.SetGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{
		Objects: db, Collections: db, Statuses: db, Tokens: db, Grants: db,
		Logger:      slog.New(slog.NewTextHandler(f.logs, nil)),
		Title:       "Test server",
		Description: "for tests",
		Contact:     "soc@example.org",
	}
	for _, fn := range tweak {
		fn(&opts)
	}
	f.srv, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(f.ts.Close)
	return f
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// req describes a request; zero fields get sensible defaults (admin's
// Bearer token, the TAXII Accept, the TAXII Content-Type when there is a
// body).
type req struct {
	method string
	path   string
	token  string // token name; "-" for none
	basic  string // when set, Basic auth with this user and token's secret
	body   string
	header map[string]string
}

func (f *fixture) do(r req) response {
	f.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, f.ts.URL+r.path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	hr.Header.Set("Accept", taxii.MediaType)
	if r.body != "" {
		hr.Header.Set("Content-Type", taxii.MediaType)
	}
	tok := r.token
	if tok == "" {
		tok = tokAdmin
	}
	switch {
	case tok == "-":
	case r.basic != "":
		hr.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(r.basic+":"+f.secrets[tok])))
	default:
		hr.Header.Set("Authorization", "Bearer "+f.secrets[tok])
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	resp, err := f.ts.Client().Do(hr)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// ok checks a 2xx TAXII response and decodes its body into v (unless nil).
func (f *fixture) ok(r req, wantStatus int, v any) response {
	f.t.Helper()
	resp := f.do(r)
	if resp.status != wantStatus {
		f.t.Fatalf("%s %s = %d %s, want %d", r.method, r.path, resp.status, resp.body, wantStatus)
	}
	if ct := resp.header.Get("Content-Type"); ct != taxii.MediaType {
		f.t.Errorf("%s %s: Content-Type %q, want %q", r.method, r.path, ct, taxii.MediaType)
	}
	if v != nil {
		if err := json.Unmarshal(resp.body, v); err != nil {
			f.t.Fatalf("%s %s: decoding %s: %v", r.method, r.path, resp.body, err)
		}
	}
	return resp
}

// checkError checks that resp is a TAXII error with the given status.
func checkError(t testing.TB, what string, resp response, wantStatus int) taxii.Error {
	t.Helper()
	if resp.status != wantStatus {
		t.Errorf("%s = %d %s, want %d", what, resp.status, resp.body, wantStatus)
	}
	if ct := resp.header.Get("Content-Type"); ct != taxii.MediaType {
		t.Errorf("%s: Content-Type %q, want %q", what, ct, taxii.MediaType)
	}
	var e taxii.Error
	if err := json.Unmarshal(resp.body, &e); err != nil || e.Title == "" {
		t.Errorf("%s: body %s is not a TAXII error (%v)", what, resp.body, err)
	}
	if e.HTTPStatus != fmt.Sprint(wantStatus) {
		t.Errorf("%s: http_status %q, want %d", what, e.HTTPStatus, wantStatus)
	}
	return e
}

// uuidN makes the n-th deterministic UUIDv4.
func uuidN(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}

// stamp is a STIX timestamp n minutes after a fixed instant.
func stamp(n int) string {
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute).Format(stix3)
}

const stix3 = "2006-01-02T15:04:05.000Z"

// indicator returns a valid STIX 2.1 indicator, version v (minutes).
func indicator(n, v int) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":%q,"modified":%q,`+
		`"name":"bad ip %d","pattern":"[ipv4-addr:value = '10.0.%d.%d']","pattern_type":"stix","valid_from":%q}`,
		uuidN(n), stamp(0), stamp(v), n, n/256%256, n%256, stamp(0))
}

// malware returns a valid STIX 2.1 malware object.
func malware(n, v int) string {
	return fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":"malware--%s","created":%q,"modified":%q,`+
		`"name":"family %d","is_family":true}`, uuidN(n), stamp(0), stamp(v), n)
}

func envelope(objs ...string) string {
	return `{"objects":[` + strings.Join(objs, ",") + `]}`
}

// post stores objects in a collection as admin and checks all succeeded.
func (f *fixture) post(coll string, objs ...string) taxii.Status {
	f.t.Helper()
	var st taxii.Status
	f.ok(req{method: http.MethodPost, path: objectsPath(coll), body: envelope(objs...)}, http.StatusAccepted, &st)
	if st.SuccessCount != len(objs) {
		f.t.Fatalf("posting %d objects: status %+v", len(objs), st)
	}
	return st
}

func collPath(coll string) string    { return APIRootPath + "collections/" + coll + "/" }
func objectsPath(coll string) string { return collPath(coll) + "objects/" }
func objectPath(coll, id string) string {
	return objectsPath(coll) + id + "/"
}

// envelopeOut is an envelope as tests read it.
type envelopeOut struct {
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

// ids returns the "id" and "modified" of each object of an envelope.
func (e envelopeOut) ids(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, raw := range e.Objects {
		var o struct{ ID, Modified string }
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o.ID+"@"+o.Modified)
	}
	return out
}

func indID(n int) string { return "indicator--" + uuidN(n) }
func malID(n int) string { return "malware--" + uuidN(n) }
