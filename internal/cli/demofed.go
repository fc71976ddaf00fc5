package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/federation"
	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/policy"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii/taxiiclient"
)

// The demo's alliance: the demo node is a national node (CERT-FR) and, in
// the same process, an alliance hub, a second nation and a partner run as
// nodes of their own, each with its store under DATA/alliance/NAME, its
// TAXII server on a 127.0.0.1 port and its syncer, configured as
// `shieldwall node` configures them from federation.peers. A third nation
// (cert-pl) is configured but its node is not started: its link goes cut
// and what waits for it shows as its backlog.
const (
	demoSelfName   = "cert-fr"
	demoCollection = "alliance" // what the demo's nodes share, pushed and received
	demoGroup      = "eastern-flank"
	demoInterval   = 2 * time.Second
)

// demoMember is one node of the demo's alliance as the demo node sees it
// (its peer configuration) and, when it runs, the node itself.
type demoMember struct {
	name, org, nation, relation string
	groups                      []string
	recipient                   bool // the demo node names it a recipient of its own AMBER
	names                       bool // it names the demo node a recipient of its own AMBER
	offline                     bool // configured, never started: the link is cut

	n      *node.Node
	ln     net.Listener
	url    string
	syncer *federation.Syncer
}

func demoMembers() []*demoMember {
	return []*demoMember{
		{name: "alliance-hub", org: "ALLIANCE-CDC", relation: "member", groups: []string{demoGroup}, recipient: true, names: true},
		{name: "cert-de", org: "CERT-DE", nation: "DEU", relation: "member", names: true},
		{name: "partner-cert", org: "PARTNER-CERT", relation: "partner"},
		{name: "cert-pl", org: "CERT-PL", nation: "POL", relation: "member", groups: []string{demoGroup}, recipient: true, names: true, offline: true},
	}
}

// demoAlliance is the running alliance.
type demoAlliance struct {
	self    *federation.Syncer
	members []*demoMember
}

// quietLog drops records below level: the demo's syncers retry the cut
// link every interval, which the console shows; the terminal need not.
type quietLog struct {
	slog.Handler
	level slog.Level
}

func (q quietLog) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= q.level && q.Handler.Enabled(ctx, l)
}

func (q quietLog) WithAttrs(as []slog.Attr) slog.Handler {
	return quietLog{q.Handler.WithAttrs(as), q.level}
}

func (q quietLog) WithGroup(name string) slog.Handler {
	return quietLog{q.Handler.WithGroup(name), q.level}
}

// startDemoAlliance opens the alliance's nodes under dir, makes their
// tokens, collections, syncers (the demo node's, self, whose TAXII server
// will be at selfURL, included) and the intelligence each node made, at
// several TLP levels. consoleUser and consolePW make the same console
// login on every node. It serves nothing yet: run does.
func startDemoAlliance(ctx context.Context, e *env, self *node.Node, dir, selfURL, consoleUser, consolePW string) (*demoAlliance, error) {
	a := &demoAlliance{members: demoMembers()}
	quiet := slog.New(quietLog{e.log.Handler(), slog.LevelError})
	for _, m := range a.members {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			a.close()
			return nil, fmt.Errorf("demo alliance: listen: %w", err)
		}
		m.url = "http://" + ln.Addr().String()
		if m.offline {
			ln.Close() // nothing answers there: the link is cut
			continue
		}
		m.ln = ln
		n, err := node.Open(ctx, node.Options{DataDir: filepath.Join(dir, m.name), Logger: quiet, Name: m.name, Organisation: m.org})
		if err != nil {
			a.close()
			return nil, fmt.Errorf("demo alliance: %w", err)
		}
		m.n = n
	}
	if err := a.setUp(ctx, self, dir, selfURL, consoleUser, consolePW, quiet); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *demoAlliance) setUp(ctx context.Context, self *node.Node, dir, selfURL, consoleUser, consolePW string, log *slog.Logger) error {
	selfDir := filepath.Join(dir, demoSelfName)
	if err := os.MkdirAll(selfDir, 0o700); err != nil {
		return err
	}
	// Tokens: the demo node pushes into its inbox at each member with a
	// token the member issued it, and each member into its inbox here.
	// Their secrets are kept in files (token_file in a configuration), so
	// a second run on the same data directory finds them again.
	tokenFile := func(holder *node.Node, holderDir, peer string) (string, error) {
		path := filepath.Join(holderDir, "token-"+peer)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
		secret, err := holder.CreateToken(ctx, peer, store.RoleAnalyst)
		if err != nil {
			return "", fmt.Errorf("demo alliance: token for %s: %w", peer, err)
		}
		return path, os.WriteFile(path, []byte(secret+"\n"), 0o600)
	}
	if err := ensureDemoCollection(ctx, self); err != nil {
		return err
	}
	var selfPeers []config.Peer
	for _, m := range a.members {
		p := demoPeerConfig(m.name, m.org, m.nation, m.relation, m.groups, m.recipient)
		p.URL = m.url + "/taxii2/root/"
		p.PushTo = "inbox-" + demoSelfName
		if m.offline {
			p.Token = "none" // nothing answers at its URL
			selfPeers = append(selfPeers, p)
			continue
		}
		if _, err := createConsoleUser(ctx, m.n, consoleUser, store.RoleAdmin, consolePW); err != nil {
			return fmt.Errorf("demo alliance: %s: %w", m.name, err)
		}
		if err := ensureDemoCollection(ctx, m.n); err != nil {
			return err
		}
		mdir := filepath.Join(dir, m.name)
		f, err := tokenFile(m.n, mdir, demoSelfName)
		if err != nil {
			return err
		}
		p.TokenFile = f
		selfPeers = append(selfPeers, p)

		back := demoPeerConfig(demoSelfName, self.Identity.Org, "FRA", "member", nil, m.names)
		back.URL = selfURL + "/taxii2/root/"
		back.PushTo = "inbox-" + m.name
		if back.TokenFile, err = tokenFile(self, selfDir, m.name); err != nil {
			return err
		}
		if m.syncer, err = demoSyncer(ctx, m.n, m.nation, []config.Peer{back}, log); err != nil {
			return err
		}
		if err := seedDemoIntel(ctx, m.n, m.name); err != nil {
			return err
		}
	}
	var err error
	if a.self, err = demoSyncer(ctx, self, "FRA", selfPeers, log); err != nil {
		return err
	}
	return seedDemoIntel(ctx, self, demoSelfName)
}

