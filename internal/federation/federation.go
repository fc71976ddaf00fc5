// Package federation is the sync engine between Shieldwall nodes: it pulls
// from peers with TAXII added_after cursors, takes in what peers pushed to
// their inbox collections here, and pushes to each peer what the sharing
// policy (package policy) lets it have, in priority order, within a
// bandwidth budget, with pages that adapt to the link. Every decision is
// recorded, except the two a mesh makes for most records, which are
// counted in the peer's State instead: not sent back where it came from
// (no echo) and not relayed over a pruned relay tree (relay.go). Cursors,
// origins and opened bundles are durable (store.Federation), so a node
// killed at any moment resumes with no gap and no duplicate. Offline transfer goes through sealed bundles (SealFor,
// OpenBundle); Explain answers why an object went, or not, to a peer.
//
// Receiving. Objects come from a peer in one of three ways, all validated
// with stix.Decode and attributed to the peer (their origin, recorded
// before the object is stored): pulled from the peer's collections
// (Peer.Pull) into Peer.Into; pushed by the peer into this node's inbox
// collection for it (by default "inbox-PEER", which only the peer's token
// may write, see EnsureInboxes), then moved into Peer.Into; or opened from
// a sealed bundle. An object whose created_by_ref names this node and that
// this node does not hold is refused as forged; one the store cannot keep is
// refused alone. Refusals are logged with their reason and counted in the
// peer's State, and never stop the cursor.
//
// Sending. Policy applies when sending: a TAXII server serves a collection
// to every reader alike, so policy-filtered sharing is a push (or a
// bundle). The push cursor of (peer, collection) is a low watermark over
// date_added; each page takes the most urgent records of the ScanAhead
// after it (marking-definitions, then revocations, then indicators with
// confidence >= 85 or labelled critical, then by severity, confidence and
// age), plus any urgent record added beyond that window, and records what
// was sent ahead so the cursor passes a record only once it and all before
// it are handled. A page counts as sent when the peer's status says so;
// otherwise it is sent again (TAXII adds are idempotent on id and version).
// The bandwidth budget is charged with the bytes each request put on the
// wire, after it: the average rate holds, a single page may burst.
//
// Deletions: the store keeps no tombstones, so a TAXII DELETE on this node
// is not mirrored; withdraw intelligence by publishing a revoked version
// (revoked: true), which travels first like any version.
package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/identity"
	"github.com/shieldwall/shieldwall/internal/policy"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii/taxiiclient"
)

// Store is what the engine needs from the node's backend.
type Store interface {
	store.Objects
	store.Collections
	store.Federation
}

// Options configure a Syncer.
type Options struct {
	Identity *identity.Identity // this node (name, organisation, keys)
	Nation   string             // this node's nation (config node.nation)
	// Federation is the configuration's federation section (peers, unmarked).
	Federation config.Federation
	Store      Store
	Logger     *slog.Logger
	Now        func() time.Time
	// HTTPClient is used for every peer (tests pass the httptest client).
	HTTPClient *http.Client
	// ClientOptions adds taxiiclient options for a peer (retries, backoff).
	ClientOptions func(peer string) []taxiiclient.Option
	// Inbox names the local collection a peer pushes into (default
	// "inbox-" + peer name); it is skipped when it does not exist.
	Inbox func(peer string) string
	// AlwaysShare: types sent to every known peer whatever their marking
	// (default: marking-definition, so receivers can resolve markings).
	AlwaysShare []string
	// PageSize is the first page size (default 100); MaxPageSize the
	// largest (default 1000); ScanAhead how many pending records a push
	// looks at to pick the most urgent (default 5000).
	PageSize, MaxPageSize, ScanAhead int
	// TargetPageTime is how long one page should hold the link (default
	// 1s, which also bounds how long an urgent record waits for the page
	// before it): on a link with a bandwidth, a push page carries what the
	// link moves in that time, compressed; elsewhere, and for pulls, the
	// object count grows while pages are faster and shrinks while slower.
	TargetPageTime time.Duration
	// RelayProbe is how long a link that stopped relaying a creator's
	// objects (the peer gets them elsewhere) waits before it checks, with
	// one of the records it skipped, that the peer got it (default 60 s;
	// relay.go). It bounds how long a broken relay tree goes unnoticed.
	RelayProbe time.Duration
}

