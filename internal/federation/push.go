package federation

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/policy"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// priority orders what waits to be pushed: marking-definitions first
// (receivers need them to decide on what they mark), then class 0 (revocations, and
// indicators with confidence >= 85 or labelled critical) before class 1,
// revocations first within it, then by severity, confidence and age
// (oldest first).
type priority struct {
	class      int
	revoked    bool // within class 0, revocations first
	severity   int  // 3 critical, 2 high, 1 medium, 0 other
	confidence int
	added      time.Time
	// creator is the created_by_ref, which names the record's relay tree
	// (relay.go); it does not order.
	creator string
}

func priorityOf(r store.Record) priority {
	var m struct {
		Confidence int      `json:"confidence"`
		Labels     []string `json:"labels"`
		Severity   string   `json:"x_severity"`
		CreatedBy  string   `json:"created_by_ref"`
	}
	_ = json.Unmarshal(r.Object.Raw, &m)
	sev := 0
	for _, l := range append(m.Labels, m.Severity) {
		switch strings.ToLower(l) {
		case "critical":
			sev = max(sev, 3)
		case "high":
			sev = max(sev, 2)
		case "medium":
			sev = max(sev, 1)
		}
	}
	p := priority{class: 1, revoked: r.Object.Revoked, severity: sev, confidence: m.Confidence, added: r.DateAdded, creator: m.CreatedBy}
	if r.Object.Type == "marking-definition" {
		p.class = -1 // before anything they mark, or receivers cannot resolve them
	} else if r.Object.Revoked || (r.Object.Type == "indicator" && (m.Confidence >= 85 || sev == 3)) {
		p.class = 0
	}
	return p
}

