package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/federation"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/sqlitestore"
)

const testPassword = "correct horse battery"

// fixture is a console over a fresh SQLite store with one user per role,
// a default collection and some alerts.
type fixture struct {
	t    *testing.T
	db   *sqlitestore.DB
	srv  *Server
	ts   *httptest.Server
	coll store.Collection

	mu    sync.Mutex
	peers []federation.State
}

var hashOnce struct {
	sync.Once
	h string
}

// testHash is one argon2id hash of testPassword, made once: hashing is
// deliberately slow.
func testHash(t *testing.T) string {
	hashOnce.Do(func() {
		h, err := HashPassword(testPassword)
		if err != nil {
			t.Fatal(err)
		}
		hashOnce.h = h
	})
	return hashOnce.h
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	coll, err := db.CreateCollection(ctx, store.Collection{Alias: "default", Title: "Default", MediaTypes: []string{"application/stix+json;version=2.1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []store.Grant{{CollectionID: coll.ID, Principal: "role:analyst", Read: true, Write: true}, {CollectionID: coll.ID, Principal: "role:reader", Read: true}} {
		if err := db.SetGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		name string
		role store.Role
	}{{"ada", store.RoleAdmin}, {"ana", store.RoleAnalyst}, {"vic", store.RoleViewer}} {
		if err := db.CreateUser(ctx, store.User{Name: u.name, Role: u.role, PasswordHash: testHash(t)}); err != nil {
			t.Fatal(err)
		}
	}
	var alerts []store.AlertRecord
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for i, l := range []string{"critical", "high", "medium", "low", "high"} {
		a := detect.Alert{ID: fmt.Sprintf("alert-%d", i), Engine: "sigma", RuleID: fmt.Sprintf("rule-%d", i%2), RuleTitle: fmt.Sprintf("Suspicious thing %d", i),
			Level: l, Tags: []string{"attack.execution", "attack.t1059.001", "attack.g0007", "attack.s0002"}, Source: fmt.Sprintf("host%d.evtx", i),
			Time: base.Add(time.Duration(i) * time.Minute), Matches: []detect.Match{{Field: "CommandLine", Value: "powershell -enc <b>x</b>"}},
			Event: json.RawMessage(`{"EventID":4688,"CommandLine":"powershell -enc <b>x</b>"}`)}
		b, _ := json.Marshal(a)
		alerts = append(alerts, store.AlertRecord{ID: a.ID, Time: a.Time, Engine: a.Engine, RuleID: a.RuleID, Level: a.Level, Source: a.Source, JSON: b})
	}
	if _, err := db.PutAlerts(ctx, alerts); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, coll: coll}
	f.peers = []federation.State{{Peer: "north", Link: federation.LinkConnected, LagObjects: 3, LagSeconds: 12, BytesIn: 2048, Sent: 7},
		{Peer: "south", Link: federation.LinkCut, LastError: "dial tcp: refused", ConsecutiveFailures: 4}}
	srv, err := New(Options{Store: db, NodeName: "hq", EventInterval: 20 * time.Millisecond,
		Peers: func() []federation.State {
			f.mu.Lock()
			defer f.mu.Unlock()
			return append([]federation.State(nil), f.peers...)
		},
		Rules: func() ([]RuleInfo, bool) {
			return []RuleInfo{{ID: "rule-0", Title: "Suspicious thing", Level: "high", Path: "rules/r0.yml", Tags: []string{"attack.execution", "attack.t1059.001"}},
				{ID: "rule-9", Title: "Covered only", Tags: []string{"attack.persistence", "attack.t1547"}}}, true
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	f.ts = httptest.NewServer(srv)
	t.Cleanup(f.ts.Close)
	return f
}

// client is a browser-like client: a cookie jar, no redirects followed.
type client struct {
	f    *fixture
	hc   *http.Client
	csrf string
}

func (f *fixture) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) get(path string) (int, string, http.Header) {
	c.f.t.Helper()
	resp, err := c.hc.Get(c.f.ts.URL + path)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b), resp.Header
}

// post sends a form; the session's CSRF token is added unless form has one.
func (c *client) post(path string, form url.Values) (int, string, http.Header) {
	c.f.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, c.f.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (f *fixture) login(name string) *client {
	f.t.Helper()
	c := f.anon()
	c.get("/login")
	status, body, h := c.post("/login", url.Values{"name": {name}, "password": {testPassword}, "next": {"/alerts"}})
	if status != http.StatusSeeOther || h.Get("Location") != "/alerts" {
		f.t.Fatalf("login %s = %d (Location %q)\n%s", name, status, h.Get("Location"), body)
	}
	c.get("/") // picks up the session's CSRF token
	return c
}

func (f *fixture) triage(id string) store.Triage {
	f.t.Helper()
	a, err := f.db.Alert(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a.Triage
}

func (f *fixture) objectCount() int {
	f.t.Helper()
	p, err := f.db.Query(context.Background(), f.coll.ID, store.Filter{Versions: store.VersionMatch{All: true}})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(p.Records)
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	c := f.login("ada")
	for _, p := range []string{"/login", "/", "/alerts", "/alerts/alert-0", "/intel", "/attack", "/sharing", "/peers", "/intel/indicator", "/intel/import", "/nope", "/static/console.js"} {
		_, _, h := c.get(p)
		want := map[string]string{
			"Content-Security-Policy": contentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", p, k, got, v)
			}
		}
	}
	if !strings.Contains(contentSecurityPolicy, "frame-ancestors 'none'") || !strings.Contains(contentSecurityPolicy, "script-src 'self';") {
		t.Errorf("CSP %q lost frame-ancestors or script-src", contentSecurityPolicy)
	}
}

func TestNoInlineScriptOrStyle(t *testing.T) {
	f := newFixture(t)
	c := f.login("ada")
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|\son[a-z]+=|\sstyle=|<style`)
	external := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`)
	for _, p := range []string{"/", "/alerts", "/alerts/alert-0", "/intel", "/attack", "/sharing", "/peers", "/intel/indicator", "/intel/import"} {
		_, body, _ := c.get(p)
		if m := inline.FindString(body); m != "" {
			t.Errorf("GET %s has inline script or style: %q", p, m)
		}
		if m := external.FindString(body); m != "" {
			t.Errorf("GET %s loads from another origin: %q", p, m)
		}
	}
}

func TestSignedOutRedirects(t *testing.T) {
	f := newFixture(t)
	c := f.anon()
	for _, p := range []string{"/", "/alerts", "/alerts/alert-0", "/intel", "/intel/object?id=x--1", "/attack", "/sharing", "/peers", "/intel/indicator", "/intel/import"} {
		status, _, h := c.get(p)
		if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
			t.Errorf("GET %s signed out = %d to %q, want 303 to /login", p, status, h.Get("Location"))
		}
	}
	for _, p := range []string{"/alerts/alert-0/triage", "/alerts/bulk", "/intel/indicator", "/intel/revoke", "/intel/import", "/logout"} {
		if status, _, _ := c.post(p, url.Values{"csrf": {"x"}}); status != http.StatusUnauthorized {
			t.Errorf("POST %s signed out = %d, want 401", p, status)
		}
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	t.Run("cookie", func(t *testing.T) {
		c := f.anon()
		c.get("/login")
		_, _, h := c.post("/login", url.Values{"name": {"ana"}, "password": {testPassword}})
		ck := (&http.Response{Header: h}).Cookies()
		var sess *http.Cookie
		for _, k := range ck {
			if k.Name == sessionCookie {
				sess = k
			}
		}
		if sess == nil {
			t.Fatalf("no session cookie in %v", h["Set-Cookie"])
		}
		if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" || len(sess.Value) < 43 {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, 256-bit value", sess)
		}
		// The store keeps the hash, not the id.
		if _, err := f.db.Session(context.Background(), []byte(sess.Value)); err == nil {
			t.Error("the session id itself is a key of the store")
		}
		if _, err := f.db.Session(context.Background(), hashSessionID(sess.Value)); err != nil {
			t.Errorf("session hash not stored: %v", err)
		}
	})
	tests := []struct {
		name, user, password string
		csrf                 bool
		want                 int
	}{
		{"wrong password", "ana", "not the password", true, http.StatusUnauthorized},
		{"unknown user", "nobody", testPassword, true, http.StatusUnauthorized},
		{"no csrf", "ana", testPassword, false, http.StatusForbidden},
		{"empty name", "", testPassword, true, http.StatusBadRequest},
		{"long name", strings.Repeat("x", 65), testPassword, true, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := f.anon()
			c.get("/login")
			form := url.Values{"name": {tc.user}, "password": {tc.password}}
			if !tc.csrf {
				form.Set("csrf", "")
			}
			status, body, _ := c.post("/login", form)
			if status != tc.want {
				t.Errorf("login = %d, want %d", status, tc.want)
			}
			if !strings.Contains(body, `class="msg error"`) {
				t.Errorf("login refusal shows no message:\n%s", body)
			}
			if status, _, _ := c.get("/alerts"); status != http.StatusSeeOther {
				t.Errorf("after a refused login, /alerts = %d, want 303 to sign in", status)
			}
		})
	}
	t.Run("logout", func(t *testing.T) {
		c := f.login("vic")
		if status, _, _ := c.post("/logout", url.Values{}); status != http.StatusSeeOther {
			t.Fatalf("logout = %d", status)
		}
		if status, _, _ := c.get("/alerts"); status != http.StatusSeeOther {
			t.Errorf("after logout /alerts = %d, want 303", status)
		}
	})
	t.Run("open redirect", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
			if got := safeNext(next); got != "/" {
				t.Errorf("safeNext(%q) = %q, want /", next, got)
			}
		}
		if got := safeNext("/alerts?level=high"); got != "/alerts?level=high" {
			t.Errorf("safeNext(local) = %q", got)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	f.srv.limiter = newLoginLimiter(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c := f.anon()
	for i := range loginBurst {
		c.get("/login")
		if status, _, _ := c.post("/login", url.Values{"name": {"ana"}, "password": {"wrong password!"}}); status != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d, want 401", i, status)
		}
	}
	c.get("/login")
	if status, _, _ := c.post("/login", url.Values{"name": {"ana"}, "password": {testPassword}}); status != http.StatusTooManyRequests {
		t.Errorf("right password after %d failures = %d, want 429", loginBurst, status)
	}
	mu.Lock()
	now = now.Add(loginRefill + time.Second)
	mu.Unlock()
	c.get("/login")
	if status, _, _ := c.post("/login", url.Values{"name": {"ana"}, "password": {testPassword}}); status != http.StatusSeeOther {
		t.Errorf("right password after the refill = %d, want 303", status)
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.db.LogDecisions(ctx, []store.FedDecision{{ObjectID: "indicator--7d6a5b4c-0000-4000-8000-000000000001", Version: time.Now(), Peer: "north",
		Action: "deny", Rule: "tlp:red", Reason: "TLP:RED is for named recipients only", Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{"Needs attention now", "Suspicious thing 0", "south", `data-graph="`, "north", "T1059.001", "G0007", "S0002", `id="alertchart"`}},
		{"/alerts", []string{"Suspicious thing 4", "host3.evtx", "untriaged"}},
		{"/alerts?level=critical", []string{"Suspicious thing 0"}},
		{"/alerts/alert-1", []string{"Suspicious thing 1", "CommandLine", "powershell -enc &lt;b&gt;x&lt;/b&gt;", "EventID"}},
		{"/alerts/alert-0", []string{"rules/r0.yml"}},
		{"/intel", []string{"Default", "Nothing found"}},
		{"/attack", []string{"T1059.001", "T1547", "execution", "persistence", "Detected without a loaded rule: 0", "covered but not detected: 1"}},
		{"/sharing", []string{"TLP:RED is for named recipients only", "deny", "north"}},
		{"/sharing?peer=south", []string{"No decision recorded yet"}},
		{"/peers", []string{"north", "dial tcp: refused", "2.0 KiB", "does not count the backlog by priority"}},
	}
	for _, role := range []string{"ada", "ana", "vic"} {
		c := f.login(role)
		for _, p := range pages {
			status, body, _ := c.get(p.path)
			if status != http.StatusOK {
				t.Errorf("%s: GET %s = %d, want 200", role, p.path, status)
				continue
			}
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s: GET %s lacks %q", role, p.path, w)
				}
			}
		}
	}
	c := f.login("vic")
	if _, body, _ := c.get("/alerts/alert-0"); strings.Contains(body, "Save triage") {
		t.Error("a viewer is offered the triage form")
	}
	if status, _, _ := c.get("/alerts/nope"); status != http.StatusNotFound {
		t.Errorf("GET /alerts/nope = %d, want 404", status)
	}
}