// Link states of a peer.
const (
	LinkUnknown   = "unknown"   // never synced yet
	LinkConnected = "connected" // last sync succeeded without retries
	LinkDegraded  = "degraded"  // last sync needed retries or failed once or twice
	LinkCut       = "cut"       // three or more syncs in a row failed
)

// State is what the engine knows about one peer.
type State struct {
	Peer                string
	Link                string
	LastSync            time.Time // last sync that succeeded
	LastError           string
	LastErrorTime       time.Time
	ConsecutiveFailures int
	// LagObjects is how many local records wait to be pushed (counted up to
	// ScanAhead per collection); LagSeconds how long the oldest has waited.
	LagObjects int
	LagSeconds float64
	// BytesIn and BytesOut are on the wire (compressed), from the client.
	BytesIn, BytesOut int64
	// Received, Sent, Denied and Refused count object versions: stored from
	// the peer, pushed to it, withheld by policy, refused from it.
	Received, Sent, Denied, Refused int64
	// NoEcho counts versions not sent back to the peer they came from
	// (the policy's no-echo rule, checked first and not logged one by one).
	NoEcho int64
	// Skipped counts routine versions not relayed, as the peer gets their
	// creator's objects from another neighbour (not decided by the policy
	// nor logged one by one: a probe or a resend is decided when it goes);
	// Prunes and Grafts how often a relay tree stopped and started again
	// over this link (relay.go).
	Skipped, Prunes, Grafts int64
	PageSize                int
}

// Syncer runs the federation of one node.
type Syncer struct {
	o     Options
	self  policy.Self
	rules policy.Rules
	log   *slog.Logger
	now   func() time.Time
	peers map[string]*peer
	order []string

	mkMu     sync.Mutex
	markings map[string]stix.Object // resolved marking-definitions
	colls    map[string]string      // collection alias or id → id

	// Caches shared by the peers' pushes: the origins of the versions
	// decided on (kept up to date by receive, read again after
	// cacheTTL in case another process added some) and the priority of
	// records.
	cacheMu    sync.Mutex
	originsOf  map[versionKey]cachedOrigins
	priorities map[recKey]priority
	cursors    map[cursorKey]time.Time
}

type versionKey struct {
	id      string
	version int64
}

type cachedOrigins struct {
	peers []string
	at    time.Time
}

// cacheTTL is how long cached origins are trusted; maxCached bounds each
// cache (it is emptied when full).
const (
	cacheTTL  = 30 * time.Second
	maxCached = 1 << 18
)

// origins returns the peers a version came from, first one first.
func (s *Syncer) origins(ctx context.Context, id string, version time.Time) ([]string, error) {
	k := versionKey{id, version.UnixNano()}
	s.cacheMu.Lock()
	c, ok := s.originsOf[k]
	s.cacheMu.Unlock()
	if ok && time.Since(c.at) < cacheTTL {
		return c.peers, nil
	}
	peers, err := s.o.Store.Origins(ctx, id, version)
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	if len(s.originsOf) >= maxCached {
		clear(s.originsOf)
	}
	s.originsOf[k] = cachedOrigins{peers: peers, at: time.Now()}
	s.cacheMu.Unlock()
	return peers, nil
}

// addOrigin records that peer sent a version, in the store and the cache.
func (s *Syncer) addOrigin(ctx context.Context, id string, version time.Time, peer string) error {
	if err := s.o.Store.AddOrigin(ctx, id, version, peer); err != nil {
		return err
	}
	k := versionKey{id, version.UnixNano()}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if c, ok := s.originsOf[k]; ok && !slices.Contains(c.peers, peer) {
		c.peers = append(slices.Clip(c.peers), peer)
		s.originsOf[k] = c
	}
	return nil
}

