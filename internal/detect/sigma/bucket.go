package sigma

import (
	"fmt"
	"slices"
	"strings"
)

// bucket groups the rules that share one log source filter, with the
// literals (pattern ids) those rules search.
type bucket struct {
	filter sourceFilter
	pats   []int32
}

// scanSet holds the automata for one set of buckets: every literal of the
// rules that can apply to an event, one automaton per field, so that each
// value is scanned once and only for literals that matter to it (a Sysmon
// image-load event is not searched for the command-line literals of
// process-creation rules).
type scanSet struct {
	ac []*acAutomaton // per slot
	kw *acAutomaton   // keyword literals, for fields without an automaton
}

// sourcePlan is what an event source needs, cached per source.
type sourcePlan struct {
	always []int32 // rules without needles that accept the source
	scan   *scanSet
}

// plan returns (and caches) the plan of an event source.
func (m *Matcher) plan(es *eventSource) *sourcePlan {
	if p, ok := m.alwaysCache[*es]; ok {
		return p
	}
	p := &sourcePlan{}
	for _, ri := range m.always {
		if m.rules[ri].src.accepts(es) {
			p.always = append(p.always, ri)
		}
	}
	var bs []int32
	for bi, bk := range m.buckets {
		if bk.filter.accepts(es) {
			bs = append(bs, int32(bi))
		}
	}
	p.scan = m.scanSetFor(bs)
	if len(m.alwaysCache) < 4096 {
		k := eventSource{product: es.product, channel: strings.Clone(es.channel), eventID: strings.Clone(es.eventID),
			format: strings.Clone(es.format), path: strings.Clone(es.path)}
		m.alwaysCache[k] = p
	}
	return p
}

// scanSetFor returns the automata for a set of buckets, building them on
// first use (compilation builds those of every Windows source the rules
// name, so that the first events do not pay for it).
func (m *Matcher) scanSetFor(bs []int32) *scanSet {
	key := fmt.Sprint(bs)
	if ss, ok := m.scanSets[key]; ok {
		return ss
	}
	ss := &scanSet{ac: make([]*acAutomaton, m.nslots)}
	seen := map[int32]bool{}
	perSlot := map[int32][]int32{}
	for _, bi := range bs {
		for _, p := range m.buckets[bi].pats {
			if !seen[p] {
				seen[p] = true
				perSlot[m.patSlot[p]] = append(perSlot[m.patSlot[p]], p)
			}
		}
	}
	kwPats := perSlot[m.kwSlot]
	for s, ps := range perSlot {
		if s != m.kwSlot {
			// Keyword literals are searched in every field: fold them into
			// each field's automaton so that a value is scanned once.
			ps = append(ps, kwPats...)
		}
		slices.Sort(ps)
		lits := make([]string, len(ps))
		for i, p := range ps {
			lits[i] = m.patLit[p]
		}
		if s == m.kwSlot {
			ss.kw = newAC(lits, ps)
			continue
		}
		ss.ac[s] = newAC(lits, ps)
	}
	if len(m.scanSets) < 1024 {
		m.scanSets[key] = ss
	}
	return ss
}

// buildBuckets partitions the patterns by the log source of the rules that
// use them, and builds the automata of the Windows sources the rules name.
func (m *Matcher) buildBuckets(b *builder) {
	m.patSlot, m.patLit, m.kwSlot = b.patSlot, b.patLit, b.kwSlot
	m.scanSets = map[string]*scanSet{}
	byKey := map[string]int{}
	var perBucket []map[int32]bool
	for _, cr := range m.rules {
		key := fmt.Sprintf("%+v", cr.src)
		bi, ok := byKey[key]
		if !ok {
			bi = len(m.buckets)
			byKey[key] = bi
			m.buckets = append(m.buckets, &bucket{filter: cr.src})
			perBucket = append(perBucket, map[int32]bool{})
		}
		pats := perBucket[bi]
		for _, sel := range cr.sels {
			for _, g := range sel.groups {
				for _, ft := range g {
					for _, vs := range ft.vals {
						for _, t := range vs {
							if t.pat >= 0 {
								pats[t.pat] = true
							}
						}
					}
				}
			}
		}
	}
	for bi, bk := range m.buckets {
		for p := range perBucket[bi] {
			bk.pats = append(bk.pats, p)
		}
		slices.Sort(bk.pats)
	}
}

// warmUp builds the plans of the Windows sources named by the rules.
func (m *Matcher) warmUp() {
	for _, bk := range m.buckets {
		f := bk.filter
		if f.product != "windows" || len(f.channels) == 0 {
			continue
		}
		ids := f.eventIDs
		if len(ids) == 0 {
			ids = []string{""}
		}
		for _, ch := range f.channels {
			for _, id := range ids {
				m.plan(&eventSource{product: "windows", channel: ch, eventID: id, format: "evtx"})
			}
		}
	}
}