func TestPagesSayWhatIsNotBuilt(t *testing.T) {
	f := newFixture(t)
	srv, err := New(Options{Store: f.db, NodeName: "solo"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	f.ts = ts
	c := f.login("ana")
	for _, p := range []struct{ path, want string }{
		{"/", "No federation peers are configured"},
		{"/peers", "No federation peers are configured"},
		{"/sharing", "No federation peers are configured"},
		{"/attack", "This node runs no detection"},
	} {
		if _, body, _ := c.get(p.path); !strings.Contains(body, p.want) {
			t.Errorf("GET %s lacks %q", p.path, p.want)
		}
	}
}

func TestBadQueryParameters(t *testing.T) {
	f := newFixture(t)
	c := f.login("vic")
	tests := []struct{ path, want string }{
		{"/alerts?level=severe", `level: &#34;severe&#34; is not one of`},
		{"/alerts?engine=yara", "engine: "},
		{"/alerts?verdict=maybe", "verdict: "},
		{"/alerts?sort=random", "sort: "},
		{"/alerts?page=0", "page: "},
		{"/alerts?page=abc", "page: "},
		{"/alerts?page=99999999", "page: "},
		{"/alerts?q=" + strings.Repeat("a", 201), "q: at most 200"},
		{"/alerts?rule=%01", "rule: control characters"},
		{"/alerts?q=%ff", "q: not valid UTF-8"},
		{"/alerts?level=high&level=low", "level: given 2 times"},
		{"/alerts?after=abc", "after: &#34;abc&#34; is not a page position"},
		{"/alerts?before=0", "before: &#34;0&#34; is not a page position"},
		{"/alerts?after=-3", "after: "},
		{"/alerts?after=%2B3", "after: "},
		{"/alerts?after=99999999999999999999", "after: "},
		{"/alerts?after=4.12", "after: "},            // a level cursor for the newest-first sort
		{"/alerts?sort=level&after=12", "after: "},   // no rank
		{"/alerts?sort=level&after=9.12", "after: "}, // no such rank
		{"/alerts?sort=level&before=4.", "before: "}, // no number
		{"/alerts?after=1&before=2", "after and before: give one"},
		{"/alerts?after=1&after=2", "after: given 2 times"},
		{"/alerts?page=3", "page: a page number alone"},
		{"/intel?type=Bad_Type", "type: "},
		{"/intel?id=notanid", "id: "},
		{"/intel?coll=nope", "coll: no collection"},
		{"/intel?next=garbage", "next: not a cursor"},
		{"/intel?q=ab", "q: &#34;ab&#34; is too short"},
		{"/intel?q=+x+", "q: &#34;x&#34; is too short"},
		{"/intel?q=beacon&next=q1.garbage", "next: not a cursor"},
		{"/sharing?before=-1", "before: "},
		{"/sharing?peer=%00", "peer: control characters"},
	}
	for _, tc := range tests {
		status, body, _ := c.get(tc.path)
		if status != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", tc.path, status)
		}
		if !strings.Contains(body, tc.want) {
			t.Errorf("GET %s lacks the message %q", tc.path, tc.want)
		}
	}
	for _, p := range []string{"/intel/object?id=", "/intel/object?id=indicator--00000000-0000-4000-8000-000000000000", "/intel/object?coll=nope&id=x--1"} {
		if status, _, _ := c.get(p); status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 400 or 404", p, status)
		}
	}
}

