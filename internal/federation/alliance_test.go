package federation

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// The alliance: a hub (ALLIANCE-CDC, no nation), three nations and one
// partner, hub-and-spoke. How the hub sees each spoke:
//
//	fra  member  groups alliance, west    recipient of the hub's AMBER
//	deu  member  groups alliance, west    recipient
//	pol  member  groups alliance, baltic  not a recipient; sightings lose where_sighted_refs
//	xp   partner no group                 not a recipient; never gets sightings
//
// Every spoke sees the hub as member (xp: partner) in groups alliance, west
// and baltic (xp: alliance) and names it recipient of its own AMBER.
var nodeNames = []string{"hub", "fra", "deu", "pol", "xp"}

// wantHoldings is what each node must hold after sync, by object label,
// worked out by hand from the TLP 2.0 and releasability rules of
// docs/federation.md (not by calling the policy):
//   - CLEAR and GREEN go everywhere in the community, across the hub.
//   - AMBER / AMBER+STRICT made at a spoke go to the hub (named recipient)
//     and stop: the hub received them, and has no clients.
//   - AMBER / AMBER+STRICT made at the hub go to its named recipients fra
//     and deu, and stop there (the only way on is back, to the hub).
//   - RED and unmarked objects never leave.
//   - REL TO / sharing groups must let every hop through.
var wantHoldings = map[string]string{
	"hub-clear": "hub fra deu pol xp", "hub-green": "hub fra deu pol xp",
	"hub-amber": "hub fra deu", "hub-amber+strict": "hub fra deu", "hub-red": "hub",
	"fra-clear": "hub fra deu pol xp", "fra-green": "hub fra deu pol xp",
	"fra-amber": "fra hub", "fra-amber+strict": "fra hub", "fra-red": "fra",
	"deu-clear": "hub fra deu pol xp", "deu-green": "hub fra deu pol xp",
	"deu-amber": "deu hub", "deu-amber+strict": "deu hub", "deu-red": "deu",
	"pol-clear": "hub fra deu pol xp", "pol-green": "hub fra deu pol xp",
	"pol-amber": "pol hub", "pol-amber+strict": "pol hub", "pol-red": "pol",
	"xp-clear": "hub fra deu pol xp", "xp-green": "hub fra deu pol xp",
	"xp-amber": "xp hub", "xp-amber+strict": "xp hub", "xp-red": "xp",
	// Group west: fra and deu are in it, pol and xp are not.
	"hub-green-west": "hub fra deu",
	// CLEAR, but REL TO JPN only: the partner's nation.
	"hub-clear-rel-jpn": "hub xp",
	// REL TO ALLIANCE-CDC, FRA, DEU: through the hub to deu only.
	"fra-green-rel-deu": "fra hub deu",
	// Group baltic: the hub is in it, but no other spoke the hub serves is
	// except pol itself.
	"pol-green-baltic": "pol hub",
	// Two REL TO markings, [ALLIANCE-CDC FRA DEU POL] and [ALLIANCE-CDC POL]:
	// their intersection lets it reach pol only.
	"deu-green-rel-pol": "deu hub pol",
	// Group alliance: every member; the partner sent it.
	"xp-green-alliance": "hub fra deu pol xp",
	// No TLP marking, and the policy shares no unmarked object.
	"fra-unmarked": "fra",
	// A GREEN sighting: not to the partner (deny_types), pol gets it
	// without where_sighted_refs.
	"fra-sighting": "fra hub deu pol",
}

