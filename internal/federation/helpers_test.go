package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/identity"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/sqlitestore"
	"github.com/shieldwall/shieldwall/internal/taxii/taxiiclient"
	"github.com/shieldwall/shieldwall/internal/taxii/taxiiserver"
)

// node is one Shieldwall node of a test federation: an identity, a
// sqlitestore, a TAXII server over httptest and a Syncer.
type node struct {
	name, org, nation string
	dir               string
	id                *identity.Identity
	db                *sqlitestore.DB
	ts                *httptest.Server
	handler           atomic.Pointer[http.Handler]
	syncer            *Syncer
	// live is the running Syncer the TAXII server asks what the node
	// already holds (taxiiserver.Options.Held), as a node wires it.
	live  atomic.Pointer[Syncer]
	peers []config.Peer
	// secrets[p] is the token this node issued to peer p.
	secrets map[string]string
}

// peerSpec is how one node sees another.
type peerSpec struct {
	relation  string
	groups    []string
	recipient bool
	denyTypes []string
	strip     map[string][]string
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newNode makes a node with a "default" collection.
func newNode(t testing.TB, name, org, nation string) *node {
	t.Helper()
	n := &node{name: name, org: org, nation: nation, dir: t.TempDir(), secrets: map[string]string{}}
	var err error
	if n.id, err = identity.LoadOrCreate(n.dir, name, org, time.Now()); err != nil {
		t.Fatal(err)
	}
	n.open(t)
	if _, err := n.db.CreateCollection(context.Background(), store.Collection{ID: stix.NewID("x")[3:], Alias: "default", Title: "default"}); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = http.NotFoundHandler()
	n.handler.Store(&h)
	n.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*n.handler.Load()).ServeHTTP(w, r) }))
	// HTTP/1.1 and, for clients that know it is there, HTTP/2 without TLS
	// (what a node serving TLS negotiates with Go's client anyway).
	n.ts.Config.Protocols = new(http.Protocols)
	n.ts.Config.Protocols.SetHTTP1(true)
	n.ts.Config.Protocols.SetUnencryptedHTTP2(true)
	n.ts.Start()
	t.Cleanup(n.ts.Close)
	n.serve(t, nil)
	return n
}

// open (re)opens the node's store from its file.
func (n *node) open(t testing.TB) {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), filepath.Join(n.dir, "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	n.db = db
	t.Cleanup(func() { db.Close() })
}

