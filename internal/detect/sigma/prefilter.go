package sigma

// Prefilter: for every rule, a set of (pattern, flag) triggers such that the
// rule's condition cannot be true unless one of them was hit in the event.
// Rules for which no such set exists are evaluated on every event of their
// log source.

// needSet is a necessary disjunction of triggers; ok=false means "unknown".
type needSet struct {
	ok    bool
	trigs []trigger // rule field unused here
	score int
}

// lowValueSlots are fields whose literals hit on most events of a source
// (EventID, Channel...): prefer other needles when there is a choice.
func (b *builder) lowValue(slot int32) bool {
	for _, n := range []string{"eventid", "channel", "provider_name", "_path"} {
		if id, ok := b.fieldIDs[n]; ok && id == slot {
			return true
		}
	}
	return false
}

func flagFor(t *valueTest) uint8 {
	if t.cased {
		return hitAny
	}
	switch t.kind {
	case tEquals:
		return hitExact
	case tStarts:
		return hitStart
	case tEnds:
		return hitEnd
	}
	return hitAny
}

func (b *builder) scoreTrig(t *valueTest) int {
	s := len(t.lit)
	if s > 12 {
		s = 12
	}
	if b.lowValue(b.patSlot[t.pat]) {
		s = 0
	}
	return s
}

func union(sets []needSet) needSet {
	out := needSet{ok: true, score: 1 << 30}
	for _, s := range sets {
		if !s.ok {
			return needSet{}
		}
		out.trigs = append(out.trigs, s.trigs...)
		if s.score < out.score {
			out.score = s.score
		}
	}
	if len(sets) == 0 {
		return needSet{}
	}
	return out
}

func best(sets []needSet) needSet {
	var out needSet
	for _, s := range sets {
		if !s.ok {
			continue
		}
		if !out.ok || s.score > out.score || (s.score == out.score && len(s.trigs) < len(out.trigs)) {
			out = s
		}
	}
	return out
}

func (b *builder) needField(ft *fieldTest) needSet {
	var per []needSet
	for _, variants := range ft.vals {
		var vs []needSet
		for i := range variants {
			t := &variants[i]
			if t.pat < 0 {
				vs = append(vs, needSet{})
				continue
			}
			vs = append(vs, needSet{ok: true, trigs: []trigger{{flag: flagFor(t), rule: t.pat}}, score: b.scoreTrig(t)})
		}
		per = append(per, union(vs))
	}
	if ft.all {
		return best(per)
	}
	return union(per)
}

func (b *builder) needSel(s *selection) needSet {
	var groups []needSet
	for _, g := range s.groups {
		var fs []needSet
		for _, ft := range g {
			fs = append(fs, b.needField(ft))
		}
		groups = append(groups, best(fs))
	}
	return union(groups)
}

func (b *builder) needCond(cr *compiledRule, n *cnode) needSet {
	switch n.op {
	case opIdent:
		return b.needSel(cr.sels[n.sel])
	case opNot:
		return needSet{}
	case opAnd:
		var ks []needSet
		for _, k := range n.kids {
			ks = append(ks, b.needCond(cr, k))
		}
		return best(ks)
	case opOr:
		var ks []needSet
		for _, k := range n.kids {
			ks = append(ks, b.needCond(cr, k))
		}
		return union(ks)
	case opOf:
		var ks []needSet
		for _, k := range n.kids {
			ks = append(ks, b.needCond(cr, k))
		}
		if n.count == 0 || n.count > len(n.kids) {
			return best(ks)
		}
		return union(ks)
	}
	return needSet{}
}
