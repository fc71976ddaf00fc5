package federation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// diamond links a to b and c, b and c to each other and to d: every
// object a makes has two paths to d, and b and c each get it from a.
func diamond(t *testing.T) (a, b, c, d *node) {
	t.Helper()
	a = newNode(t, "a", "CERT-A", "FRA")
	b = newNode(t, "b", "CERT-B", "DEU")
	c = newNode(t, "c", "CERT-C", "POL")
	d = newNode(t, "d", "CERT-D", "ITA")
	member := peerSpec{relation: "member", recipient: true}
	link(t, a, b, member, member)
	link(t, a, c, member, member)
	link(t, b, c, member, member)
	link(t, b, d, member, member)
	link(t, c, d, member, member)
	return a, b, c, d
}

// syncPasses runs SyncOnce on every link except those cut (from→to) until
// nothing new arrives for two passes.
func syncPasses(t *testing.T, nodes []*node, cut map[string]bool, pause time.Duration) {
	t.Helper()
	ctx := context.Background()
	last, quiet := -1, 0
	for range 40 {
		for _, n := range nodes {
			for _, p := range n.syncer.Peers() {
				if cut[n.name+"→"+p] {
					continue
				}
				if err := n.syncer.SyncOnce(ctx, p); err != nil {
					t.Fatalf("%s syncs %s: %v", n.name, p, err)
				}
			}
		}
		total := 0
		for _, n := range nodes {
			total += len(n.holdings(t))
		}
		if total == last {
			if quiet++; quiet == 2 {
				return
			}
		} else {
			quiet = 0
		}
		last = total
		time.Sleep(pause)
	}
	t.Fatal("no fixed point after 40 passes")
}

func sumStates(nodes []*node) (st State) {
	for _, n := range nodes {
		for _, s := range n.syncer.States() {
			st.Sent += s.Sent
			st.Denied += s.Denied
			st.NoEcho += s.NoEcho
			st.Skipped += s.Skipped
			st.Prunes += s.Prunes
			st.Grafts += s.Grafts
		}
	}
	return st
}

func publish(t *testing.T, o *objs, n *node, k int, round int) {
	t.Helper()
	var raws []string
	for i := range k {
		_, raw := o.indicator(n, fmt.Sprintf("r%d-%d", round, i), nil, stix.TLPGreenID)
		raws = append(raws, raw)
	}
	n.put(t, raws...)
}

