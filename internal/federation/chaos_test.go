package federation

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// smallPages makes many pages, so that faults land in the middle of a
// transfer.
func smallPages(o *Options) { o.PageSize, o.MaxPageSize, o.ScanAhead = 2, 4, 8 }

// TestAllianceFlakyLinks: every link refuses, resets or loses the answer
// of 30% of requests for a while; after the links heal the alliance
// reaches exactly the expected holdings: nothing lost, duplicated or
// leaked.
func TestAllianceFlakyLinks(t *testing.T) {
	n, labels := alliance(t)
	var (
		on     atomic.Bool
		faults atomic.Int64
	)
	on.Store(true)
	for i, name := range nodeNames {
		n[name].serve(t, chaos(uint64(i+1), 0.15, &on, &faults))
		n[name].start(t, smallPages)
	}
	ctx := context.Background()
	failures := 0
	for range 12 {
		for _, nd := range nodesOf(n) {
			for _, p := range nd.syncer.Peers() {
				if nd.syncer.SyncOnce(ctx, p) != nil {
					failures++
				}
			}
		}
	}
	if faults.Load() == 0 || failures == 0 {
		t.Fatalf("%d faults injected, %d syncs failed: the fault injection does not work", faults.Load(), failures)
	}
	degraded := 0
	for _, nd := range nodesOf(n) {
		for _, st := range nd.syncer.States() {
			if st.Link != LinkConnected && st.LastError != "" {
				degraded++
			}
		}
	}
	t.Logf("%d faults injected, %d syncs failed; %d peer links not connected at the end of it", faults.Load(), failures, degraded)
	on.Store(false)
	rounds := converge(t, nodesOf(n), 40)
	t.Logf("fixed point %d rounds after the links healed", rounds)
	checkHoldings(t, n, labels)
}

// TestAllianceNodeKilled: the nodes sync in the background; the hub is
// stopped in the middle of a transfer (its context cancelled while a
// spoke is answering it), its store closed and reopened from the file with
// a new Syncer, as after a crash; the alliance converges to exactly the
// expected holdings.
func TestAllianceNodeKilled(t *testing.T) {
	n, labels := alliance(t)
	ctx, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	hubCtx, killHub := context.WithCancel(ctx)
	defer killHub()
	var requests atomic.Int64
	killAt := int64(15)
	for _, name := range nodeNames[1:] {
		n[name].serve(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && requests.Add(1) == killAt {
					killHub() // mid-page: the hub dies while this POST is in flight
				}
				h.ServeHTTP(w, r)
			})
		})
	}
	for _, name := range nodeNames {
		n[name].start(t, smallPages)
	}
	var wg sync.WaitGroup
	hubDone := make(chan struct{})
	for _, name := range nodeNames {
		c := ctx
		if name == "hub" {
			c = hubCtx
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n[name].syncer.Run(c)
			if name == "hub" {
				close(hubDone)
			}
		}()
	}
	select {
	case <-hubDone:
	case <-time.After(20 * time.Second):
		t.Fatal("the hub was never killed: fewer POSTs than expected")
	}
	// Partial state: the hub must not have finished.
	if requests.Load() < killAt {
		t.Fatalf("hub stopped after %d POSTs, before the kill", requests.Load())
	}
	hub := n["hub"]
	if err := hub.db.Close(); err != nil {
		t.Fatal(err)
	}
	hub.open(t)
	hub.serve(t, nil)
	hub.start(t, smallPages)
	cancelAll()
	wg.Wait()
	rounds := converge(t, nodesOf(n), 40)
	t.Logf("hub killed at POST %d; fixed point %d rounds after its restart", killAt, rounds)
	checkHoldings(t, n, labels)
}