func TestAlertFilters(t *testing.T) {
	f := newFixture(t)
	c := f.login("vic")
	rowRE := regexp.MustCompile(`href="/alerts/(alert-\d)"`)
	tests := []struct {
		q    string
		want []string
	}{
		{"", []string{"alert-4", "alert-3", "alert-2", "alert-1", "alert-0"}},
		{"level=high", []string{"alert-4", "alert-1"}},
		{"rule=rule-1", []string{"alert-3", "alert-1"}},
		{"sort=oldest", []string{"alert-0", "alert-1", "alert-2", "alert-3", "alert-4"}},
		{"sort=level", []string{"alert-0", "alert-4", "alert-1", "alert-2", "alert-3"}},
		{"q=host2", []string{"alert-2"}},
		{"engine=ioc", nil},
		{"verdict=true_positive", nil},
	}
	for _, tc := range tests {
		_, body, _ := c.get("/alerts?" + tc.q)
		var got []string
		for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
			if len(got) == 0 || got[len(got)-1] != m[1] {
				got = append(got, m[1])
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("/alerts?%s (-want +got):\n%s", tc.q, diff)
		}
	}
}

// TestAlertsPagesByCursor follows the next page links to the end and the
// previous page links back, in each sort order, while alerts are added: no
// alert is skipped or shown twice, and the links carry cursors, not offsets.
func TestAlertsPagesByCursor(t *testing.T) {
	f := newFixture(t)
	c := f.login("vic")
	ctx := context.Background()
	put := func(from, n int) {
		var as []store.AlertRecord
		for i := from; i < from+n; i++ {
			a := detect.Alert{ID: fmt.Sprintf("page-%03d", i), Engine: "sigma", RuleID: "rule-p", RuleTitle: fmt.Sprintf("Paged %d", i),
				Level: levels[i%len(levels)], Source: "pager.evtx", Time: time.Date(2026, 12, 1, 0, 0, i, 0, time.UTC)}
			b, _ := json.Marshal(a)
			as = append(as, store.AlertRecord{ID: a.ID, Time: a.Time, Engine: a.Engine, RuleID: a.RuleID, Level: a.Level, Source: a.Source, JSON: b})
		}
		if _, err := f.db.PutAlerts(ctx, as); err != nil {
			t.Fatal(err)
		}
	}
	put(0, 130)
	rowRE := regexp.MustCompile(`href="/alerts/(page-\d+)"`)
	nextRE := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	prevRE := regexp.MustCompile(`<a href="([^"]+)" rel="prev">`)
	added := 130
	for _, filter := range []string{"q=paged", "sort=oldest&amp;q=paged", "sort=level&amp;q=pager"} {
		var seen []string
		var links []string
		link := "/alerts?" + strings.ReplaceAll(filter, "&amp;", "&")
		for n := 1; link != ""; n++ {
			status, body, _ := c.get(link)
			if status != http.StatusOK {
				t.Fatalf("GET %s = %d: %.300s", link, status, body)
			}
			var rows []string
			for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
				rows = append(rows, m[1])
			}
			if !strings.Contains(body, fmt.Sprintf("Page %d: alerts %d–", n, (n-1)*alertsPerPage+1)) {
				t.Errorf("%s: page %d is not numbered so", link, n)
			}
			seen = append(seen, rows...)
			links = append(links, link)
			link = ""
			if m := nextRE.FindStringSubmatch(body); m != nil {
				link = strings.ReplaceAll(m[1], "&amp;", "&")
				if strings.Contains(link, "page=") && !strings.Contains(link, "after=") {
					t.Errorf("next link %s has no cursor", link)
				}
			}
			if n == 1 {
				put(added, 5) // between pages: no skip, no repeat
				added += 5
			}
		}
		count := map[string]int{}
		for _, id := range seen {
			count[id]++
		}
		for id, k := range count {
			if k != 1 {
				t.Errorf("%s: %s shown %d times", filter, id, k)
			}
		}
		if len(seen) < 130 {
			t.Errorf("%s: %d alerts shown over %d pages, want at least 130", filter, len(seen), len(links))
		}
		// Back from the last page: each previous link leads to a page
		// with rows, and the first page has no previous link.
		link = links[len(links)-1]
		for range len(links) + 2 {
			_, body, _ := c.get(link)
			m := prevRE.FindStringSubmatch(body)
			if m == nil {
				if !strings.Contains(body, "Page 1: alerts 1–") {
					t.Errorf("%s: no previous link on a page other than the first: %s", filter, link)
				}
				var rows []string
				for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
					rows = append(rows, m[1])
				}
				if strings.Contains(filter, "level") && len(rows) != alertsPerPage || len(rows) == 0 {
					t.Errorf("%s: the first page, reached back, has %d rows", filter, len(rows))
				}
				break
			}
			link = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
}

