package ioc

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/stix"
)

const nodeIdentity = "identity--5c1a2f7e-0d0b-4c57-9a3e-8f1f5f0d1a11"

func TestSightingOf(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	ind := "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	alerts := []*detect.Alert{
		{Engine: "ioc", Indicator: ind, Time: t0.Add(10 * time.Minute)},
		{Engine: "ioc", Indicator: ind, Time: t0},
		{Engine: "ioc", Indicator: ind, Time: t0.Add(5 * time.Minute)},
		{Engine: "ioc", Indicator: "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", Time: t0},
	}
	objs, err := SightingOf(nodeIdentity, now, alerts...)
	if err != nil {
		t.Fatalf("SightingOf() = %v", err)
	}
	if len(objs) != 1 {
		t.Fatalf("SightingOf() = %d objects, want 1 (observables are skipped)", len(objs))
	}
	if _, issues, err := stix.Decode(objs[0].Raw); err != nil {
		t.Fatalf("stix.Decode(%s) = %v, %v", objs[0].Raw, issues, err)
	}
	var got map[string]any
	if err := json.Unmarshal(objs[0].Raw, &got); err != nil {
		t.Fatal(err)
	}
	delete(got, "id")
	want := map[string]any{
		"type": "sighting", "spec_version": "2.1", "created": "2026-11-27T02:00:00.000Z",
		"modified": "2026-11-27T02:00:00.000Z", "sighting_of_ref": ind, "count": float64(3),
		"first_seen": "2026-11-27T01:00:00.000Z", "last_seen": "2026-11-27T01:10:00.000Z",
		"where_sighted_refs": []any{nodeIdentity},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SightingOf() object (-want +got):\n%s", diff)
	}
	if objs[0].Type != "sighting" {
		t.Errorf("SightingOf() type = %q, want sighting", objs[0].Type)
	}
}

func TestAggregator(t *testing.T) {
	g := NewAggregator(nodeIdentity)
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	a, b := "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator--0a6f7b6e-6cb7-4d8a-8c54-0d3bb0b2a0c1"
	for i := range 5 {
		g.Add(&detect.Alert{Engine: "ioc", Indicator: a, Time: t0.Add(time.Duration(i) * time.Second)})
	}
	g.Add(&detect.Alert{Engine: "ioc", Indicator: b, Time: t0})
	g.Add(&detect.Alert{Engine: "sigma", Indicator: b, Time: t0})
	objs, err := g.Flush(t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	counts := map[string]float64{}
	for _, o := range objs {
		if _, _, err := stix.Decode(o.Raw); err != nil {
			t.Errorf("stix.Decode(%s) = %v", o.Raw, err)
		}
		var s map[string]any
		if err := json.Unmarshal(o.Raw, &s); err != nil {
			t.Fatal(err)
		}
		counts[s["sighting_of_ref"].(string)] = s["count"].(float64)
	}
	if want := map[string]float64{a: 5, b: 1}; !cmp.Equal(counts, want) {
		t.Errorf("Flush() counts = %v, want %v", counts, want)
	}
	if objs, err := g.Flush(t0.Add(2 * time.Minute)); len(objs) != 0 || err != nil {
		t.Errorf("second Flush() = %d objects, %v, want none", len(objs), err)
	}
}
