package sigma

import (
	"context"
	"net/netip"
	"strconv"
	"strings"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// Process matches one event against every rule and emits an alert for each
// rule that fires (and for each correlation that completes). Events must be
// given in time order for correlations.
func (m *Matcher) Process(ctx context.Context, ev *event.Event, emit detect.Emit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.resolve(ev.Fields())
	es := m.source(ev)
	m.scanAll(m.plan(&es).scan)
	for _, ri := range m.candidates(&es) {
		cr := m.rules[ri]
		if !m.evalNode(cr, cr.cond) {
			continue
		}
		if !cr.suppressed {
			emit(m.alert(cr, ev))
		}
		if len(cr.corrs) > 0 {
			m.corr.feed(cr, ev, emit)
		}
	}
	m.st.fields = nil
	return nil
}

func (m *Matcher) alert(cr *compiledRule, ev *event.Event) *detect.Alert {
	r := cr.rule
	a := &detect.Alert{Engine: "sigma", RuleID: r.ID, RuleTitle: r.Title, Level: r.Level,
		Tags: r.Tags, Source: ev.Source, Offset: ev.Offset, Time: ev.Time, Events: 1}
	if len(ev.Raw) > 0 && (ev.Raw[0] == '{' || ev.Raw[0] == '[') {
		a.Event = append([]byte(nil), ev.Raw...)
	}
	m.collectMatches(cr, cr.cond, &a.Matches)
	return a
}

func (m *Matcher) evalNode(cr *compiledRule, n *cnode) bool {
	switch n.op {
	case opIdent:
		return m.evalSel(cr.sels[n.sel])
	case opNot:
		return !m.evalNode(cr, n.kids[0])
	case opAnd:
		for _, k := range n.kids {
			if !m.evalNode(cr, k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if m.evalNode(cr, k) {
				return true
			}
		}
		return false
	case opOf:
		need := n.count
		if need == 0 {
			need = len(n.kids)
		}
		got := 0
		for i, k := range n.kids {
			if m.evalNode(cr, k) {
				got++
				if got >= need {
					return true
				}
			}
			if got+len(n.kids)-i-1 < need {
				return false
			}
		}
		return false
	}
	return false
}

func (m *Matcher) evalSel(s *selection) bool {
	for _, g := range s.groups {
		if m.evalGroup(g) {
			return true
		}
	}
	return false
}

func (m *Matcher) evalGroup(g []*fieldTest) bool {
	for _, ft := range g {
		if !m.evalField(ft) {
			return false
		}
	}
	return true
}

func (m *Matcher) evalField(ft *fieldTest) bool {
	for vi := range ft.vals {
		ok := false
		for ti := range ft.vals[vi] {
			if m.evalTest(ft, &ft.vals[vi][ti]) {
				ok = true
				break
			}
		}
		if ft.all && !ok {
			return false
		}
		if !ft.all && ok {
			return true
		}
	}
	return ft.all
}

// evalTest checks one value test against every value of the field.
func (m *Matcher) evalTest(ft *fieldTest, t *valueTest) bool {
	s := &m.st
	if t.pat >= 0 {
		if s.patGen[t.pat] != s.gen || s.patFlags[t.pat]&flagFor(t) == 0 {
			return false
		}
		if !t.cased && t.kind != tGlob {
			return true
		}
	}
	if ft.keyword {
		for i := range s.fields {
			if m.testValue(t, int32(i)) {
				return true
			}
		}
		return false
	}
	present := false
	for _, slot := range ft.slots {
		for i := m.first(slot); i >= 0; i = s.next[i] {
			present = true
			if m.testValue(t, i) {
				return true
			}
		}
	}
	switch t.kind {
	case tNull:
		return !present
	case tExists:
		return present == t.exist
	}
	return false
}

// testValue checks one value test against field i.
func (m *Matcher) testValue(t *valueTest, i int32) bool {
	f := &m.st.fields[i]
	switch t.kind {
	case tEquals, tContains, tStarts, tEnds:
		if t.cased {
			return cmpKind(t.kind, f.Value, t.raw)
		}
		return cmpKind(t.kind, m.lower(i), t.lit)
	case tGlob:
		if t.cased {
			return globMatch(t.glob, f.Value)
		}
		return globMatch(t.glob, m.lower(i))
	case tEmpty:
		return f.Value == ""
	case tNull:
		return f.Kind == event.Null || f.Value == ""
	case tExists:
		return t.exist
	case tRegex:
		return t.re.MatchString(f.Value)
	case tCIDR:
		a, err := netip.ParseAddr(strings.TrimSpace(f.Value))
		if err != nil {
			return false
		}
		return t.pfx.Contains(a.Unmap()) || t.pfx.Contains(a)
	case tNumber:
		v, err := strconv.ParseFloat(strings.TrimSpace(f.Value), 64)
		if err != nil {
			return false
		}
		switch t.cmp {
		case "gt":
			return v > t.num
		case "gte":
			return v >= t.num
		case "lt":
			return v < t.num
		case "lte":
			return v <= t.num
		}
	case tFieldRef:
		for j := m.first(t.slot); j >= 0; j = m.st.next[j] {
			if t.cased {
				if cmpKind(t.refK, f.Value, m.st.fields[j].Value) {
					return true
				}
			} else if cmpKind(t.refK, m.lower(i), m.lower(j)) {
				return true
			}
		}
	}
	return false
}

func cmpKind(k testKind, v, lit string) bool {
	switch k {
	case tEquals:
		return v == lit
	case tContains:
		return strings.Contains(v, lit)
	case tStarts:
		return strings.HasPrefix(v, lit)
	case tEnds:
		return strings.HasSuffix(v, lit)
	}
	return false
}

// collectMatches records the fields and values behind a firing rule: every
// field test of a true selection reached without negation.
func (m *Matcher) collectMatches(cr *compiledRule, n *cnode, out *[]detect.Match) {
	switch n.op {
	case opNot:
		return
	case opIdent:
		s := cr.sels[n.sel]
		for _, g := range s.groups {
			if !m.evalGroup(g) {
				continue
			}
			for _, ft := range g {
				m.collectField(ft, out)
			}
			return
		}
	default:
		for _, k := range n.kids {
			if m.evalNode(cr, k) {
				m.collectMatches(cr, k, out)
			}
		}
	}
}

func (m *Matcher) collectField(ft *fieldTest, out *[]detect.Match) {
	s := &m.st
	add := func(i int32) {
		f := &s.fields[i]
		for _, x := range *out {
			if x.Field == f.Name && x.Value == f.Value {
				return
			}
		}
		*out = append(*out, detect.Match{Field: f.Name, Value: f.Value})
	}
	check := func(i int32) bool {
		for vi := range ft.vals {
			for ti := range ft.vals[vi] {
				t := &ft.vals[vi][ti]
				if t.kind == tNull || t.kind == tExists {
					continue
				}
				if m.testValue(t, i) {
					return true
				}
			}
		}
		return false
	}
	if ft.keyword {
		for i := range s.fields {
			if check(int32(i)) {
				add(int32(i))
			}
		}
		return
	}
	for _, slot := range ft.slots {
		for i := m.first(slot); i >= 0; i = s.next[i] {
			if check(i) {
				add(i)
			}
		}
	}
}