// alliance builds the five nodes, links them and creates the objects;
// labels maps object ids to labels.
func alliance(t *testing.T) (map[string]*node, map[string]string) {
	t.Helper()
	n := map[string]*node{
		"hub": newNode(t, "hub", "ALLIANCE-CDC", ""),
		"fra": newNode(t, "fra", "CERT-FR", "FRA"),
		"deu": newNode(t, "deu", "CERT-Bund", "DEU"),
		"pol": newNode(t, "pol", "CERT-PL", "POL"),
		"xp":  newNode(t, "xp", "CERT-XP", "JPN"),
	}
	hubSeen := peerSpec{relation: "member", groups: []string{"alliance", "west", "baltic"}, recipient: true}
	link(t, n["hub"], n["fra"], peerSpec{relation: "member", groups: []string{"alliance", "west"}, recipient: true}, hubSeen)
	link(t, n["hub"], n["deu"], peerSpec{relation: "member", groups: []string{"alliance", "west"}, recipient: true}, hubSeen)
	link(t, n["hub"], n["pol"], peerSpec{relation: "member", groups: []string{"alliance", "baltic"},
		strip: map[string][]string{"sighting": {"where_sighted_refs"}}}, hubSeen)
	link(t, n["hub"], n["xp"], peerSpec{relation: "partner", denyTypes: []string{"sighting"}},
		peerSpec{relation: "partner", groups: []string{"alliance"}, recipient: true})

	o := &objs{t: t}
	labels := map[string]string{}
	add := func(nd *node, label, id, raw string) {
		labels[id] = label
		nd.put(t, raw)
	}
	tlps := []struct{ level, id string }{
		{"clear", stix.TLPClearID}, {"green", stix.TLPGreenID}, {"amber", stix.TLPAmberID},
		{"amber+strict", stix.TLPAmberStrictID}, {"red", stix.TLPRedID},
	}
	for _, name := range nodeNames {
		for _, l := range tlps {
			id, raw := o.indicator(n[name], name+"-"+l.level, nil, l.id)
			add(n[name], name+"-"+l.level, id, raw)
		}
	}
	west, westRaw := o.rel(n["hub"], nil, []string{"west"})
	n["hub"].put(t, westRaw)
	id, raw := o.indicator(n["hub"], "hub-green-west", nil, stix.TLPGreenID, west)
	add(n["hub"], "hub-green-west", id, raw)
	jpn, jpnRaw := o.rel(n["hub"], []string{"JPN"}, nil)
	n["hub"].put(t, jpnRaw)
	id, raw = o.indicator(n["hub"], "hub-clear-rel-jpn", nil, stix.TLPClearID, jpn)
	add(n["hub"], "hub-clear-rel-jpn", id, raw)
	relDEU, relDEURaw := o.rel(n["fra"], []string{"ALLIANCE-CDC", "FRA", "DEU"}, nil)
	n["fra"].put(t, relDEURaw)
	id, raw = o.indicator(n["fra"], "fra-green-rel-deu", nil, stix.TLPGreenID, relDEU)
	add(n["fra"], "fra-green-rel-deu", id, raw)
	baltic, balticRaw := o.rel(n["pol"], nil, []string{"baltic"})
	n["pol"].put(t, balticRaw)
	id, raw = o.indicator(n["pol"], "pol-green-baltic", nil, stix.TLPGreenID, baltic)
	add(n["pol"], "pol-green-baltic", id, raw)
	wide, wideRaw := o.rel(n["deu"], []string{"ALLIANCE-CDC", "FRA", "DEU", "POL"}, nil)
	narrow, narrowRaw := o.rel(n["deu"], []string{"ALLIANCE-CDC", "POL"}, nil)
	n["deu"].put(t, wideRaw, narrowRaw)
	id, raw = o.indicator(n["deu"], "deu-green-rel-pol", nil, stix.TLPGreenID, wide, narrow)
	add(n["deu"], "deu-green-rel-pol", id, raw)
	all, allRaw := o.rel(n["xp"], nil, []string{"alliance"})
	n["xp"].put(t, allRaw)
	id, raw = o.indicator(n["xp"], "xp-green-alliance", nil, stix.TLPGreenID, all)
	add(n["xp"], "xp-green-alliance", id, raw)
	id, raw = o.indicator(n["fra"], "fra-unmarked", nil)
	add(n["fra"], "fra-unmarked", id, raw)
	var fraGreen string
	for id, l := range labels {
		if l == "fra-green" {
			fraGreen = id
		}
	}
	sid := "sighting--" + o.uuid()
	add(n["fra"], "fra-sighting", sid, `{"type":"sighting","spec_version":"2.1","id":"`+sid+`","created":"`+stamp+`","modified":"`+stamp+
		`","sighting_of_ref":"`+fraGreen+`","where_sighted_refs":["`+n["fra"].id.ID()+`"],"count":3,"created_by_ref":"`+n["fra"].id.ID()+
		`","object_marking_refs":["`+stix.TLPGreenID+`"]}`)
	// fra-green is revoked later: the revoked version must follow.
	_, rawRev := o.indicator(n["fra"], "fra-green", map[string]any{"id": fraGreen, "modified": "2026-01-03T00:00:00.000Z", "revoked": true}, stix.TLPGreenID)
	n["fra"].put(t, rawRev)
	return n, labels
}

