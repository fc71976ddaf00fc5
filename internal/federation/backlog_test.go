package federation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// TestBacklogByClass: a known backlog of each priority class, plus records
// the policy withholds, is counted as such before the push; a limit below
// it makes the count a lower bound; after the push nothing waits.
func TestBacklogByClass(t *testing.T) {
	a := newNode(t, "a", "CERT-A", "FRA")
	b := newNode(t, "b", "CERT-B", "DEU")
	member := peerSpec{relation: "member", recipient: true}
	link(t, a, b, member, member)
	o := &objs{t: t}
	var raws []string
	want := map[string]int{ClassMarking: 2, ClassRevocation: 3, ClassUrgent: 4, ClassNormal: 5}
	for i := range want[ClassMarking] {
		_, raw := o.rel(a, []string{fmt.Sprintf("N%d", i)}, nil)
		raws = append(raws, raw)
	}
	for i := range want[ClassRevocation] {
		_, raw := o.indicator(a, fmt.Sprintf("revoked-%d", i), map[string]any{"revoked": true}, stix.TLPGreenID)
		raws = append(raws, raw)
	}
	for i := range want[ClassUrgent] {
		_, raw := o.indicator(a, fmt.Sprintf("urgent-%d", i), map[string]any{"confidence": 90}, stix.TLPGreenID)
		raws = append(raws, raw)
	}
	for i := range want[ClassNormal] {
		_, raw := o.indicator(a, fmt.Sprintf("normal-%d", i), map[string]any{"confidence": 20}, stix.TLPAmberID)
		raws = append(raws, raw)
	}
	const red = 6 // TLP:RED never leaves: withheld, urgent or not
	for i := range red {
		_, raw := o.indicator(a, fmt.Sprintf("red-%d", i), map[string]any{"confidence": 99}, stix.TLPRedID)
		raws = append(raws, raw)
	}
	a.put(t, raws...)
	a.start(t)
	b.start(t)
	ctx := context.Background()

	bc := NewBacklogCounter(a.syncer, 0, time.Nanosecond)
	got, err := bc.Backlog(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range BacklogClasses {
		if got.ByClass[cl] != want[cl] {
			t.Errorf("backlog[%s] = %d, want %d", cl, got.ByClass[cl], want[cl])
		}
	}
	if got.Withheld != red || got.Capped || got.Total() != 14 {
		t.Errorf("backlog = %+v; want %d withheld, not capped, 14 to send", got, red)
	}
	if _, err := bc.Backlog(ctx, "nobody"); err == nil {
		t.Error("the backlog of an unknown peer was counted")
	}

	// A limit below the backlog: lower bounds, and said so.
	capped, err := NewBacklogCounter(a.syncer, 5, time.Nanosecond).Backlog(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if !capped.Capped || capped.Total()+capped.Withheld != 5 || capped.Limit != 5 {
		t.Errorf("backlog with limit 5 = %+v; want 5 counted and capped", capped)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(bc.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	metrics := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			k := mf.GetName()
			for _, l := range mt.GetLabel() {
				k += "," + l.GetName() + "=" + l.GetValue()
			}
			metrics[k] = mt.GetGauge().GetValue()
		}
	}
	for k, v := range map[string]float64{
		"shieldwall_federation_peer_backlog_objects,class=marking,peer=b":    2,
		"shieldwall_federation_peer_backlog_objects,class=revocation,peer=b": 3,
		"shieldwall_federation_peer_backlog_objects,class=urgent,peer=b":     4,
		"shieldwall_federation_peer_backlog_objects,class=normal,peer=b":     5,
		"shieldwall_federation_peer_backlog_withheld_objects,peer=b":         red,
		"shieldwall_federation_peer_backlog_capped,peer=b":                   0,
	} {
		if got, ok := metrics[k]; !ok || got != v {
			t.Errorf("metric %s = %v (present %v), want %v", k, got, ok, v)
		}
	}

	if err := a.syncer.SyncOnce(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	after, err := bc.Backlog(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if after.Total() != 0 || after.Withheld != 0 || after.Capped {
		t.Errorf("backlog after the push = %+v; want nothing waiting", after)
	}
	// A new record waits again, in its class.
	_, raw := o.indicator(a, "late", map[string]any{"labels": []string{"critical"}}, stix.TLPClearID)
	a.put(t, raw)
	if late, _ := bc.Backlog(ctx, "b"); late.ByClass[ClassUrgent] != 1 || late.Total() != 1 {
		t.Errorf("backlog after a new critical indicator = %+v; want 1 urgent", late)
	}
}

// TestBacklogCached: within its ttl a count is not redone.
func TestBacklogCached(t *testing.T) {
	a := newNode(t, "a", "CERT-A", "FRA")
	b := newNode(t, "b", "CERT-B", "DEU")
	member := peerSpec{relation: "member", recipient: true}
	link(t, a, b, member, member)
	a.start(t)
	bc := NewBacklogCounter(a.syncer, 0, time.Hour)
	first, err := bc.Backlog(context.Background(), "b")
	if err != nil || first.Total() != 0 {
		t.Fatalf("empty backlog = %+v, %v", first, err)
	}
	o := &objs{t: t}
	_, raw := o.indicator(a, "x", nil, stix.TLPGreenID)
	a.put(t, raw)
	if again, _ := bc.Backlog(context.Background(), "b"); !again.Counted.Equal(first.Counted) || again.Total() != 0 {
		t.Errorf("a count within its ttl was redone: %+v", again)
	}
}
