package federation

// Relay trees over a partial mesh, in the manner of Plumtree (Leitão,
// Pereira, Rodrigues, "Epidemic Broadcast Trees", SRDS 2007), with TAXII
// 2.1 answers as the only messages.
//
// A flood with no echo still sends one useless copy over every link
// outside a spanning tree: two neighbours that got an object elsewhere send
// it to each other. Here each node keeps, per push collection of a peer and
// per tree (the object's creator: its created_by_ref, else the neighbour it
// came from), whether the link is eager or pruned:
//
//   - Prune. The receiving node answers a POST listing the objects it
//     already held from another source (taxiiserver.Options.Held, filled
//     by Syncer.Held; status detail message taxii.MessageHeldElsewhere).
//     The sender then stops relaying that creator's objects to that peer:
//     the peer is on a shorter path of that creator's tree.
//   - Skip. A pruned link does not carry the routine records of its tree;
//     each is skipped before the policy decides on it (a probe or a resend
//     is decided when it goes), counted in the peer's State (Skipped), not
//     logged one by one, and remembered as skipped.
//   - Probe and graft. While records are skipped, one of them is sent
//     anyway every probe interval, once the peer had time to get it from
//     its own tree: the probe age plus the time the record waited here
//     before this link came to it (the link's lag, bounded: its tree
//     parent is as loaded), so a tree slowed by load is not taken for a
//     broken one. If the peer answers that it held it, the prune stands;
//     if not, the tree broke (a cut link, a restarted neighbour, two
//     prunes racing): the link is grafted back (eager again) and the
//     records it skipped are sent.
//
// Urgent records (priority class 0 or less: marking-definitions,
// revocations, critical indicators) are never skipped. Skipping only ever
// withholds what the policy allowed; probes and resends are decided by the
// policy again. The state is in memory: a restarted node starts eager on
// every link, and what it skipped before is held by the tree parent's
// durable outbox until delivered.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// Probing of pruned links (Options.RelayProbe, the probe age A, default
// 60 s): every A/2 while a tree skips, the newest skipped record that is
// due is sent as a probe, on a page that goes anyway, or alone after 2A on
// an idle link. A record is due A plus its lag (how long it waited here,
// from its arrival to its skip, at most maxLagFactor × A) after it was
// skipped: time for the peer's own tree to deliver it, however loaded the
// alliance is. When the peer held it, the records skipped more than A
// before it are forgotten (delivered by then); when not, the tree is
// grafted back.
const (
	defaultRelayProbe = 60 * time.Second
	// maxLagFactor bounds the lag counted for a probe to that many probe
	// ages, so a repair waits at most (1 + maxLagFactor) × A.
	maxLagFactor = 5
	// maxSkipped bounds the skipped records remembered per tree: past it,
	// the link is grafted back (and those records sent) instead.
	maxSkipped = 50000
)

type relayKey struct{ coll, tree string }

type skippedRec struct {
	key     recKey
	at, due time.Time // when skipped; when it may be probed
}

// relay is the state of one (push collection, tree) of a peer: unknown
// until the peer answered on a record of the tree, then eager or pruned.
type relay struct {
	known     bool
	pruned    bool
	skipped   []skippedRec // in skip order
	lastProbe time.Time
	probed    time.Time // when the record of the last probe was skipped
}

// resendItem is a record behind the push cursor to send again: a probe,
// or a skipped record of a grafted tree.
type resendItem struct {
	key   recKey
	tree  string
	probe bool
}

type relayStep int

const (
	stepSend relayStep = iota
	stepSkip
)

// pilots is how many records of a tree a page carries to a peer before
// the peer answered on any of that tree: the rest wait for the answer (one
// page), so a peer that gets the tree elsewhere is not sent all of it.
const pilots = 1

// treeOf names the relay tree of a record: its creator, else the
// neighbour it came from, else this node.
func (s *Syncer) treeOf(ctx context.Context, r store.Record, pri priority) string {
	if pri.creator != "" {
		return pri.creator
	}
	origins, err := s.origins(ctx, r.Object.ID, r.Object.Version())
	if err == nil && len(origins) > 0 {
		return "via:" + origins[0]
	}
	return "local"
}