// run serves every member and runs every syncer, the demo node's
// included, until ctx ends.
func (a *demoAlliance) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, m := range a.members {
		if m.n == nil {
			continue
		}
		g.Go(func() error { return m.n.Serve(gctx, m.ln, node.ServeOptions{Federation: m.syncer}) })
		g.Go(func() error { return m.syncer.Run(gctx) })
	}
	g.Go(func() error { return a.self.Run(gctx) })
	return g.Wait()
}

// close closes the members' stores (after run returned).
func (a *demoAlliance) close() {
	for _, m := range a.members {
		if m.n != nil {
			m.n.Close()
		}
		if m.ln != nil {
			m.ln.Close()
		}
	}
}

func demoPeerConfig(name, org, nation, relation string, groups []string, recipient bool) config.Peer {
	p := config.Peer{Name: name, Organisation: org, Nation: nation, Relation: relation, Groups: groups, Recipient: recipient,
		Into: demoCollection, Push: []string{demoCollection}}
	p.Link.Interval.Duration = demoInterval
	return p
}

// demoSyncer builds a node's syncer as node.Federation does for
// `shieldwall node`, with the demo's logger.
func demoSyncer(ctx context.Context, n *node.Node, nation string, peers []config.Peer, log *slog.Logger) (*federation.Syncer, error) {
	st, ok := n.Store.(federation.Store)
	if !ok {
		return nil, errors.New("demo alliance: the store keeps no federation state")
	}
	offline := map[string]bool{}
	for _, m := range demoMembers() {
		offline[m.name] = m.offline
	}
	s, err := federation.New(federation.Options{Identity: n.Identity, Nation: nation, Store: st, Logger: log,
		Federation: config.Federation{Peers: peers},
		// Nothing ever answers the offline nation: one retry, so that its
		// link shows cut after three syncs of a few seconds, not a minute.
		ClientOptions: func(peer string) []taxiiclient.Option {
			if offline[peer] {
				return []taxiiclient.Option{taxiiclient.WithMaxRetries(1), taxiiclient.WithBackoff(100*time.Millisecond, 200*time.Millisecond)}
			}
			return nil
		}})
	if err != nil {
		return nil, fmt.Errorf("demo alliance: %w", err)
	}
	if err := s.EnsureInboxes(ctx, n.Store); err != nil {
		return nil, fmt.Errorf("demo alliance: inboxes: %w", err)
	}
	return s, nil
}

func ensureDemoCollection(ctx context.Context, n *node.Node) error {
	if _, err := n.Store.Collection(ctx, demoCollection); err == nil {
		return nil
	}
	_, err := n.CreateCollection(ctx, store.Collection{Alias: demoCollection, Title: "Alliance sharing",
		Description: "What this node shares with the alliance's nodes, and receives from them."}, []store.Grant{
		{Principal: "role:" + string(store.RoleAnalyst), Read: true, Write: true},
		{Principal: "role:" + string(store.RoleReader), Read: true},
	})
	return err
}