func TestTriage(t *testing.T) {
	f := newFixture(t)
	c := f.login("ana")
	c.get("/alerts/alert-2")
	status, _, h := c.post("/alerts/alert-2/triage", url.Values{"assignee": {"ana"}, "verdict": {"true_positive"}, "note": {"confirmed\nwith the owner"}})
	if status != http.StatusSeeOther || h.Get("Location") != "/alerts/alert-2?saved=1" {
		t.Fatalf("triage = %d to %q", status, h.Get("Location"))
	}
	got := f.triage("alert-2")
	if got.Verdict != store.VerdictTruePositive || got.Assignee != "ana" || got.Note != "confirmed\nwith the owner" || got.By != "ana" {
		t.Errorf("stored triage = %+v", got)
	}
	if _, body, _ := c.get("/alerts?verdict=true_positive"); !strings.Contains(body, "/alerts/alert-2") {
		t.Error("the verdict filter does not find the triaged alert")
	}
	bad := []struct {
		name string
		form url.Values
		want string
	}{
		{"verdict", url.Values{"verdict": {"maybe"}}, "verdict: "},
		{"assignee", url.Values{"assignee": {"mallory"}}, "assignee: no user named"},
		{"note length", url.Values{"note": {strings.Repeat("n", maxNote+1)}}, "note: at most"},
		{"note control", url.Values{"note": {"a\x00b"}}, "note: control characters"},
	}
	for _, tc := range bad {
		status, body, _ := c.post("/alerts/alert-3/triage", tc.form)
		if status != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("triage with bad %s = %d, want 400 with %q", tc.name, status, tc.want)
		}
		if got := f.triage("alert-3"); got != (store.Triage{}) {
			t.Errorf("triage with bad %s stored %+v", tc.name, got)
		}
	}
	if status, _, _ := c.post("/alerts/nope/triage", url.Values{"verdict": {"true_positive"}}); status != http.StatusNotFound {
		t.Errorf("triage of an unknown alert = %d, want 404", status)
	}
}