// serve installs a TAXII server on the node's store, wrapped by wrap.
func (n *node) serve(t testing.TB, wrap func(http.Handler) http.Handler) {
	t.Helper()
	srv, err := taxiiserver.New(taxiiserver.Options{Objects: n.db, Collections: n.db, Statuses: n.db, Tokens: n.db, Grants: n.db, Logger: quietLogger(),
		Held: func(ctx context.Context, coll string, objs []stix.Object) ([]bool, error) {
			if s := n.live.Load(); s != nil {
				return s.Held(ctx, coll, objs)
			}
			return nil, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(h)
	}
	n.handler.Store(&h)
}

// link makes a and b peers: each issues the other a token that may write
// only its inbox collection for it, and each pushes its "default" there.
func link(t testing.TB, a, b *node, aSeesB, bSeesA peerSpec) {
	t.Helper()
	a.grantInbox(t, b.name)
	b.grantInbox(t, a.name)
	a.peers = append(a.peers, peerConfig(b, a, aSeesB))
	b.peers = append(b.peers, peerConfig(a, b, bSeesA))
}

func (n *node) grantInbox(t testing.TB, peer string) {
	t.Helper()
	ctx := context.Background()
	c, err := n.db.CreateCollection(ctx, store.Collection{ID: stix.NewID("x")[3:], Alias: "inbox-" + peer, Title: "from " + peer})
	if err != nil {
		t.Fatal(err)
	}
	secret := auth.NewSecret()
	if err := n.db.CreateToken(ctx, store.Token{Name: peer, Role: store.RoleAnalyst, Hash: auth.Hash(secret)}); err != nil {
		t.Fatal(err)
	}
	if err := n.db.SetGrant(ctx, store.Grant{CollectionID: c.ID, Principal: peer, Write: true}); err != nil {
		t.Fatal(err)
	}
	n.secrets[peer] = secret
}

// peerConfig is how self configures remote.
func peerConfig(remote, self *node, s peerSpec) config.Peer {
	p := config.Peer{
		Name: remote.name, URL: remote.ts.URL + "/taxii2/root/", Token: remote.secrets[self.name],
		Organisation: remote.org, Nation: remote.nation, Relation: s.relation, Groups: s.groups,
		Recipient: s.recipient, PublicKey: remote.id.PublicKeyString(), AgeRecipient: remote.id.AgeRecipient(),
		Into: "default", Push: []string{"default"}, PushTo: "inbox-" + self.name,
		DenyTypes: s.denyTypes, Strip: s.strip,
	}
	p.Link.Interval.Duration = 20 * time.Millisecond
	return p
}

// start builds the node's Syncer on its current store.
func (n *node) start(t testing.TB, tweak ...func(*Options)) {
	t.Helper()
	o := Options{
		Identity: n.id, Nation: n.nation, Store: n.db, Logger: quietLogger(),
		Federation: config.Federation{Peers: n.peers},
		ClientOptions: func(string) []taxiiclient.Option {
			return []taxiiclient.Option{taxiiclient.WithMaxRetries(1), taxiiclient.WithBackoff(time.Millisecond, 5*time.Millisecond)}
		},
	}
	for _, f := range tweak {
		f(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	n.syncer = s
	n.live.Store(s)
}

// put stores objects made at this node in its default collection.
func (n *node) put(t testing.TB, raws ...string) {
	t.Helper()
	var objs []stix.Object
	for _, raw := range raws {
		o, _, err := stix.Decode([]byte(raw))
		if err != nil {
			t.Fatalf("Decode(%s): %v", raw, err)
		}
		objs = append(objs, o)
	}
	if _, err := n.db.Put(context.Background(), n.coll(t, "default"), objs); err != nil {
		t.Fatal(err)
	}
}

// holdings returns every (id, version) of the node's default collection,
// with how many records each has.
func (n *node) holdings(t testing.TB) map[string]store.Record {
	t.Helper()
	out := map[string]store.Record{}
	f := store.Filter{Versions: store.VersionMatch{All: true}}
	for {
		pg, err := n.db.Query(context.Background(), n.coll(t, "default"), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range pg.Records {
			k := r.Object.ID + "@" + r.Version.Format(time.RFC3339Nano)
			if _, dup := out[k]; dup {
				t.Errorf("%s holds %s twice", n.name, k)
			}
			out[k] = r
		}
		if !pg.More {
			return out
		}
		f.Next = pg.Next
	}
}

// converge runs SyncOnce for every node and peer until two rounds in a row
// change nothing and fail nowhere.
func converge(t testing.TB, nodes []*node, maxRounds int) int {
	t.Helper()
	ctx := context.Background()
	quiet := 0
	last := -1
	for round := 1; round <= maxRounds; round++ {
		failed := false
		for _, n := range nodes {
			for _, p := range n.syncer.Peers() {
				if err := n.syncer.SyncOnce(ctx, p); err != nil {
					failed = true
				}
			}
		}
		total := 0
		for _, n := range nodes {
			total += len(n.holdings(t))
		}
		if !failed && total == last {
			quiet++
			if quiet == 2 {
				return round
			}
		} else {
			quiet = 0
		}
		last = total
	}
	t.Fatalf("no fixed point after %d rounds", maxRounds)
	return 0
}

// chaos wraps a handler so that requests fail at random: refused with 503
// before reaching the server, the connection reset before it, or (worst)
// handled and then the connection reset so the caller never sees the
// answer. rate is the probability of each, from a seeded generator.
func chaos(seed uint64, rate float64, on *atomic.Bool, faults *atomic.Int64) func(http.Handler) http.Handler {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	roll := func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64()
	}
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !on.Load() {
				h.ServeHTTP(w, r)
				return
			}
			x := roll()
			if x < 3*rate {
				faults.Add(1)
			}
			switch {
			case x < rate:
				http.Error(w, "link down", http.StatusServiceUnavailable)
			case x < 2*rate:
				reset(w)
			case x < 3*rate:
				h.ServeHTTP(httptest.NewRecorder(), r) // done, but the answer is lost
				reset(w)
			default:
				h.ServeHTTP(w, r)
			}
		})
	}
}

func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	c, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// obj builds STIX objects for tests.
type objs struct {
	t   testing.TB
	seq int
}

const stamp = "2026-01-02T03:04:05.000Z"

func (o *objs) uuid() string {
	o.seq++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", o.seq, o.seq)
}

// indicator makes an indicator created by n with the given markings.
func (o *objs) indicator(n *node, name string, extra map[string]any, markings ...string) (id, raw string) {
	id = "indicator--" + o.uuid()
	m := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": id, "created": stamp, "modified": stamp,
		"name": name, "pattern": fmt.Sprintf("[domain-name:value = '%s.example']", name), "pattern_type": "stix",
		"valid_from": stamp, "created_by_ref": n.id.ID(),
	}
	if len(markings) > 0 {
		m["object_marking_refs"] = markings
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		o.t.Fatal(err)
	}
	return id, string(b)
}

// rel makes a releasability marking-definition created by n.
func (o *objs) rel(n *node, to, groups []string) (id, raw string) {
	id = "marking-definition--" + o.uuid()
	ext := map[string]any{"extension_type": "property-extension"}
	if to != nil {
		ext["releasable_to"] = to
	}
	if groups != nil {
		ext["sharing_groups"] = groups
	}
	b, err := json.Marshal(map[string]any{
		"type": "marking-definition", "spec_version": "2.1", "id": id, "created": stamp, "name": fmt.Sprintf("REL %v %v", to, groups),
		"created_by_ref": n.id.ID(),
		"extensions":     map[string]any{"extension-definition--ee970c8a-812b-4aa5-9c6a-8fd139cff9bc": ext},
	})
	if err != nil {
		o.t.Fatal(err)
	}
	return id, string(b)
}

func (n *node) coll(t testing.TB, alias string) string {
	t.Helper()
	c, err := n.db.Collection(context.Background(), alias)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func storeAfter(t testing.TB, cursor string) store.Filter {
	return store.Filter{AddedAfter: mustTime(t, cursor), Versions: store.VersionMatch{All: true}}
}