// demoStamp is when the demo's intelligence was made: fixed, with ids made
// from names, so a second run on the same data directory adds nothing.
var demoStamp = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// seedDemoIntel stores the intelligence the node makes in the demo:
// indicators at every TLP level, an AMBER one, one releasable to two
// nations, one for a sharing group, an urgent one and a revoked one (at
// the demo node), so that every rule of the policy decides something.
func seedDemoIntel(ctx context.Context, n *node.Node, who string) error {
	id := func(typ, name string) string {
		return typ + "--" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://shieldwall.example/demo/"+who+"/"+name)).String()
	}
	var raws []map[string]any
	marking := func(name string, ext map[string]any) string {
		mid := id("marking-definition", name)
		ext["extension_type"] = "property-extension"
		raws = append(raws, map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": mid, "created": stixTime(demoStamp),
			"name": name, "created_by_ref": n.Identity.STIX.ID, "extensions": map[string]any{policy.ReleasabilityExtensionID: ext}})
		return mid
	}
	indicator := func(name, domain string, extra map[string]any, markings ...string) {
		m := map[string]any{"type": "indicator", "spec_version": "2.1", "id": id("indicator", name), "created": stixTime(demoStamp), "modified": stixTime(demoStamp),
			"name": name, "pattern": fmt.Sprintf("[domain-name:value = '%s']", domain), "pattern_type": "stix",
			"valid_from": stixTime(demoStamp), "created_by_ref": n.Identity.STIX.ID, "object_marking_refs": markings, "indicator_types": []string{"malicious-activity"}}
		for k, v := range extra {
			m[k] = v
		}
		raws = append(raws, m)
	}
	short := strings.TrimPrefix(who, "cert-")
	indicator(who+": phishing domain (TLP:CLEAR)", "login-"+short+".example", map[string]any{"confidence": 60}, stix.TLPClearID)
	indicator(who+": C2 server (TLP:GREEN)", "c2-"+short+".example", map[string]any{"confidence": 70}, stix.TLPGreenID)
	indicator(who+": targeted intrusion (TLP:AMBER)", "intrusion-"+short+".example", map[string]any{"confidence": 75}, stix.TLPAmberID)
	indicator(who+": source inside a ministry (TLP:RED)", "red-"+short+".example", map[string]any{"confidence": 95, "labels": []string{"critical"}}, stix.TLPRedID)
	if who == demoSelfName {
		rel := marking("REL TO FRA, DEU", map[string]any{"releasable_to": []string{"FRA", "DEU"}})
		group := marking("sharing group "+demoGroup, map[string]any{"sharing_groups": []string{demoGroup}})
		indicator(who+": wiper staging (TLP:GREEN, REL TO FRA, DEU)", "wiper-staging.example", map[string]any{"confidence": 80}, stix.TLPGreenID, rel)
		indicator(who+": border-crossing botnet (TLP:GREEN, sharing group "+demoGroup+")", "botnet-flank.example", map[string]any{"confidence": 65}, stix.TLPGreenID, group)
		indicator(who+": ransomware payload host (TLP:AMBER+STRICT)", "payload-"+short+".example", map[string]any{"confidence": 80}, stix.TLPAmberStrictID)
		indicator(who+": active exploitation (TLP:GREEN, critical)", "exploit-"+short+".example", map[string]any{"confidence": 90, "labels": []string{"critical"}}, stix.TLPGreenID)
		// A false positive, withdrawn: its revoked version goes first.
		name := who + ": CDN address, a false positive (TLP:GREEN)"
		indicator(name, "cdn-"+short+".example", map[string]any{"confidence": 40}, stix.TLPGreenID)
		indicator(name, "cdn-"+short+".example", map[string]any{"confidence": 40, "modified": stixTime(demoStamp.Add(time.Hour)), "revoked": true}, stix.TLPGreenID)
	}
	objs := make([]stix.Object, 0, len(raws))
	for _, m := range raws {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		o, _, err := stix.Decode(b)
		if err != nil {
			return fmt.Errorf("demo intelligence of %s: %w", who, err)
		}
		objs = append(objs, o)
	}
	c, err := n.Store.Collection(ctx, demoCollection)
	if err != nil {
		return err
	}
	if _, err := n.Store.Put(ctx, c.ID, objs); err != nil {
		return fmt.Errorf("demo intelligence of %s: %w", who, err)
	}
	return nil
}