// piloting says whether a record of tree waits because the peer did not
// answer on that tree yet and this page carries inPage of its records.
func (p *peer) piloting(coll, tree string, inPage int) bool {
	if inPage < pilots {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.relays[relayKey{coll, tree}]
	return r == nil || !r.known
}

// step says whether a routine record of tree, allowed by the policy, goes
// to the peer now.
func (p *peer) step(coll, tree string, rec store.Record, now time.Time) relayStep {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.relays[relayKey{coll, tree}]
	if r == nil || !r.pruned {
		return stepSend
	}
	if len(r.skipped) >= maxSkipped {
		p.graftLocked(coll, tree, r)
		return stepSend
	}
	lag := min(max(0, now.Sub(rec.DateAdded)), maxLagFactor*p.probeAge)
	r.skipped = append(r.skipped, skippedRec{key: keyOf(rec), at: now, due: now.Add(p.probeAge + lag)})
	p.st.Skipped++
	return stepSkip
}

// learn takes the peer's answer on one record sent of tree: held says the
// peer already had it from another source.
func (p *peer) learn(coll, tree string, probe, resend, held bool, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := relayKey{coll, tree}
	r := p.relays[k]
	if r == nil {
		r = &relay{}
		p.relays[k] = r
	}
	switch {
	case !held && !resend && !r.known:
		r.known = true // eager
	case held && (probe || !resend):
		r.known = true
		if !r.pruned {
			r.pruned, r.lastProbe = true, now
			p.st.Prunes++
		}
		if probe {
			cut := r.probed.Add(-p.probeAge)
			r.skipped = slices.DeleteFunc(r.skipped, func(sk skippedRec) bool { return sk.at.Before(cut) })
		}
	case !held && probe && r.pruned:
		// The tree broke (the probe waited for its lag, so a slow tree is
		// not taken for a broken one). A second, older probe before
		// grafting was tried and is wrong: when the tree broke after the
		// older record, that probe is held, the prune stands and the
		// records skipped since the break go one probe at a time.
		p.graftLocked(coll, tree, r)
	}
}

// graftLocked makes a pruned tree eager again and queues what it skipped:
// records still in the push window are simply not handled any more;
// those behind the cursor are sent again. p.mu is held.
func (p *peer) graftLocked(coll, tree string, r *relay) {
	r.pruned = false
	p.st.Grafts++
	w := p.win[coll]
	done := p.done[coll]
	for _, sk := range r.skipped {
		if w != nil && w.keys[sk.key] && done[sk.key] {
			delete(done, sk.key)
			continue
		}
		p.resend[coll] = append(p.resend[coll], resendItem{key: sk.key, tree: tree})
	}
	r.skipped = nil
}

// dueProbes queues, for every pruned tree of coll not probed for
// probeAge/2, the newest skipped record that is due as a probe. Probes ride on pages that go
// anyway (busy: other records wait); on an idle link one goes alone only
// after idleProbe.
func (p *peer) dueProbes(coll string, now time.Time, busy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	wait := p.probeAge / 2
	if !busy {
		wait = 2 * p.probeAge
	}
	for k, r := range p.relays {
		if k.coll != coll || !r.pruned || len(r.skipped) == 0 || now.Sub(r.lastProbe) < wait {
			continue
		}
		j := -1
		for i, sk := range r.skipped {
			if !sk.due.After(now) {
				j = i
			}
		}
		if j < 0 {
			continue
		}
		e := r.skipped[j]
		r.skipped = slices.Delete(r.skipped, j, j+1)
		r.lastProbe, r.probed = now, e.at
		p.resend[coll] = append(p.resend[coll], resendItem{key: e.key, tree: k.tree, probe: true})
	}
}

// maxResendPage bounds the records read for resending per page.
const maxResendPage = 500

// resends reads the records queued for resending in coll (up to
// maxResendPage) from the store; those it no longer holds are dropped.
func (s *Syncer) resends(ctx context.Context, p *peer, coll string) ([]candidate, error) {
	p.mu.Lock()
	items := slices.Clone(p.resend[coll][:min(len(p.resend[coll]), maxResendPage)])
	p.mu.Unlock()
	if len(items) == 0 {
		return nil, nil
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.key.id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found := map[recKey]store.Record{}
	f := store.Filter{IDs: ids, Versions: store.VersionMatch{All: true}}
	for {
		pg, err := s.query(ctx, coll, f)
		if err != nil {
			return nil, fmt.Errorf("resend %s: %w", coll, err)
		}
		for _, r := range pg.Records {
			found[keyOf(r)] = r
		}
		if !pg.More || pg.Next == "" {
			break
		}
		f.Next = pg.Next
	}
	var out []candidate
	var gone []recKey
	for _, it := range items {
		r, ok := found[it.key]
		if !ok {
			gone = append(gone, it.key)
			continue
		}
		out = append(out, candidate{rec: r, pri: s.priority(r), resend: true, probe: it.probe})
	}
	if len(gone) > 0 {
		p.dropResends(coll, gone)
	}
	return out, nil
}

// resent drops from the resend queue of coll the candidates that are
// handled now (and from the handled set: they are behind the cursor).
func (p *peer) resent(coll string, cands []candidate) {
	var handled []recKey
	p.mu.Lock()
	done := p.done[coll]
	for _, c := range cands {
		if k := keyOf(c.rec); c.resend && done[k] {
			handled = append(handled, k)
		}
	}
	p.mu.Unlock()
	p.dropResends(coll, handled)
}

func (p *peer) dropResends(coll string, keys []recKey) {
	if len(keys) == 0 {
		return
	}
	drop := map[recKey]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resend[coll] = slices.DeleteFunc(p.resend[coll], func(it resendItem) bool { return drop[it.key] })
	w := p.win[coll]
	for k := range drop {
		if w == nil || !w.keys[k] {
			delete(p.done[coll], k)
		}
	}
}

// heldIn reads the Held answers of a POST: the ids the peer already held
// from another source (the answer names one per creator at least).
func heldIn(st taxii.Status) map[string]bool {
	held := map[string]bool{}
	for _, d := range st.Successes {
		if d.Message == taxii.MessageHeldElsewhere {
			held[d.ID] = true
		}
	}
	return held
}

// Held says which of objs, posted into the local collection collID, this
// node already holds from another source than the poster: for the inbox
// of a peer, the versions held in the peer's Into collection that were
// made here or came (also) from another peer. It is the node's
// taxiiserver.Options.Held: the poster stops relaying to this node what it
// gets elsewhere.
func (s *Syncer) Held(ctx context.Context, collID string, objs []stix.Object) ([]bool, error) {
	var p *peer
	for _, name := range s.order {
		id, err := s.collID(ctx, s.o.Inbox(name))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if id == collID {
			p = s.peers[name]
			break
		}
	}
	out := make([]bool, len(objs))
	if p == nil || len(objs) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	have := map[versionKey]bool{}
	anyVersion := map[string]bool{}
	f := store.Filter{IDs: ids, Versions: store.VersionMatch{All: true}}
	for {
		pg, err := s.query(ctx, p.cfg.Into, f)
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("held: %w", err)
		}
		for _, r := range pg.Records {
			have[versionKey{r.Object.ID, r.Object.Version().UnixNano()}] = true
			anyVersion[r.Object.ID] = true
		}
		if !pg.More || pg.Next == "" {
			break
		}
		f.Next = pg.Next
	}
	// What another peer pushed here and is not moved yet counts too.
	elsewhere := map[versionKey]bool{}
	for _, name := range s.order {
		if name == p.cfg.Name {
			continue
		}
		f := store.Filter{IDs: ids, Versions: store.VersionMatch{All: true}}
		for {
			pg, err := s.query(ctx, s.o.Inbox(name), f)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("held: %w", err)
			}
			for _, r := range pg.Records {
				elsewhere[versionKey{r.Object.ID, r.Object.Version().UnixNano()}] = true
			}
			if !pg.More || pg.Next == "" {
				break
			}
			f.Next = pg.Next
		}
	}
	for i, o := range objs {
		v := o.Version()
		if elsewhere[versionKey{o.ID, v.UnixNano()}] {
			out[i] = true
			continue
		}
		if !have[versionKey{o.ID, v.UnixNano()}] && !(v.IsZero() && anyVersion[o.ID]) {
			continue
		}
		origins, err := s.origins(ctx, o.ID, v)
		if err != nil {
			return nil, fmt.Errorf("held: %w", err)
		}
		out[i] = len(origins) == 0 || slices.ContainsFunc(origins, func(n string) bool { return n != p.cfg.Name })
	}
	return out, nil
}
