package federation

import (
	"context"
	"testing"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// BenchmarkDecide is the per-object, per-peer cost of a push: origins
// from the store, Describe, Decide (and Strip when redacting).
func BenchmarkDecide(b *testing.B) {
	a := newNode(b, "a", "CERT-A", "FRA")
	c := newNode(b, "c", "CERT-C", "DEU")
	link(b, a, c, peerSpec{relation: "member", recipient: true, strip: map[string][]string{"indicator": {"description"}}},
		peerSpec{relation: "member"})
	o := &objs{t: b}
	_, raw := o.indicator(a, "x", map[string]any{"description": "secret"}, stix.TLPAmberID)
	a.put(b, raw)
	a.start(b)
	recs := a.holdings(b)
	var r store.Record
	for _, v := range recs {
		r = v
	}
	p := a.syncer.peers["c"]
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := a.syncer.decide(ctx, p, r)
		if err != nil || out.raw == nil {
			b.Fatalf("decide = %+v, %v", out.decision, err)
		}
	}
}

func BenchmarkPriorityOf(b *testing.B) {
	o := &objs{t: b}
	n := newNode(b, "a", "CERT-A", "FRA")
	_, raw := o.indicator(n, "x", map[string]any{"confidence": 90, "labels": []string{"malicious-activity", "high"}}, stix.TLPGreenID)
	obj, _, err := stix.Decode([]byte(raw))
	if err != nil {
		b.Fatal(err)
	}
	r := store.Record{Object: obj}
	b.ReportAllocs()
	for b.Loop() {
		if priorityOf(r).class != 0 {
			b.Fatal("wrong class")
		}
	}
}
