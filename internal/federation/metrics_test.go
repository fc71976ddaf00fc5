package federation

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shieldwall/shieldwall/internal/stix"
)

func TestMetrics(t *testing.T) {
	a := newNode(t, "a", "CERT-A", "FRA")
	b := newNode(t, "b", "CERT-B", "DEU")
	member := peerSpec{relation: "member", recipient: true}
	link(t, a, b, member, member)
	o := &objs{t: t}
	_, green := o.indicator(a, "g", nil, stix.TLPGreenID)
	_, red := o.indicator(a, "r", nil, stix.TLPRedID)
	a.put(t, green, red)
	a.start(t)
	if err := a.syncer.SyncOnce(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(a.syncer.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			if m.Gauge != nil {
				got[key] = m.GetGauge().GetValue()
			} else {
				got[key] = m.GetCounter().GetValue()
			}
		}
	}
	for key, want := range map[string]float64{
		"shieldwall_federation_peer_link,peer=b,state=connected":          1,
		"shieldwall_federation_peer_link,peer=b,state=cut":                0,
		"shieldwall_federation_peer_objects_total,outcome=sent,peer=b":    1,
		"shieldwall_federation_peer_objects_total,outcome=denied,peer=b":  1,
		"shieldwall_federation_peer_lag_objects,peer=b":                   0,
		"shieldwall_federation_peer_objects_total,outcome=no_echo,peer=b": 0,
		"shieldwall_federation_peer_objects_total,outcome=skipped,peer=b": 0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("metric %s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	if got["shieldwall_federation_peer_bytes_total,direction=out,peer=b"] <= 0 {
		t.Error("no bytes out counted")
	}
}