func TestBulkTriage(t *testing.T) {
	f := newFixture(t)
	c := f.login("ada")
	status, _, h := c.post("/alerts/bulk", url.Values{"id": {"alert-0", "alert-1"}, "action": {"false_positive"}, "return": {"?level=high"}})
	if status != http.StatusSeeOther || h.Get("Location") != "/alerts?level=high" {
		t.Fatalf("bulk = %d to %q", status, h.Get("Location"))
	}
	for _, id := range []string{"alert-0", "alert-1"} {
		if got := f.triage(id); got.Verdict != store.VerdictFalsePositive || got.By != "ada" {
			t.Errorf("%s after bulk = %+v", id, got)
		}
	}
	if status, _, _ := c.post("/alerts/bulk", url.Values{"id": {"alert-0"}, "action": {"assign"}, "assignee": {"vic"}}); status != http.StatusSeeOther {
		t.Fatalf("bulk assign = %d", status)
	}
	if got := f.triage("alert-0"); got.Assignee != "vic" || got.Verdict != store.VerdictFalsePositive {
		t.Errorf("bulk assign kept the verdict? %+v", got)
	}
	bad := []url.Values{
		{"action": {"false_positive"}},
		{"id": {"alert-3"}, "action": {"explode"}},
		{"id": {"alert-3", "nope"}, "action": {"true_positive"}},
		{"id": {"alert-3"}, "action": {"assign"}, "assignee": {"mallory"}},
		{"id": {"alert-3", "x\x00"}, "action": {"true_positive"}},
	}
	for _, form := range bad {
		if status, body, _ := c.post("/alerts/bulk", form); status != http.StatusBadRequest || !strings.Contains(body, "Nothing was changed") {
			t.Errorf("bulk %v = %d, want 400 with a message", form, status)
		}
		if got := f.triage("alert-3"); got != (store.Triage{}) {
			t.Errorf("refused bulk %v stored %+v", form, got)
		}
	}
}

func TestRights(t *testing.T) {
	f := newFixture(t)
	v := f.login("vic")
	posts := []struct {
		path string
		form url.Values
	}{
		{"/alerts/alert-0/triage", url.Values{"verdict": {"true_positive"}}},
		{"/alerts/bulk", url.Values{"id": {"alert-0"}, "action": {"true_positive"}}},
		{"/intel/indicator", url.Values{"name": {"x"}, "pattern": {"[ipv4-addr:value = '198.51.100.1']"}, "tlp": {"green"}}},
		{"/intel/revoke", url.Values{"id": {"indicator--00000000-0000-4000-8000-000000000000"}}},
	}
	before := f.objectCount()
	for _, p := range posts {
		if status, body, _ := v.post(p.path, p.form); status != http.StatusForbidden || !strings.Contains(body, "may not do this") {
			t.Errorf("viewer POST %s = %d, want 403 with a reason", p.path, status)
		}
	}
	for _, p := range []string{"/intel/indicator", "/intel/import"} {
		if status, _, _ := v.get(p); status != http.StatusForbidden {
			t.Errorf("viewer GET %s = %d, want 403", p, status)
		}
	}
	if got := f.triage("alert-0"); got != (store.Triage{}) {
		t.Errorf("a viewer's triage was stored: %+v", got)
	}
	if n := f.objectCount(); n != before {
		t.Errorf("a viewer stored %d objects", n-before)
	}
	// An analyst without a write grant on the collection may not write it.
	ctx := context.Background()
	if err := f.db.SetGrant(ctx, store.Grant{CollectionID: f.coll.ID, Principal: "role:analyst", Read: true}); err != nil {
		t.Fatal(err)
	}
	a := f.login("ana")
	if status, _, _ := a.post("/intel/indicator", posts[2].form); status != http.StatusForbidden {
		t.Errorf("analyst without a write grant POST /intel/indicator = %d, want 403", status)
	}
	if n := f.objectCount(); n != before {
		t.Errorf("an analyst without a grant stored %d objects", n-before)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.login("ana")
	other := f.login("ada")
	for _, tok := range []string{"", "forged", other.csrf} {
		status, body, _ := c.post("/alerts/alert-0/triage", url.Values{"verdict": {"true_positive"}, "csrf": {tok}})
		if status != http.StatusForbidden || !strings.Contains(body, "security token") {
			t.Errorf("triage with csrf %q = %d, want 403", tok, status)
		}
	}
	before := f.objectCount()
	if status, _, _ := c.post("/intel/indicator", url.Values{"name": {"x"}, "pattern": {"[ipv4-addr:value = '198.51.100.1']"}, "tlp": {"green"}, "csrf": {"forged"}}); status != http.StatusForbidden {
		t.Errorf("indicator with a forged token = %d, want 403", status)
	}
	if got := f.triage("alert-0"); got != (store.Triage{}) {
		t.Errorf("triage stored despite the CSRF refusal: %+v", got)
	}
	if f.objectCount() != before {
		t.Error("indicator stored despite the CSRF refusal")
	}
	// A cross-site POST is refused even with the right token.
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/alerts/alert-0/triage", strings.NewReader(url.Values{"verdict": {"true_positive"}, "csrf": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", resp.StatusCode)
	}
}

func TestIndicatorLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.login("ana")
	c.get("/intel/indicator")
	good := url.Values{"name": {"C2 server"}, "pattern": {"[ipv4-addr:value = '198.51.100.7']"}, "tlp": {"amber"}, "confidence": {"80"}, "description": {"Seen\nin the wild"}}
	status, _, h := c.post("/intel/indicator", good)
	if status != http.StatusSeeOther {
		t.Fatalf("create = %d", status)
	}
	loc, _ := url.Parse(h.Get("Location"))
	id := loc.Query().Get("id")
	obj, recs, err := f.srv.latestObject(ctx, f.coll.ID, id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("created indicator %q: %v (%d versions)", id, err, len(recs))
	}
	if tlp, ok := stix.ObjectTLP(obj); !ok || tlp.Level != "amber" {
		t.Errorf("indicator TLP = %v %v, want amber", tlp, ok)
	}
	if sm := summarize(obj); sm.Name != "C2 server" || sm.Pattern != "[ipv4-addr:value = '198.51.100.7']" || sm.Conf == nil || *sm.Conf != 80 {
		t.Errorf("indicator = %s", obj.Raw)
	}
	_, body, _ := c.get(h.Get("Location"))
	for _, w := range []string{"Indicator created", "TLP:AMBER", "Revoke", "Edit (new version)"} {
		if !strings.Contains(body, w) {
			t.Errorf("object page lacks %q", w)
		}
	}
	// Edit: a new version, TLP replaced.
	edit := url.Values{"id": {id}, "coll": {f.coll.ID}, "name": {"C2 server (confirmed)"}, "pattern": {"[ipv4-addr:value = '198.51.100.7']"}, "tlp": {"red"}}
	if status, body, _ := c.post("/intel/indicator", edit); status != http.StatusSeeOther {
		t.Fatalf("edit = %d\n%s", status, body)
	}
	obj, recs, _ = f.srv.latestObject(ctx, f.coll.ID, id)
	if len(recs) != 2 || summarize(obj).Name != "C2 server (confirmed)" {
		t.Errorf("after edit: %d versions, latest %s", len(recs), obj.Raw)
	}
	if tlp, _ := stix.ObjectTLP(obj); tlp.Level != "red" || len(summarize(obj).Markings) != 1 {
		t.Errorf("after edit markings = %v", summarize(obj).Markings)
	}
	// Bad input in every field: 400, a message naming the field, nothing stored.
	before := f.objectCount()
	bad := []struct {
		field, value, want string
	}{
		{"name", "", "name: required"},
		{"name", strings.Repeat("n", 201), "name: at most"},
		{"pattern", "", "pattern: required"},
		{"pattern", "[ipv4-addr:value = ", "pattern: "},
		{"pattern", "not a pattern", "pattern: "},
		{"tlp", "purple", "tlp: "},
		{"tlp", "", "tlp: "},
		{"confidence", "101", "confidence: "},
		{"confidence", "high", "confidence: "},
		{"valid_from", "yesterday", "valid_from: "},
		{"description", "a\x01b", "description: control"},
		{"coll", "nope", "No collection"},
		{"id", "indicator--00000000-0000-4000-8000-000000000000", "No indicator"},
	}
	for _, tc := range bad {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		form.Set(tc.field, tc.value)
		status, body, _ := c.post("/intel/indicator", form)
		if status < 400 || status > 404 || !strings.Contains(body, tc.want) {
			t.Errorf("indicator with %s=%q = %d, want a 4xx with %q", tc.field, tc.value, status, tc.want)
		}
		if strings.Contains(body, "Nothing was stored") && !strings.Contains(body, `value="`+good.Get("name")+`"`) && tc.field != "name" {
			t.Errorf("indicator with bad %s: the form lost what was typed", tc.field)
		}
	}
	if n := f.objectCount(); n != before {
		t.Errorf("refused indicator forms stored %d objects", n-before)
	}
	// Revoke: a revoked version; revoking or editing again is refused.
	if status, _, _ := c.post("/intel/revoke", url.Values{"id": {id}, "coll": {f.coll.ID}}); status != http.StatusSeeOther {
		t.Fatalf("revoke = %d", status)
	}
	obj, recs, _ = f.srv.latestObject(ctx, f.coll.ID, id)
	if !obj.Revoked || len(recs) != 3 {
		t.Errorf("after revoke: revoked %v, %d versions", obj.Revoked, len(recs))
	}
	if status, _, _ := c.post("/intel/revoke", url.Values{"id": {id}, "coll": {f.coll.ID}}); status != http.StatusBadRequest {
		t.Errorf("revoke twice = %d, want 400", status)
	}
	if status, _, _ := c.post("/intel/indicator", edit); status != http.StatusBadRequest {
		t.Errorf("edit of a revoked indicator = %d, want 400", status)
	}
	if status, _, _ := c.post("/intel/revoke", url.Values{"id": {""}}); status != http.StatusBadRequest {
		t.Errorf("revoke without id = %d, want 400", status)
	}
	if _, body, _ := c.get("/intel?type=indicator"); !strings.Contains(body, "C2 server (confirmed)") || !strings.Contains(body, "revoked") {
		t.Error("the search does not list the revoked indicator as revoked")
	}
}

