package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/stix"
)

func mustObject(t *testing.T, raw string) stix.Object {
	t.Helper()
	o, _, err := stix.Decode([]byte(raw))
	if err != nil {
		t.Fatalf("Decode(%s): %v", raw, err)
	}
	return o
}

const (
	relFRADEU = "marking-definition--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	relDEUPOL = "marking-definition--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	statement = "marking-definition--cccccccc-cccc-4ccc-8ccc-cccccccccccc"
)

func markings(t *testing.T) func(string) (stix.Object, bool) {
	ms := map[string]stix.Object{
		relFRADEU: mustObject(t, `{"type":"marking-definition","spec_version":"2.1","id":"`+relFRADEU+`","created":"2026-01-01T00:00:00.000Z","name":"REL TO FRA, DEU","extensions":{"`+ReleasabilityExtensionID+`":{"extension_type":"property-extension","releasable_to":["FRA","DEU"],"sharing_groups":["g1"]}}}`),
		relDEUPOL: mustObject(t, `{"type":"marking-definition","spec_version":"2.1","id":"`+relDEUPOL+`","created":"2026-01-01T00:00:00.000Z","name":"REL TO DEU, POL","extensions":{"`+ReleasabilityExtensionID+`":{"extension_type":"property-extension","releasable_to":["deu","POL"]}}}`),
		statement: mustObject(t, `{"type":"marking-definition","spec_version":"2.1","id":"`+statement+`","created":"2026-01-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright X"}}`),
	}
	return func(id string) (stix.Object, bool) { o, ok := ms[id]; return o, ok }
}

func indicator(refs string) string {
	return `{"type":"indicator","spec_version":"2.1","id":"indicator--dddddddd-dddd-4ddd-8ddd-dddddddddddd","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","created_by_ref":"` + otherIdentity + `","object_marking_refs":[` + refs + `]}`
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name    string
		refs    string
		want    Item
		wantErr bool
	}{
		{"tlp only", `"` + stix.TLPAmberStrictID + `","` + stix.TLPGreenID + `"`, Item{TLP: AmberStrict}, false},
		{"tlp 1.0 white", `"` + stix.TLP1WhiteID + `"`, Item{TLP: Clear}, false},
		{"releasability", `"` + stix.TLPGreenID + `","` + relFRADEU + `"`, Item{TLP: Green, ReleasableTo: []string{"FRA", "DEU"}, Groups: []string{"g1"}}, false},
		{"two markings intersect", `"` + relFRADEU + `","` + relDEUPOL + `"`, Item{ReleasableTo: []string{"DEU"}, Groups: []string{"g1"}}, false},
		{"statement restricts nothing", `"` + statement + `"`, Item{}, false},
		{"unknown marking is an error", `"marking-definition--eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"`, Item{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Describe(mustObject(t, indicator(tc.refs)), "hub", markings(t))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Describe error = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			tc.want.ID, tc.want.Type, tc.want.CreatedBy, tc.want.ReceivedFrom = "indicator--dddddddd-dddd-4ddd-8ddd-dddddddddddd", "indicator", otherIdentity, "hub"
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Describe (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDisjointReleasabilityReachesNobody(t *testing.T) {
	m := markings(t)
	fra := `marking-definition--ffffffff-ffff-4fff-8fff-ffffffffffff`
	mm := func(id string) (stix.Object, bool) {
		if id == fra {
			return mustObject(t, `{"type":"marking-definition","spec_version":"2.1","id":"`+fra+`","created":"2026-01-01T00:00:00.000Z","extensions":{"`+ReleasabilityExtensionID+`":{"extension_type":"property-extension","releasable_to":["FRA"]}}}`), true
		}
		return m(id)
	}
	it, err := Describe(mustObject(t, indicator(`"`+fra+`","`+relDEUPOL+`","`+stix.TLPClearID+`"`)), "", mm)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Peer{
		{Name: "fr", Org: "CERT-FR", Nation: "FRA", Relation: Member},
		{Name: "de", Org: "CERT-DE", Nation: "DEU", Relation: Member},
		{Name: "pl", Org: "CERT-PL", Nation: "POL", Relation: Member},
	} {
		if d := Decide(Rules{}, self, it, p); d.Action != Deny || d.Rule != "rel-to" {
			t.Errorf("REL TO FRA ∩ REL TO DEU,POL to %s: %s; want deny (rel-to)", p.Name, d)
		}
	}
}
