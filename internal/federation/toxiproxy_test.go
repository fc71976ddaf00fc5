package federation

import (
	"context"
	"net/http"
	"strings"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// throughToxiproxy puts a toxiproxy proxy in front of every node's TAXII
// server and points every peer configuration at it.
func throughToxiproxy(t *testing.T, n map[string]*node) map[string]*toxiproxy.Proxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxies := map[string]*toxiproxy.Proxy{}
	for _, name := range nodeNames {
		up := strings.TrimPrefix(n[name].ts.URL, "http://")
		p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", up)
		if err := p.Start(); err != nil {
			t.Fatalf("toxiproxy for %s: %v", name, err)
		}
		t.Cleanup(p.Stop)
		proxies[name] = p
	}
	for _, name := range nodeNames {
		for i := range n[name].peers {
			pc := &n[name].peers[i]
			pc.URL = "http://" + proxies[pc.Name].Listen + "/taxii2/root/"
		}
	}
	return proxies
}

func addToxic(t *testing.T, p *toxiproxy.Proxy, js string) {
	t.Helper()
	if _, err := p.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
		t.Fatalf("toxic %s on %s: %v", js, p.Name, err)
	}
}

// TestAllianceToxiproxy: every link has latency and a bandwidth limit; the
// hub's link resets connections mid-transfer for a while, then heals. The
// alliance converges to exactly the expected holdings.
func TestAllianceToxiproxy(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of slowed links")
	}
	n, labels := alliance(t)
	proxies := throughToxiproxy(t, n)
	for _, p := range proxies {
		addToxic(t, p, `{"name":"latency","type":"latency","stream":"downstream","toxicity":1,"attributes":{"latency":15,"jitter":5}}`)
		addToxic(t, p, `{"name":"bandwidth","type":"bandwidth","stream":"downstream","toxicity":1,"attributes":{"rate":256}}`)
	}
	// Half the connections to the hub are cut after 2 KB upstream (in the
	// middle of a POST), and 70% are reset as they open.
	addToxic(t, proxies["hub"], `{"name":"limit","type":"limit_data","stream":"upstream","toxicity":0.5,"attributes":{"bytes":2048}}`)
	addToxic(t, proxies["hub"], `{"name":"reset","type":"reset_peer","stream":"upstream","toxicity":0.7,"attributes":{"timeout":0}}`)
	for _, name := range nodeNames {
		n[name].start(t, smallPages, func(o *Options) {
			// Fresh connections each request, so the toxics apply to each.
			o.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		})
	}
	ctx := context.Background()
	failures := 0
	for range 6 {
		for _, nd := range nodesOf(n) {
			for _, p := range nd.syncer.Peers() {
				if nd.syncer.SyncOnce(ctx, p) != nil {
					failures++
				}
			}
		}
	}
	if failures == 0 {
		t.Fatal("no sync failed through the resetting link: the toxics do not bite")
	}
	for _, name := range []string{"limit", "reset"} {
		if err := proxies["hub"].Toxics.RemoveToxic(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	rounds := converge(t, nodesOf(n), 40)
	t.Logf("%d syncs failed through toxiproxy; fixed point %d rounds after the hub's link healed", failures, rounds)
	checkHoldings(t, n, labels)
}
