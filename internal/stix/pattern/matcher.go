package pattern

import (
	"fmt"
	"slices"
	"time"
)

// Options tune a Matcher.
type Options struct {
	// MaxPartials bounds the partial matches each operator node keeps
	// (default 1024); the oldest go first. Nodes under WITHIN also drop
	// partial matches older than the window.
	MaxPartials int
	// Fanout bounds how many earlier partial matches a new one is combined
	// with, newest first (default 8).
	Fanout int
}

// Match is one satisfaction of the whole pattern.
type Match struct {
	// Seqs are the sequence numbers of the observations involved, ascending.
	Seqs []uint64
	// First and Last are the earliest and latest observation times.
	First, Last time.Time
	// Hits are the values that satisfied comparisons.
	Hits []Hit
}

// Matcher evaluates one pattern over a stream of observations. It keeps
// state across observations (partial matches for AND, OR, FOLLOWEDBY and
// the qualifiers), so it must be fed in time order from one goroutine.
//
// Semantics (STIX 2.1 section 9): observation-level AND, FOLLOWEDBY and
// REPEATS need distinct observations; FOLLOWEDBY needs every observation of
// the left side no later than every one of the right; WITHIN n SECONDS needs
// all observations within n seconds of each other; START/STOP needs them in
// [START, STOP). A new partial match is combined with at most Fanout earlier
// ones (newest first), so in contrived patterns where one observation
// satisfies several branches a match can be missed.
type Matcher struct {
	root obsNode
	opts Options
	seq  uint64
	now  time.Time
}

type binding struct {
	seqs        []uint64
	first, last time.Time
	hits        []Hit
}

func disjoint(a, b []uint64) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			return false
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return true
}

func merge(a, b binding) binding {
	seqs := make([]uint64, 0, len(a.seqs)+len(b.seqs))
	seqs = append(append(seqs, a.seqs...), b.seqs...)
	slices.Sort(seqs)
	out := binding{seqs: seqs, first: a.first, last: a.last}
	if b.first.Before(out.first) {
		out.first = b.first
	}
	if b.last.After(out.last) {
		out.last = b.last
	}
	out.hits = append(append(make([]Hit, 0, len(a.hits)+len(b.hits)), a.hits...), b.hits...)
	return out
}

type obsNode interface {
	step(m *Matcher, o *Observation) []binding
}

// history holds the partial matches of one side of an operator.
type history struct {
	items  []binding
	window time.Duration // 0: none
}

func (h *history) add(m *Matcher, bs []binding) {
	h.items = append(h.items, bs...)
	if h.window > 0 {
		cut := m.now.Add(-h.window)
		expired := func(b binding) bool { return b.first.Before(cut) }
		// Partial matches arrive roughly in time order: drop an expired
		// prefix by reslicing (no copying), and compact only when an
		// expired one remains further on.
		k := 0
		for k < len(h.items) && expired(h.items[k]) {
			k++
		}
		h.items = h.items[k:]
		if slices.ContainsFunc(h.items, expired) {
			h.items = slices.DeleteFunc(h.items, expired)
		}
	}
	if over := len(h.items) - m.opts.MaxPartials; over > 0 {
		h.items = h.items[over:]
	}
	if cap(h.items) > 4*m.opts.MaxPartials && len(h.items) < cap(h.items)/4 {
		h.items = slices.Clone(h.items) // let go of a long-resliced array
	}
}

type testNode struct{ comp compNode }

func (t *testNode) step(m *Matcher, o *Observation) []binding {
	var oh []objHit
	if t.comp.eval(o, &oh).empty() {
		return nil
	}
	hits := make([]Hit, len(oh))
	for i, h := range oh {
		hits[i] = h.Hit
		hits[i].Seq = m.seq
	}
	return []binding{{seqs: []uint64{m.seq}, first: o.Time, last: o.Time, hits: hits}}
}

type binNode struct {
	op          ObsOp
	left, right obsNode
	hl, hr      history
}