// priority returns the priority of a record, computed once.
func (s *Syncer) priority(r store.Record) priority {
	k := keyOf(r)
	s.cacheMu.Lock()
	pr, ok := s.priorities[k]
	s.cacheMu.Unlock()
	if ok {
		return pr
	}
	pr = priorityOf(r)
	s.cacheMu.Lock()
	if len(s.priorities) >= maxCached {
		clear(s.priorities)
	}
	s.priorities[k] = pr
	s.cacheMu.Unlock()
	return pr
}

// peer is the runtime side of a configured peer.
type peer struct {
	cfg     config.Peer
	pol     policy.Peer
	client  *taxiiclient.Client
	limiter *rate.Limiter // nil: unlimited

	syncMu sync.Mutex // one sync of a peer at a time

	mu        sync.Mutex
	st        State
	page      int
	maxBytes  int
	lastStats taxiiclient.Stats
	// done holds, per push collection, the records beyond the cursor that
	// were already handled (sent ahead by priority, or denied), so the
	// low-watermark cursor stays correct.
	done map[string]map[recKey]bool
	// scanned is, per push collection, how far beyond the window the
	// search for urgent records went; urgent holds what it found.
	scanned map[string]time.Time
	urgent  map[string]map[recKey]store.Record
	// win caches, per push collection, the window after the cursor.
	win map[string]*window
	// relays is the relay tree state of this link, resend what waits to
	// be sent again behind the cursor, per push collection (relay.go).
	relays   map[relayKey]*relay
	resend   map[string][]resendItem
	probeAge time.Duration // Options.RelayProbe
	// wireBudget is how many bytes one page should put on the wire
	// (bandwidth × TargetPageTime; 0 without a bandwidth), ratio the
	// compressed/raw size of recent pushes, which turns it into a bound on
	// the raw bytes of the page.
	wireBudget int
	ratio      float64
}

type recKey struct {
	id      string
	version int64
	added   int64
}