// TestRelayTreesPrune: over a mesh, a link whose peer reports a creator's
// objects as held from elsewhere stops relaying them, every node still
// holds everything once, and the records withheld are counted as skipped,
// not logged one by one.
func TestRelayTreesPrune(t *testing.T) {
	a, b, c, d := diamond(t)
	nodes := []*node{a, b, c, d}
	for _, n := range nodes {
		n.start(t)
	}
	o := &objs{t: t}
	const rounds, per = 6, 10
	var perRound []int64
	for r := range rounds {
		before := sumStates(nodes).Sent
		publish(t, o, a, per, r)
		syncPasses(t, nodes, nil, 0)
		perRound = append(perRound, sumStates(nodes).Sent-before)
	}
	for _, n := range nodes {
		if got := len(n.holdings(t)); got != rounds*per {
			t.Errorf("%s holds %d, want %d", n.name, got, rounds*per)
		}
	}
	st := sumStates(nodes)
	t.Logf("sent per round %v (3 deliveries of %d each; a flood sends 5); %d skipped, %d prunes, %d grafts", perRound, per, st.Skipped, st.Prunes, st.Grafts)
	if st.Prunes == 0 || st.Skipped == 0 {
		t.Fatalf("no relay tree was pruned (%+v)", st)
	}
	// Once the trees are known, a round costs its deliveries (3 per
	// object), not a flood's 5.
	if last := perRound[rounds-1]; last > 3*per {
		t.Errorf("the last round sent %d records for %d deliveries", last, 3*per)
	}
	// Every decision row is a record sent or denied by the policy: none
	// for the skipped or not-echoed ones, which are only counted.
	var rows int64
	for _, n := range nodes {
		for before := int64(0); ; {
			ds, err := n.db.RecentDecisions(context.Background(), "", before, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 0 {
				break
			}
			rows += int64(len(ds))
			before = ds[len(ds)-1].Seq
		}
	}
	if want := st.Sent + st.Denied; rows != want || st.NoEcho == 0 {
		t.Errorf("%d decision rows logged, want one per record sent or denied (%d); %d skipped and %d not echoed are counted, not logged",
			rows, want, st.Skipped, st.NoEcho)
	}
}

// TestRelayTreeGraftsWhenCut: when d's tree link is cut after the trees
// formed, the pruned link to d notices by a probe and sends d what it
// skipped: d converges without the cut link.
func TestRelayTreeGraftsWhenCut(t *testing.T) {
	a, b, c, d := diamond(t)
	nodes := []*node{a, b, c, d}
	for _, n := range nodes {
		n.start(t, func(o *Options) { o.RelayProbe = 50 * time.Millisecond })
	}
	o := &objs{t: t}
	for r := range 3 {
		publish(t, o, a, 10, r)
		syncPasses(t, nodes, nil, 0)
	}
	// Which of b and c stopped relaying a's objects to d?
	var tree, pruned *node
	for _, x := range []*node{b, c} {
		if st, _ := x.syncer.PeerState("d"); st.Prunes > 0 && st.Grafts == 0 {
			pruned = x
		}
	}
	switch pruned {
	case b:
		tree = c
	case c:
		tree = b
	default:
		t.Fatalf("neither b nor c pruned its link to d: %+v / %+v", b.syncer.States(), c.syncer.States())
	}
	cut := map[string]bool{tree.name + "→d": true}
	publish(t, o, a, 10, 9)
	// A probe waits for the probe age plus the record's lag before it
	// goes: sync until d converges, for at most 60 probe ages.
	for deadline := time.Now().Add(3 * time.Second); len(d.holdings(t)) < 40 && time.Now().Before(deadline); {
		syncPasses(t, nodes, cut, 60*time.Millisecond)
	}
	if got := len(d.holdings(t)); got != 40 {
		t.Errorf("d holds %d of 40 with %s→d cut", got, tree.name)
	}
	if st, _ := pruned.syncer.PeerState("d"); st.Grafts == 0 {
		t.Errorf("%s never grafted its link to d back: %+v", pruned.name, st)
	}
}

// TestHeld: a node tells a poster an object was held only when it has it
// from someone else (or made it), never when the poster's own earlier copy
// is all it has (a page sent again).
func TestHeld(t *testing.T) {
	a, b, c, d := diamond(t)
	for _, n := range []*node{a, b, c, d} {
		n.start(t)
	}
	o := &objs{t: t}
	_, raw := o.indicator(a, "held", nil, stix.TLPGreenID)
	_, own := o.indicator(b, "own", nil, stix.TLPGreenID)
	_, unknown := o.indicator(a, "unknown", nil, stix.TLPGreenID)
	a.put(t, raw)
	b.put(t, own)
	if err := a.syncer.SyncOnce(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	if err := b.syncer.SyncOnce(context.Background(), "a"); err != nil { // moves inbox-a
		t.Fatal(err)
	}
	var got []stix.Object
	for _, r := range []string{raw, own, unknown} {
		obj, _, err := stix.Decode([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, obj)
	}
	for _, tc := range []struct {
		poster string
		want   []bool
	}{
		{"a", []bool{false, true, false}}, // a's own copy; b's own object; unknown
		{"c", []bool{true, true, false}},
	} {
		held, err := b.syncer.Held(context.Background(), b.coll(t, "inbox-"+tc.poster), got)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(held) != fmt.Sprint(tc.want) {
			t.Errorf("Held for a post by %s = %v, want %v", tc.poster, held, tc.want)
		}
	}
	if held, err := b.syncer.Held(context.Background(), b.coll(t, "default"), got); err != nil || fmt.Sprint(held) != "[false false false]" {
		t.Errorf("Held for a collection that is no inbox = %v, %v; want all false", held, err)
	}
}

func TestGathers(t *testing.T) {
	now := time.Now()
	fresh := []outgoing{{rec: recAdded(now.Add(-time.Second))}}
	old := []outgoing{{rec: recAdded(now.Add(-gatherFor))}, {rec: recAdded(now)}}
	for _, tc := range []struct {
		name   string
		send   []outgoing
		urgent bool
		budget int
		wire   float64
		want   bool
	}{
		{"small fresh page on a slow link waits", fresh, false, 8000, 500, true},
		{"urgent never waits", fresh, true, 8000, 500, false},
		{"no bandwidth: no wait", fresh, false, 0, 500, false},
		{"a full page goes", fresh, false, 8000, 8000, false},
		{"a record waited long enough", old, false, 8000, 500, false},
	} {
		if got := gathers(tc.send, tc.urgent, tc.budget, tc.wire, now); got != tc.want {
			t.Errorf("%s: gathers = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func recAdded(t time.Time) store.Record { return store.Record{DateAdded: t} }