func (n *binNode) step(m *Matcher, o *Observation) []binding {
	nl := n.left.step(m, o)
	nr := n.right.step(m, o)
	var out []binding
	if n.op == ObsOr {
		out = append(nl, nr...)
	} else {
		join := func(news []binding, hist []binding, newIsRight bool) {
			for _, b := range news {
				k := 0
				for i := len(hist) - 1; i >= 0 && k < m.opts.Fanout; i-- {
					c := &hist[i]
					if n.op == FollowedBy && !newIsRight && c.last.Before(b.last) {
						// History is in arrival order, so its last times only
						// fall from here: no earlier right side can follow b.
						break
					}
					if !disjoint(b.seqs, c.seqs) {
						continue
					}
					if n.op == FollowedBy {
						l, r := c, &b
						if !newIsRight {
							l, r = &b, c
						}
						if l.last.After(r.first) {
							continue
						}
					}
					out = append(out, merge(*c, b))
					k++
				}
			}
		}
		join(nl, n.hr.items, false)
		join(nr, n.hl.items, true)
		n.hl.add(m, nl)
		n.hr.add(m, nr)
	}
	if len(out) > m.opts.MaxPartials {
		out = out[:m.opts.MaxPartials]
	}
	return out
}

type qualNode struct {
	q     Qualifier
	child obsNode
	hist  history // Repeats
}

func (n *qualNode) step(m *Matcher, o *Observation) []binding {
	news := n.child.step(m, o)
	switch n.q.Kind {
	case Within:
		return slices.DeleteFunc(news, func(b binding) bool { return b.last.Sub(b.first) > n.q.Window })
	case StartStop:
		return slices.DeleteFunc(news, func(b binding) bool {
			return b.first.Before(n.q.Start.Time) || !b.last.Before(n.q.Stop.Time)
		})
	}
	// Repeats: each new binding with the newest Times-1 earlier disjoint ones.
	var out []binding
	for _, b := range news {
		acc := b
		got := 1
		for i := len(n.hist.items) - 1; i >= 0 && got < n.q.Times; i-- {
			if c := n.hist.items[i]; disjoint(acc.seqs, c.seqs) {
				acc = merge(c, acc)
				got++
			}
		}
		if got == n.q.Times {
			out = append(out, acc)
		}
	}
	if n.q.Times > 1 {
		n.hist.add(m, news)
	}
	return out
}

// NewMatcher compiles p for evaluation.
func NewMatcher(p *Pattern, opts Options) (*Matcher, error) {
	if opts.MaxPartials <= 0 {
		opts.MaxPartials = 1024
	}
	if opts.Fanout <= 0 {
		opts.Fanout = 8
	}
	root, err := compileObs(p.Root, 0)
	if err != nil {
		return nil, err
	}
	return &Matcher{root: root, opts: opts}, nil
}

// compileObs builds the node tree; window is the tightest enclosing WITHIN
// (0 for none), used to expire partial matches.
func compileObs(e ObsExpr, window time.Duration) (obsNode, error) {
	switch e := e.(type) {
	case *ObsTest:
		c, err := compileComp(e.Expr)
		if err != nil {
			return nil, err
		}
		return &testNode{comp: c}, nil
	case *ObsBinary:
		l, err := compileObs(e.Left, window)
		if err != nil {
			return nil, err
		}
		r, err := compileObs(e.Right, window)
		if err != nil {
			return nil, err
		}
		return &binNode{op: e.Op, left: l, right: r, hl: history{window: window}, hr: history{window: window}}, nil
	case *ObsQualified:
		w := window
		if e.Qual.Kind == Within && (w == 0 || e.Qual.Window < w) {
			w = e.Qual.Window
		}
		c, err := compileObs(e.Expr, w)
		if err != nil {
			return nil, err
		}
		return &qualNode{q: e.Qual, child: c, hist: history{window: w}}, nil
	}
	return nil, fmt.Errorf("pattern: unknown observation node %T", e)
}

// Observe feeds the next observation (observations must come in time
// order) and returns the matches it completes. The observation gets the
// next sequence number, starting at 1; the matcher does not keep o.
func (m *Matcher) Observe(o *Observation) []Match {
	m.seq++
	if o.Time.After(m.now) {
		m.now = o.Time
	}
	bs := m.root.step(m, o)
	if len(bs) == 0 {
		return nil
	}
	out := make([]Match, len(bs))
	for i, b := range bs {
		out[i] = Match{Seqs: b.seqs, First: b.first, Last: b.last, Hits: b.hits}
	}
	return out
}

// Partials reports how many partial matches the matcher holds (for tests
// and memory accounting).
func (m *Matcher) Partials() int { return partials(m.root) }

func partials(n obsNode) int {
	switch n := n.(type) {
	case *binNode:
		return len(n.hl.items) + len(n.hr.items) + partials(n.left) + partials(n.right)
	case *qualNode:
		return len(n.hist.items) + partials(n.child)
	}
	return 0
}
