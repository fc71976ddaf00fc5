package federation

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// TestUrgentOvertakesBacklog: behind 300 routine indicators, far more
// than the push looks ahead (50), a critical one goes out in the first
// page, alone (routine records would only slow it down); the cursor still
// covers the whole backlog once it is sent, each version exactly once.
func TestUrgentOvertakesBacklog(t *testing.T) {
	a := newNode(t, "a", "CERT-A", "FRA")
	b := newNode(t, "b", "CERT-B", "DEU")
	member := peerSpec{relation: "member", recipient: true}
	link(t, a, b, member, member)
	o := &objs{t: t}
	var backlog []string
	for i := range 300 {
		_, raw := o.indicator(a, fmt.Sprintf("routine-%03d", i), map[string]any{"confidence": 20}, stix.TLPGreenID)
		backlog = append(backlog, raw)
	}
	a.put(t, backlog...)
	urgent, raw := o.indicator(a, "urgent", map[string]any{"confidence": 95, "labels": []string{"critical"}}, stix.TLPGreenID)
	a.put(t, raw)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var posts atomic.Int64
	b.serve(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && posts.Add(1) == 2 {
				cancel() // the link goes down after the first page
				reset(w)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	a.start(t, func(o *Options) { o.PageSize, o.MaxPageSize, o.ScanAhead = 10, 10, 50 })
	b.start(t)
	if err := a.syncer.SyncOnce(ctx, "b"); err == nil {
		t.Fatal("SyncOnce went on after its context was cancelled")
	}
	if err := b.syncer.SyncOnce(context.Background(), "a"); err != nil { // inbox → default
		t.Fatal(err)
	}
	held := b.holdings(t)
	if len(held) != 1 {
		t.Fatalf("b holds %d objects after the first page, want 1 (the critical indicator alone)", len(held))
	}
	found := false
	for _, r := range held {
		found = found || r.Object.ID == urgent
	}
	if !found {
		t.Error("the critical indicator, created last, was not in the first page")
	}
	st, _ := a.syncer.PeerState("b")
	// 291 wait; the lag is counted up to ScanAhead (50).
	if st.LagObjects != 50 || st.LagSeconds <= 0 {
		t.Errorf("lag after one page = %d objects, %.3fs; want 50 (ScanAhead), > 0", st.LagObjects, st.LagSeconds)
	}
	start := time.Now()
	if err := a.syncer.SyncOnce(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	if err := b.syncer.SyncOnce(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if got := len(b.holdings(t)); got != 301 {
		t.Errorf("b holds %d objects, want 301, each once", got)
	}
	st, _ = a.syncer.PeerState("b")
	if st.LagObjects != 0 || st.Sent != 301 {
		t.Errorf("state after catching up = %+v; want no lag and 301 sent", st)
	}
	cur, err := a.db.Cursor(context.Background(), "b", "default", "push")
	if err != nil || cur == "" {
		t.Fatalf("push cursor = %q, %v", cur, err)
	}
	pg, err := a.db.Query(context.Background(), a.coll(t, "default"), storeAfter(t, cur))
	if err != nil || len(pg.Records) != 0 {
		t.Errorf("records after the push cursor = %d, %v; want 0 (the cursor covers the backlog)", len(pg.Records), err)
	}
	t.Logf("backlog of 300 sent in %v (pages of 10, no bandwidth limit)", time.Since(start))
}

func TestPriorityOrder(t *testing.T) {
	rec := func(raw string, added int) store.Record {
		o, _, err := stix.Decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return store.Record{Object: o, DateAdded: time.Unix(int64(added), 0)}
	}
	ind := func(extra string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"` + stamp +
			`","modified":"` + stamp + `","pattern":"[x:y = 'z']","pattern_type":"stix","valid_from":"` + stamp + `"` + extra + `}`
	}
	// In the order they must go.
	recs := []store.Record{
		rec(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"`+stamp+`","name":"x","extensions":{"extension-definition--ee970c8a-812b-4aa5-9c6a-8fd139cff9bc":{"extension_type":"property-extension"}}}`, 9),
		rec(ind(`,"revoked":true`), 7),
		rec(ind(`,"labels":["critical"]`), 5),
		rec(ind(`,"confidence":85`), 8),
		rec(ind(`,"labels":["high"],"confidence":10`), 6),
		rec(ind(`,"confidence":80`), 4),
		rec(ind(`,"confidence":80`), 5),
		rec(ind(``), 1),
	}
	for i := 1; i < len(recs); i++ {
		a, b := priorityOf(recs[i-1]), priorityOf(recs[i])
		if comparePriority(a, b) >= 0 {
			t.Errorf("priority of record %d (%+v) does not come before record %d (%+v)", i-1, a, i, b)
		}
	}
}