func comparePriority(a, b priority) int {
	return cmp.Or(cmp.Compare(a.class, b.class), -compareBool(a.revoked, b.revoked), cmp.Compare(b.severity, a.severity),
		cmp.Compare(b.confidence, a.confidence), a.added.Compare(b.added))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func keyOf(r store.Record) recKey {
	return recKey{id: r.Object.ID, version: r.Version.UnixNano(), added: r.DateAdded.UnixMicro()}
}

// candidate is a pending record with its priority; resend marks one
// behind the cursor sent again (relay.go), probe one sent to test a pruned
// relay tree.
type candidate struct {
	rec           store.Record
	pri           priority
	resend, probe bool
}

// push sends the peer, page by page, what the policy allows of the local
// collections it is configured with. Each page is the most urgent of the
// ScanAhead records after the cursor that are not handled yet; the cursor
// is the low watermark: it passes a record only once it and every earlier
// one were sent or denied.
func (s *Syncer) push(ctx context.Context, p *peer, gather bool) error {
	if p.client == nil {
		return nil
	}
	var lag int
	var oldest time.Time
	defer func() {
		p.count(func(st *State) {
			st.LagObjects = lag
			st.LagSeconds = 0
			if !oldest.IsZero() {
				st.LagSeconds = s.now().Sub(oldest).Seconds()
			}
		})
	}()
	for _, coll := range p.cfg.Push {
		for {
			// What the peer pushed here meanwhile goes on to the others
			// without waiting for this push to catch up.
			if err := s.inbox(ctx, p); err != nil {
				return err
			}
			window, cands, err := s.pending(ctx, p, coll)
			if err != nil {
				return err
			}
			if err := s.advance(ctx, p, coll, window); err != nil {
				return err
			}
			p.dueProbes(coll, s.now(), len(cands) > 0)
			again, err := s.resends(ctx, p, coll)
			if err != nil {
				return err
			}
			cands = append(cands, again...)
			if len(cands) == 0 {
				break
			}
			lag, oldest = len(cands), cands[0].rec.DateAdded
			slices.SortStableFunc(cands, func(a, b candidate) int { return comparePriority(a.pri, b.pri) })
			err = s.pushPage(ctx, p, coll, cands, gather)
			p.resent(coll, again)
			if errors.Is(err, errGather) {
				break // the page grows meanwhile
			}
			if err != nil {
				lag, oldest = s.lagOf(context.WithoutCancel(ctx), p, coll)
				return err
			}
		}
		lag, oldest = 0, time.Time{}
	}
	return nil
}

// lagOf recounts what waits after a failure.
func (s *Syncer) lagOf(ctx context.Context, p *peer, coll string) (int, time.Time) {
	_, cands, err := s.pending(ctx, p, coll)
	if err != nil || len(cands) == 0 {
		return 0, time.Time{}
	}
	return len(cands), cands[0].rec.DateAdded
}

// windowRefresh is how long a cached window is trusted before it is read
// again in full from the cursor (a safety net: the store's date_added only
// grows, so reading what was added after the window's tail is enough).
const windowRefresh = 30 * time.Second

// window is the cached ScanAhead window of one push collection of a peer:
// the records after the push cursor not yet passed by it, in date_added
// order, each with its priority. Each page reads only what was added after
// its tail instead of the whole window again.
type window struct {
	cursor time.Time // the push cursor the window starts after
	recs   []candidate
	keys   map[recKey]bool
	tail   time.Time // date_added of the last record read
	loaded time.Time // when it was read in full
}

// pending returns the records after the cursor (up to ScanAhead, from the
// window cache) and those of them not handled yet, both in date_added
// order.
func (s *Syncer) pending(ctx context.Context, p *peer, coll string) ([]candidate, []candidate, error) {
	cur, err := s.timeCursor(ctx, p.cfg.Name, coll, store.DirPush)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	w := p.win[coll]
	p.mu.Unlock()
	if w == nil || !w.cursor.Equal(cur) || time.Since(w.loaded) > windowRefresh {
		w = &window{cursor: cur, keys: map[recKey]bool{}, tail: cur, loaded: time.Now()}
	}
	f := store.Filter{AddedAfter: w.tail, Versions: store.VersionMatch{All: true}, Limit: min(s.o.ScanAhead, 1000)}
	for len(w.recs) < s.o.ScanAhead {
		pg, err := s.query(ctx, coll, f)
		if err != nil {
			return nil, nil, fmt.Errorf("push %s: %w", coll, err)
		}
		for _, r := range pg.Records {
			k := keyOf(r)
			if w.keys[k] || !r.DateAdded.After(w.cursor) {
				continue
			}
			w.keys[k] = true
			w.recs = append(w.recs, candidate{rec: r, pri: s.priority(r)})
			if r.DateAdded.After(w.tail) {
				w.tail = r.DateAdded
			}
		}
		if !pg.More || pg.Next == "" {
			break
		}
		f.Next = pg.Next
	}
	p.mu.Lock()
	p.win[coll] = w
	done := p.done[coll]
	p.mu.Unlock()
	var cands []candidate
	for _, c := range w.recs {
		if !done[keyOf(c.rec)] {
			cands = append(cands, c)
		}
	}
	if len(w.recs) >= s.o.ScanAhead {
		urgent, err := s.urgentBeyond(ctx, p, coll, w.recs[len(w.recs)-1].rec.DateAdded)
		if err != nil {
			return nil, nil, err
		}
		cands = append(cands, urgent...)
	}
	return w.recs, cands, nil
}

// urgentBeyond returns the records of priority class 0 or less added after
// the window's end and not handled yet, so that an urgent indicator
// overtakes a backlog longer than ScanAhead. What lies beyond the window
// is scanned once; later calls look only at what was added since.
func (s *Syncer) urgentBeyond(ctx context.Context, p *peer, coll string, end time.Time) ([]candidate, error) {
	p.mu.Lock()
	pos := p.scanned[coll]
	if p.urgent[coll] == nil {
		p.urgent[coll] = map[recKey]store.Record{}
	}
	urgent := p.urgent[coll]
	done := p.done[coll]
	p.mu.Unlock()
	if pos.Before(end) {
		pos = end
	}
	f := store.Filter{AddedAfter: pos, Versions: store.VersionMatch{All: true}, Limit: 1000}
	for {
		pg, err := s.query(ctx, coll, f)
		if err != nil {
			return nil, fmt.Errorf("push %s: %w", coll, err)
		}
		for _, r := range pg.Records {
			if s.priority(r).class <= 0 {
				urgent[keyOf(r)] = r
			}
			pos = r.DateAdded
		}
		if !pg.More || pg.Next == "" {
			break
		}
		f.Next = pg.Next
	}
	p.mu.Lock()
	p.scanned[coll] = pos
	p.mu.Unlock()
	var out []candidate
	for k, r := range urgent {
		switch {
		case !r.DateAdded.After(end):
			delete(urgent, k) // inside the window now: handled there
		case !done[k]:
			out = append(out, candidate{rec: r, pri: s.priority(r)})
		}
	}
	return out, nil
}

// advance moves the cursor over the leading handled records of window
// (the peer's cached window of coll), and drops them from it.
func (s *Syncer) advance(ctx context.Context, p *peer, coll string, window []candidate) error {
	p.mu.Lock()
	done := p.done[coll]
	var last time.Time
	n := 0
	for _, c := range window {
		k := keyOf(c.rec)
		if !done[k] {
			break
		}
		delete(done, k)
		last = c.rec.DateAdded
		n++
	}
	if w := p.win[coll]; w != nil && n > 0 {
		for _, c := range w.recs[:n] {
			delete(w.keys, keyOf(c.rec))
		}
		w.recs = w.recs[n:]
		w.cursor = last
	}
	p.mu.Unlock()
	if last.IsZero() {
		return nil
	}
	if err := s.setCursor(ctx, p.cfg.Name, coll, store.DirPush, last); err != nil {
		p.mu.Lock()
		delete(p.win, coll) // read it again from the cursor the store holds
		p.mu.Unlock()
		return err
	}
	return nil
}

func (p *peer) markDone(coll string, recs []store.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done[coll] == nil {
		p.done[coll] = map[recKey]bool{}
	}
	for _, r := range recs {
		p.done[coll][keyOf(r)] = true
	}
}

// outgoing is one record the policy decided on for a peer.
type outgoing struct {
	rec      store.Record
	decision policy.Decision
	raw      json.RawMessage // as sent (redacted); nil when denied
}

// echoes says whether a record came from the peer (among others): the
// policy's no-echo rule withholds it, whatever else it says.
func (s *Syncer) echoes(ctx context.Context, p *peer, r store.Record) (bool, error) {
	origins, err := s.origins(ctx, r.Object.ID, r.Object.Version())
	if err != nil {
		return false, err
	}
	return slices.Contains(origins, p.cfg.Name), nil
}

// decide runs the policy on one record for one peer and prepares what
// would be sent.
func (s *Syncer) decide(ctx context.Context, p *peer, r store.Record) (outgoing, error) {
	origins, err := s.origins(ctx, r.Object.ID, r.Object.Version())
	if err != nil {
		return outgoing{}, err
	}
	from := ""
	if len(origins) > 0 {
		from = origins[0]
		if slices.Contains(origins, p.cfg.Name) {
			from = p.cfg.Name // it came from this peer (too): no echo
		}
	}
	item, err := policy.Describe(r.Object, from, func(id string) (stix.Object, bool) { return s.marking(ctx, id) })
	if err != nil {
		return outgoing{rec: r, decision: policy.Decision{Action: policy.Deny, Rule: "marking",
			Reason: fmt.Sprintf("the policy cannot tell what restricts %s: %v", r.Object.ID, err)}}, nil
	}
	d := policy.Decide(s.rules, s.self, item, p.pol)
	out := outgoing{rec: r, decision: d}
	switch d.Action {
	case policy.Allow:
		out.raw = r.Object.Raw
	case policy.Redact:
		raw, err := policy.Strip(r.Object.Raw, d.Strip)
		if err != nil {
			out.decision = policy.Decision{Action: policy.Deny, Rule: "redact", Reason: fmt.Sprintf("redaction failed: %v", err)}
			return out, nil
		}
		out.raw = raw
	}
	return out, nil
}

// marking resolves a marking-definition from the local collections.
func (s *Syncer) marking(ctx context.Context, id string) (stix.Object, bool) {
	s.mkMu.Lock()
	o, ok := s.markings[id]
	s.mkMu.Unlock()
	if ok {
		return o, true
	}
	colls, err := s.o.Store.Collections(ctx)
	if err != nil {
		return stix.Object{}, false
	}
	for _, c := range colls {
		pg, err := s.o.Store.Query(ctx, c.ID, store.Filter{IDs: []string{id}, Types: []string{"marking-definition"}, Limit: 1})
		if err != nil || len(pg.Records) == 0 {
			continue
		}
		o = pg.Records[0].Object
		s.mkMu.Lock()
		s.markings[id] = o
		s.mkMu.Unlock()
		return o, true
	}
	return stix.Object{}, false
}

// pushPage decides on the most urgent candidates, sends the allowed ones in
// one request (bounded by the adaptive page size and, on a link with a
// bandwidth, by the bytes it should put on the wire: the page's raw size
// times the compression ratio of recent pages) and
// marks every decided record handled once the peer's status says success.
func (s *Syncer) pushPage(ctx context.Context, p *peer, coll string, cands []candidate, gather bool) error {
	limit, maxBytes := p.pageSize()
	budget, ratio := p.budget()
	var (
		send    []outgoing
		meta    []sendMeta // of send
		denied  []outgoing
		handled []store.Record
		bytes   int
		echoed  int
		inPage  = map[string]int{} // records of each relay tree in this page
	)
	now := s.now()
	// A page that starts with urgent records carries only urgent ones, so
	// routine records do not hold them up on a slow link.
	urgentOnly := len(cands) > 0 && cands[0].pri.class <= 0
	for _, c := range cands {
		full := bytes >= maxBytes || (budget > 0 && float64(bytes)*ratio >= float64(budget))
		if len(send) >= limit || (len(send) > 0 && full) || (urgentOnly && c.pri.class > 0) {
			break
		}
		m := sendMeta{resend: c.resend, probe: c.probe}
		// No echo, checked before the rest of the policy (it is its first
		// rule after the relation) and counted, not logged one by one: a
		// mesh brings most records back from some peer.
		echo, err := s.echoes(ctx, p, c.rec)
		if err != nil {
			return err
		}
		if echo {
			if c.probe && c.pri.class > 0 {
				// The peer sent it here: it holds it.
				p.learn(coll, s.treeOf(ctx, c.rec, c.pri), true, true, true, now)
			}
			handled = append(handled, c.rec)
			echoed++
			continue
		}
		if c.pri.class > 0 { // urgent records always go
			m.tree = s.treeOf(ctx, c.rec, c.pri)
			if !c.resend && p.piloting(coll, m.tree, inPage[m.tree]) {
				continue // waits for the answer on the tree's first records
			}
			if !c.resend {
				inPage[m.tree]++
				// A record of a pruned tree is skipped before the policy
				// decides on it and counted, not logged: a probe or a
				// resend is decided when it goes.
				if p.step(coll, m.tree, c.rec, now) == stepSkip {
					handled = append(handled, c.rec)
					continue
				}
			}
		}
		o, err := s.decide(ctx, p, c.rec)
		if err != nil {
			return err
		}
		if o.raw == nil {
			denied = append(denied, o)
			continue
		}
		send = append(send, o)
		meta = append(meta, m)
		bytes += len(o.raw)
	}
	gather = gather && len(send) > 0 && gathers(send, urgentOnly, budget, float64(bytes)*ratio, now)
	if gather {
		send, meta = nil, nil
	}
	var log []store.FedDecision
	for _, o := range denied {
		log = append(log, decisionRecord(p.cfg.Name, o, now))
		handled = append(handled, o.rec)
	}
	if len(send) > 0 {
		raws := make([]json.RawMessage, len(send))
		for i, o := range send {
			raws[i] = o.raw
		}
		start := time.Now()
		st, err := p.client.Add(ctx, p.cfg.PushTo, raws)
		if cerr := s.charge(ctx, p, time.Since(start), err != nil, true); cerr != nil && err == nil {
			err = cerr
		}
		if err != nil {
			// The denials are still decided; record them before failing.
			p.markDone(coll, handled)
			return errors.Join(fmt.Errorf("push to %s/%s: %w", p.cfg.Name, p.cfg.PushTo, err), s.o.Store.LogDecisions(ctx, log))
		}
		failed := map[string]string{}
		for _, f := range st.Failures {
			failed[f.ID] = f.Message
		}
		if st.PendingCount > 0 {
			return errors.Join(fmt.Errorf("push to %s: %d objects pending at the peer; will resend", p.cfg.Name, st.PendingCount),
				s.o.Store.LogDecisions(ctx, log))
		}
		// A tree of which the peer held a record (it names one per
		// creator) is held; a probe stands for itself.
		held := heldIn(st)
		heldTree := map[string]bool{}
		for i, o := range send {
			if m := meta[i]; m.tree != "" && !m.probe && held[o.rec.Object.ID] {
				heldTree[m.tree] = true
			}
		}
		sent := 0
		for i, o := range send {
			msg, bad := failed[o.rec.Object.ID]
			if m := meta[i]; !bad && m.tree != "" {
				h := held[o.rec.Object.ID] || (!m.probe && heldTree[m.tree])
				p.learn(coll, m.tree, m.probe, m.resend, h, now)
			}
			if !bad {
				sent++
			} else {
				o.decision = policy.Decision{Action: ActionRefuse, Rule: "peer", Reason: fmt.Sprintf("%s refused it: %s", p.cfg.Name, msg)}
			}
			log = append(log, decisionRecord(p.cfg.Name, o, now))
			handled = append(handled, o.rec)
		}
		p.count(func(st *State) { st.Sent += int64(sent) })
	}
	p.count(func(st *State) {
		st.Denied += int64(len(denied))
		st.NoEcho += int64(echoed)
	})
	if err := s.o.Store.LogDecisions(ctx, log); err != nil {
		return err
	}
	p.markDone(coll, handled)
	if gather {
		return errGather
	}
	return nil
}

// sendMeta is what the relay trees need to know of a record sent.
type sendMeta struct {
	tree          string // "" for urgent records, which every link carries
	probe, resend bool
}

// errGather is pushPage's answer when it held a small page back.
var errGather = errors.New("gathering a larger page")

// gatherFor is how long a routine record may wait for its page to fill on
// a link with a bandwidth: a page compresses far better when it is larger
// (each carries the JSON structure again, and its own envelope, headers and
// answer), and a flood over a mesh trickles in small batches.
const gatherFor = 10 * time.Second

// gathers says whether a page is better held back: a routine one, on a link
// with a bandwidth, expected to fill less than its wire budget, whose
// oldest record arrived here less than gatherFor ago.
func gathers(send []outgoing, urgent bool, budget int, wire float64, now time.Time) bool {
	if urgent || budget <= 0 || wire >= float64(budget) {
		return false
	}
	for _, o := range send {
		if now.Sub(o.rec.DateAdded) >= gatherFor {
			return false
		}
	}
	return true
}

func decisionRecord(peer string, o outgoing, now time.Time) store.FedDecision {
	reason := o.decision.Reason
	if len(o.decision.Strip) > 0 {
		reason += " [strip " + strings.Join(o.decision.Strip, ", ") + "]"
	}
	return store.FedDecision{ObjectID: o.rec.Object.ID, Version: o.rec.Object.Version(), Peer: peer,
		Action: string(o.decision.Action), Rule: o.decision.Rule, Reason: reason, Time: now}
}
