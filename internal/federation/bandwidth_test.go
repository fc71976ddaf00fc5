package federation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// TestBandwidthBudget: pushing over a 32 kbit/s budget takes at least the
// time the bytes on the wire need at that rate (minus the limiter's burst).
func TestBandwidthBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about two seconds of throttled transfer")
	}
	a := newNode(t, "a", "CERT-A", "FRA")
	b := newNode(t, "b", "CERT-B", "DEU")
	member := peerSpec{relation: "member", recipient: true}
	link(t, a, b, member, member)
	a.peers[0].Link.Bandwidth.BitsPerSecond = 32000 // 4000 bytes/s
	o := &objs{t: t}
	var raws []string
	for i := range 40 {
		junk := make([]byte, 96)
		rand.Read(junk)
		_, raw := o.indicator(a, hex.EncodeToString(junk), map[string]any{"description": hex.EncodeToString(junk)}, stix.TLPClearID)
		raws = append(raws, raw)
		_ = i
	}
	a.put(t, raws...)
	// Pages of 250 ms at 4000 B/s: 1 KB on the wire each; the budget's burst
	// is then its one second.
	a.start(t, func(o *Options) { o.TargetPageTime = 250 * time.Millisecond })
	b.start(t)
	start := time.Now()
	if err := a.syncer.SyncOnce(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	st, _ := a.syncer.PeerState("b")
	wire := st.BytesIn + st.BytesOut
	burst := a.syncer.peers["b"].limiter.Burst()
	floor := time.Duration(float64(wire-int64(burst)) / 4000 * float64(time.Second))
	t.Logf("40 objects, %d bytes on the wire (%d out, %d in) in %v over a 32 kbit/s budget (floor %v); page size now %d",
		wire, st.BytesOut, st.BytesIn, took, floor, st.PageSize)
	if wire < 8000 {
		t.Fatalf("only %d bytes on the wire: the test does not exercise the budget", wire)
	}
	if took < floor*9/10 {
		t.Errorf("SyncOnce took %v for %d bytes; a 4000 B/s budget needs at least %v", took, wire, floor)
	}
	if err := b.syncer.SyncOnce(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if got := len(b.holdings(t)); got != 40 {
		t.Errorf("b holds %d, want 40", got)
	}
}