func TestInjectedScriptIsEscaped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	ind := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":%q,"pattern":"[ipv4-addr:value = '192.0.2.1']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, evil)
	rel := `{"type":"relationship","spec_version":"2.1","id":"relationship--22222222-2222-4222-8222-222222222222","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"indicator--11111111-1111-4111-8111-111111111111","target_ref":"malware--33333333-3333-4333-8333-333333333333"}`
	var objs []stix.Object
	for _, raw := range []string{ind, rel} {
		o, _, err := stix.Decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	if _, err := f.db.Put(ctx, f.coll.ID, objs); err != nil {
		t.Fatal(err)
	}
	a := detect.Alert{ID: "evil", Engine: "ioc", RuleID: evil, RuleTitle: evil, Level: "high", Source: evil, Event: json.RawMessage(fmt.Sprintf(`{"x":%q}`, evil))}
	b, _ := json.Marshal(a)
	if _, err := f.db.PutAlerts(ctx, []store.AlertRecord{{ID: a.ID, Engine: a.Engine, RuleID: a.RuleID, Level: a.Level, Source: a.Source, JSON: b}}); err != nil {
		t.Fatal(err)
	}
	c := f.login("ana")
	for _, p := range []string{"/intel?type=indicator", "/intel/object?id=indicator--11111111-1111-4111-8111-111111111111", "/alerts", "/alerts/evil", "/",
		"/intel/indicator?id=indicator--11111111-1111-4111-8111-111111111111&coll=" + f.coll.ID, "/alerts?q=" + url.QueryEscape(evil)} {
		status, body, _ := c.get(p)
		if status != http.StatusOK {
			t.Errorf("GET %s = %d", p, status)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s echoes the injected markup unescaped", p)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)") && !strings.Contains(body, `\u003cscript\u003e`) && !strings.Contains(body, "&#34;\\u003cscript") {
			t.Errorf("GET %s does not show the name at all (escaped)", p)
		}
	}
	if _, body, _ := c.get("/intel/object?id=indicator--11111111-1111-4111-8111-111111111111"); !strings.Contains(body, "malware--33333333") || !strings.Contains(body, "indicates") {
		t.Error("the relationship graph lacks the related malware")
	}
}