// New checks the options and builds a Syncer; it does no I/O on the network.
func New(o Options) (*Syncer, error) {
	if o.Identity == nil || o.Store == nil {
		return nil, errors.New("federation: Identity and Store are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Inbox == nil {
		o.Inbox = func(p string) string { return "inbox-" + p }
	}
	if o.AlwaysShare == nil {
		o.AlwaysShare = []string{"marking-definition"}
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.MaxPageSize <= 0 {
		o.MaxPageSize = 1000
	}
	o.PageSize = min(o.PageSize, o.MaxPageSize)
	if o.ScanAhead <= 0 {
		o.ScanAhead = 5000
	}
	if o.TargetPageTime <= 0 {
		o.TargetPageTime = time.Second
	}
	if o.RelayProbe <= 0 {
		o.RelayProbe = defaultRelayProbe
	}
	s := &Syncer{
		o:        o,
		self:     policy.Self{Org: o.Identity.Org, Nation: o.Nation, Identities: []string{o.Identity.ID()}},
		rules:    policy.Rules{Unmarked: o.Federation.Unmarked, AlwaysShare: o.AlwaysShare},
		log:      o.Logger.With("component", "federation"),
		now:      o.Now,
		peers:    map[string]*peer{},
		markings: map[string]stix.Object{},
		colls:    map[string]string{},

		originsOf:  map[versionKey]cachedOrigins{},
		priorities: map[recKey]priority{},
		cursors:    map[cursorKey]time.Time{},
	}
	for _, pc := range o.Federation.Peers {
		if _, dup := s.peers[pc.Name]; dup {
			return nil, fmt.Errorf("federation: peer %q configured twice", pc.Name)
		}
		p, err := s.newPeer(pc)
		if err != nil {
			return nil, fmt.Errorf("federation: peer %s: %w", pc.Name, err)
		}
		s.peers[pc.Name] = p
		s.order = append(s.order, pc.Name)
	}
	return s, nil
}

func (s *Syncer) newPeer(pc config.Peer) (*peer, error) {
	if pc.Into == "" {
		pc.Into = "default"
	}
	if pc.PushTo == "" {
		pc.PushTo = "default"
	}
	if pc.Link.Interval.Duration <= 0 {
		pc.Link.Interval.Duration = 30 * time.Second
	}
	p := &peer{
		cfg: pc,
		pol: policy.Peer{Name: pc.Name, Org: pc.Organisation, Nation: pc.Nation, Relation: policy.Relation(pc.Relation),
			Groups: pc.Groups, Recipient: pc.Recipient, DenyTypes: pc.DenyTypes, Strip: pc.Strip},
		page:     s.o.PageSize,
		done:     map[string]map[recKey]bool{},
		scanned:  map[string]time.Time{},
		urgent:   map[string]map[recKey]store.Record{},
		win:      map[string]*window{},
		relays:   map[relayKey]*relay{},
		resend:   map[string][]resendItem{},
		probeAge: s.o.RelayProbe,
		st:       State{Peer: pc.Name, Link: LinkUnknown, PageSize: s.o.PageSize},
	}
	p.maxBytes = 8 << 20
	if bps := pc.Link.Bandwidth.BitsPerSecond; bps > 0 {
		bytesPerSec := max(1, int(bps/8))
		p.wireBudget = max(1024, int(float64(bytesPerSec)*s.o.TargetPageTime.Seconds()))
		// The budget is charged after each request: a burst of two pages
		// lets the round trip of one be made up by the next, while the
		// average rate still holds.
		p.limiter = rate.NewLimiter(rate.Limit(bytesPerSec), max(bytesPerSec, 2*p.wireBudget))
	}
	if pc.URL == "" {
		return p, nil // offline peer: bundles only
	}
	var opts []taxiiclient.Option
	if s.o.HTTPClient != nil {
		opts = append(opts, taxiiclient.WithHTTPClient(s.o.HTTPClient))
	}
	token := pc.Token
	if token == "" && pc.TokenFile != "" {
		b, err := os.ReadFile(pc.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	switch {
	case pc.User != "":
		opts = append(opts, taxiiclient.WithBasic(pc.User, token))
	case token != "":
		opts = append(opts, taxiiclient.WithBearer(token))
	}
	switch pc.Link.Compression {
	case "gzip":
		opts = append(opts, taxiiclient.WithCompression(taxiiclient.Gzip))
	case "none":
		opts = append(opts, taxiiclient.WithCompression(taxiiclient.None))
	default:
		opts = append(opts, taxiiclient.WithCompression(taxiiclient.Zstd))
	}
	opts = append(opts, taxiiclient.WithLogger(s.log.With("peer", pc.Name)))
	if s.o.ClientOptions != nil {
		opts = append(opts, s.o.ClientOptions(pc.Name)...)
	}
	c, err := taxiiclient.New(pc.URL, opts...)
	if err != nil {
		return nil, err
	}
	p.client = c
	return p, nil
}

// Peers lists the configured peer names, in configuration order.
func (s *Syncer) Peers() []string { return append([]string(nil), s.order...) }

// States returns the state of every peer, in configuration order.
func (s *Syncer) States() []State {
	out := make([]State, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.peers[n].state())
	}
	return out
}

// PeerState returns one peer's state.
func (s *Syncer) PeerState(name string) (State, bool) {
	p, ok := s.peers[name]
	if !ok {
		return State{}, false
	}
	return p.state(), true
}

func (p *peer) state() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.st
	st.PageSize = p.page
	if p.client != nil {
		cs := p.client.Stats()
		st.BytesIn, st.BytesOut = cs.BytesRecvWire, cs.BytesSentWire
	}
	return st
}

func (s *Syncer) peer(name string) (*peer, error) {
	p, ok := s.peers[name]
	if !ok {
		return nil, fmt.Errorf("federation: no peer %q configured", name)
	}
	return p, nil
}

// Run syncs every peer on its interval until ctx ends; it returns nil then.
// A failed sync is logged and shown in the peer's state, and retried at the
// next interval.
func (s *Syncer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, name := range s.order {
		p := s.peers[name]
		// A peer without a URL only pushes to us: its inbox is still
		// processed on its interval.
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(p.cfg.Link.Interval.Duration)
			defer t.Stop()
			for {
				if err := s.syncOnce(ctx, name, true); err != nil && ctx.Err() == nil {
					s.log.Warn("sync failed", "peer", name, "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// SyncOnce does one full sync with a peer: its inbox here, then pull, then
// push, each until caught up. Errors of the steps are joined.
func (s *Syncer) SyncOnce(ctx context.Context, name string) error {
	return s.syncOnce(ctx, name, false)
}

// syncOnce is SyncOnce; with gather (the Run loop, which comes back soon)
// a push may hold a small page back for a while to fill it (gathers).
func (s *Syncer) syncOnce(ctx context.Context, name string, gather bool) error {
	p, err := s.peer(name)
	if err != nil {
		return err
	}
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	before := taxiiclient.Stats{}
	if p.client != nil {
		before = p.client.Stats()
	}
	err = errors.Join(s.inbox(ctx, p), s.pull(ctx, p), s.push(ctx, p, gather))
	retried := p.client != nil && p.client.Stats().Retries > before.Retries
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.st.ConsecutiveFailures++
		p.st.LastError, p.st.LastErrorTime = err.Error(), s.now()
		if p.st.ConsecutiveFailures >= 3 {
			p.st.Link = LinkCut
		} else {
			p.st.Link = LinkDegraded
		}
		return fmt.Errorf("federation: sync %s: %w", name, err)
	}
	p.st.ConsecutiveFailures = 0
	p.st.LastSync = s.now()
	p.st.Link = LinkConnected
	if retried {
		p.st.Link = LinkDegraded
	}
	return nil
}

// charge spends the bytes a request put on the wire against the peer's
// budget (waiting when it is spent) and adapts the page size: a failure
// halves it; a push over a link with a bandwidth grows it (its bytes, not
// its count, bound the time it takes) and updates the compression ratio;
// otherwise a page faster than the target grows it, a slower one shrinks it.
func (s *Syncer) charge(ctx context.Context, p *peer, took time.Duration, failed, push bool) error {
	cs := p.client.Stats()
	p.mu.Lock()
	sentWire, sentRaw := cs.BytesSentWire-p.lastStats.BytesSentWire, cs.BytesSentRaw-p.lastStats.BytesSentRaw
	n := int(sentWire + (cs.BytesRecvWire - p.lastStats.BytesRecvWire))
	p.lastStats = cs
	sized := push && p.wireBudget > 0
	switch {
	case failed:
		p.page = max(1, p.page/2)
	case sized:
		p.page = min(s.o.MaxPageSize, p.page*2)
		if sentRaw > 0 {
			r := float64(sentWire) / float64(sentRaw)
			if p.ratio > 0 {
				r = (p.ratio + r) / 2
			}
			p.ratio = r
		}
	case took < s.o.TargetPageTime/2:
		p.page = min(s.o.MaxPageSize, p.page*2)
	case took > s.o.TargetPageTime:
		p.page = max(1, p.page*3/4)
	}
	p.mu.Unlock()
	if p.limiter == nil {
		return nil
	}
	burst := p.limiter.Burst()
	for n > 0 {
		k := min(n, burst)
		if err := p.limiter.WaitN(ctx, k); err != nil {
			return fmt.Errorf("bandwidth budget: %w", err)
		}
		n -= k
	}
	return nil
}

// firstRatio is the compression ratio expected before a page was
// measured: STIX JSON compresses at least 4:1 with zstd or gzip (indicators
// about 13:1), so the first page is not a tiny one that compresses badly.
const firstRatio = 0.25

// budget returns the bytes one push page should put on the wire (0: no
// bound but maxBytes) and the compression ratio expected.
func (p *peer) budget() (int, float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ratio <= 0 {
		return p.wireBudget, firstRatio
	}
	return p.wireBudget, p.ratio
}

func (p *peer) pageSize() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.page, p.maxBytes
}

func (p *peer) count(f func(st *State)) {
	p.mu.Lock()
	f(&p.st)
	p.mu.Unlock()
}