// checkHoldings compares every node's default collection with wantHoldings:
// the same labels, each version once, marking-definitions everywhere, the
// revocation of fra-green followed, and the sighting redacted at pol.
func checkHoldings(t *testing.T, n map[string]*node, labels map[string]string) {
	t.Helper()
	want := map[string][]string{}
	for label, holders := range wantHoldings {
		for _, h := range strings.Fields(holders) {
			want[h] = append(want[h], label)
		}
	}
	var markings int
	for _, r := range n["hub"].holdings(t) {
		if r.Object.Type == "marking-definition" {
			markings++
		}
	}
	for _, name := range nodeNames {
		got := map[string]bool{}
		versions := map[string]int{}
		var gotMarkings int
		for _, r := range n[name].holdings(t) {
			if r.Object.Type == "marking-definition" {
				gotMarkings++
				continue
			}
			label, ok := labels[r.Object.ID]
			if !ok {
				t.Errorf("%s holds %s, which no node made", name, r.Object.ID)
				continue
			}
			got[label] = true
			versions[label]++
			if label == "fra-sighting" && name == "pol" && strings.Contains(string(r.Object.Raw), "where_sighted_refs") {
				t.Errorf("pol holds the sighting with where_sighted_refs: %s", r.Object.Raw)
			}
			if label == "fra-sighting" && name != "pol" && !strings.Contains(string(r.Object.Raw), "where_sighted_refs") {
				t.Errorf("%s holds the sighting without where_sighted_refs", name)
			}
		}
		var gotLabels []string
		for l := range got {
			gotLabels = append(gotLabels, l)
		}
		sort.Strings(gotLabels)
		w := slices.Clone(want[name])
		sort.Strings(w)
		if diff := cmp.Diff(w, gotLabels); diff != "" {
			t.Errorf("holdings of %s (-want +got):\n%s", name, diff)
		}
		if got["fra-green"] && versions["fra-green"] != 2 {
			t.Errorf("%s holds %d versions of fra-green, want 2 (the revocation follows)", name, versions["fra-green"])
		}
		if gotMarkings != markings || markings != 7 {
			t.Errorf("%s holds %d marking-definitions, hub %d; want the 7 made, everywhere", name, gotMarkings, markings)
		}
	}
}

func TestAllianceHoldings(t *testing.T) {
	n, labels := alliance(t)
	for _, name := range nodeNames {
		n[name].start(t)
	}
	rounds := converge(t, nodesOf(n), 20)
	t.Logf("fixed point after %d rounds", rounds)
	checkHoldings(t, n, labels)
	for _, name := range nodeNames {
		for _, st := range n[name].syncer.States() {
			if st.Link != LinkConnected || st.LagObjects != 0 || st.Refused != 0 {
				t.Errorf("%s: state of %s = %+v; want connected, no lag, nothing refused", name, st.Peer, st)
			}
		}
	}
	// Explain: why pol did not get hub-green-west, and why fra did.
	var west string
	for id, l := range labels {
		if l == "hub-green-west" {
			west = id
		}
	}
	ctx := context.Background()
	for _, c := range []struct{ peer, action, rule string }{{"pol", "deny", "sharing-group"}, {"fra", "allow", "allow"}} {
		ex, err := n["hub"].syncer.Explain(ctx, c.peer, west)
		if err != nil {
			t.Fatalf("Explain(%s, hub-green-west): %v", c.peer, err)
		}
		if len(ex.Recorded) != 1 || ex.Recorded[0].Action != c.action || ex.Recorded[0].Rule != c.rule {
			t.Errorf("Explain(%s, hub-green-west).Recorded = %+v, want one %s by %s", c.peer, ex.Recorded, c.action, c.rule)
		}
		if len(ex.Current) != 1 || string(ex.Current[0].Decision.Action) != c.action {
			t.Errorf("Explain(%s, hub-green-west).Current = %+v, want %s", c.peer, ex.Current, c.action)
		}
	}
	_ = time.Second
}

func nodesOf(n map[string]*node) []*node {
	var out []*node
	for _, name := range nodeNames {
		out = append(out, n[name])
	}
	return out
}