func multipartPost(t *testing.T, c *client, path string, fields map[string]string, fileName, content string) (int, string) {
	t.Helper()
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileName != "" {
		fw, _ := mw.CreateFormFile("file", fileName)
		io.WriteString(fw, content)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.f.ts.URL+path, strings.NewReader(buf.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestImport(t *testing.T) {
	f := newFixture(t)
	c := f.login("ana")
	bundle := `{"type":"bundle","id":"bundle--44444444-4444-4444-8444-444444444444","objects":[` +
		`{"type":"malware","spec_version":"2.1","id":"malware--55555555-5555-4555-8555-555555555555","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Imported Rat","is_family":true},` +
		`{"type":"malware","spec_version":"2.1","id":"not-an-id"}]}`
	status, body := multipartPost(t, c, "/intel/import", map[string]string{"csrf": c.csrf, "format": "auto"}, "feed.json", bundle)
	if status != http.StatusOK || !strings.Contains(body, "Imported feed.json") {
		t.Fatalf("import = %d\n%s", status, body)
	}
	if !regexp.MustCompile(`<dt>Stored</dt><dd>1</dd>`).MatchString(body) || !regexp.MustCompile(`<dt>Rejected</dt><dd>1</dd>`).MatchString(body) {
		t.Errorf("import report wrong:\n%s", body)
	}
	if _, body, _ := c.get("/intel?q=imported"); !strings.Contains(body, "Imported Rat") {
		t.Error("the search does not find the imported malware")
	}
	csv := "type,value\nipv4-addr,198.51.100.9\n"
	if status, body := multipartPost(t, c, "/intel/import", map[string]string{"csrf": c.csrf, "format": "csv", "tlp": "green"}, "list.csv", csv); status != http.StatusOK {
		t.Errorf("CSV import = %d\n%s", status, body)
	}
	before := f.objectCount()
	bad := []struct {
		fields      map[string]string
		file, body  string
		wantStatus  int
		wantMessage string
	}{
		{map[string]string{"format": "yaml"}, "x.json", bundle, 400, "format: "},
		{map[string]string{"format": "auto", "tlp": "purple"}, "x.json", bundle, 400, "tlp: "},
		{map[string]string{"format": "auto"}, "", "", 400, "file: choose a file"},
		{map[string]string{"format": "auto"}, "empty.json", "", 400, "file: the file is empty"},
		{map[string]string{"format": "stix"}, "broken.json", "{not json", 400, "Nothing was imported"},
	}
	for _, tc := range bad {
		tc.fields["csrf"] = c.csrf
		status, body := multipartPost(t, c, "/intel/import", tc.fields, tc.file, tc.body)
		if status != tc.wantStatus || !strings.Contains(body, tc.wantMessage) {
			t.Errorf("import %v %q = %d, want %d with %q", tc.fields, tc.file, status, tc.wantStatus, tc.wantMessage)
		}
	}
	if n := f.objectCount(); n != before {
		t.Errorf("refused imports stored %d objects", n-before)
	}
	if status, _ := multipartPost(t, c, "/intel/import", map[string]string{"format": "auto"}, "x.json", bundle); status != http.StatusForbidden {
		t.Errorf("import without CSRF token = %d, want 403", status)
	}
}

func TestEvents(t *testing.T) {
	f := newFixture(t)
	c := f.login("vic")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.ts.URL+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() (string, string) {
		var ev string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				ev = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				return ev, v
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return "", ""
	}
	if ev, data := next(); ev != "peers" || !strings.Contains(data, `"north"`) {
		t.Fatalf("first event %s %s, want the peer states", ev, data)
	}
	// A new alert and a peer change arrive without asking.
	b, _ := json.Marshal(detect.Alert{ID: "live-1", RuleTitle: "Live one", Level: "critical"})
	if _, err := f.db.PutAlerts(ctx, []store.AlertRecord{{ID: "live-1", Level: "critical", Engine: "sigma", JSON: b}}); err != nil {
		t.Fatal(err)
	}
	if ev, data := next(); ev != "alert" || !strings.Contains(data, `"title":"Live one"`) {
		t.Fatalf("event %s %s, want the new alert", ev, data)
	}
	f.mu.Lock()
	f.peers[1].Link = federation.LinkConnected
	f.mu.Unlock()
	if ev, data := next(); ev != "peers" || !strings.Contains(data, `"peer":"south","link":"connected"`) {
		t.Fatalf("event %s %s, want south connected", ev, data)
	}
	// Signed out: refused, not redirected.
	req2, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/events", nil)
	req2.Header.Set("Accept", "text/event-stream")
	resp2, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /events signed out = %d, want 401", resp2.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t)
	c := f.login("vic")
	now := time.Now().Add(13 * time.Hour)
	f.srv.now = func() time.Time { return now }
	if status, _, _ := c.get("/alerts"); status != http.StatusSeeOther {
		t.Errorf("GET /alerts with an expired session = %d, want 303 to sign in", status)
	}
	u, _ := url.Parse(f.ts.URL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			if _, err := f.db.Session(context.Background(), hashSessionID(ck.Value)); err == nil {
				t.Error("the expired session is still stored")
			}
		}
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not argon2id with the documented parameters", h)
	}
	h2, _ := HashPassword(testPassword)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{testPassword, true}, {testPassword + " ", false}, {"", false}} {
		if ok, err := VerifyPassword(h, tc.pw); ok != tc.want || err != nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "plain"} {
		if _, err := VerifyPassword(bad, "x"); err == nil {
			t.Errorf("VerifyPassword(%q) accepted a malformed hash", bad)
		}
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("HashPassword accepted a 5-character password")
	}
}

func TestCreateUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name, role, password string
		wantErr              string
	}{
		{"eve", "analyst", testPassword, ""},
		{"eve", "analyst", testPassword, "exists already"},
		{"bad name", "analyst", testPassword, "only letters"},
		{"", "analyst", testPassword, "1 to 64"},
		{"fay", "root", testPassword, "unknown role"},
		{"fay", "reader", testPassword, "unknown role"},
		{"fay", "viewer", "short", "at least 12"},
	}
	for _, tc := range tests {
		err := CreateUser(ctx, f.db, tc.name, store.Role(tc.role), tc.password)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CreateUser(%q, %q) = %v, want %q", tc.name, tc.role, err, tc.wantErr)
		}
	}
	if _, err := f.db.User(ctx, "fay"); err == nil {
		t.Error("a refused user was stored")
	}
}

func TestAttackNames(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var objs []stix.Object
	for _, raw := range []string{
		`{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"PowerShell","external_references":[{"source_name":"mitre-attack","external_id":"T1059.001"}]}`,
		`{"type":"intrusion-set","spec_version":"2.1","id":"intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"APT28","external_references":[{"source_name":"mitre-attack","external_id":"G0007"}]}`,
		// Not ATT&CK data: its id is not taken as a name.
		`{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000002","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"Fake","is_family":true,"external_references":[{"source_name":"someone","external_id":"S0002"}]}`,
	} {
		o, _, err := stix.Decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	if _, err := f.db.Put(ctx, f.coll.ID, objs); err != nil {
		t.Fatal(err)
	}
	c := f.login("vic")
	_, body, _ := c.get("/")
	for _, w := range []string{`T1059.001 <span class="dim">PowerShell</span>`, `G0007 <span class="dim">APT28</span>`} {
		if !strings.Contains(body, w) {
			t.Errorf("overview lacks %q", w)
		}
	}
	if strings.Contains(body, "Fake") {
		t.Error("a non-ATT&CK object named an ATT&CK id")
	}
	if _, body, _ := c.get("/attack"); !strings.Contains(body, `<small class="name">PowerShell</small>`) {
		t.Error("the heatmap does not name T1059.001")
	}
}

// TestUnmatchableHash: the hash checked for unknown users is well formed,
// with the parameters of real hashes (so it costs as much to verify), and
// matches nothing.
func TestUnmatchableHash(t *testing.T) {
	h := unmatchableHash()
	real, err := HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if params := func(s string) string { return strings.Join(strings.Split(s, "$")[:4], "$") }; params(h) != params(real) {
		t.Errorf("unmatchable hash %q has other parameters than %q", h, real)
	}
	for _, pw := range []string{testPassword, "", "correct horse battery staple"} {
		if ok, err := VerifyPassword(h, pw); ok || err != nil {
			t.Errorf("VerifyPassword(unmatchable, %q) = %v, %v; want false, nil", pw, ok, err)
		}
	}
	if unmatchableHash() == h {
		t.Error("two unmatchable hashes are equal")
	}
}
