package sigma

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shieldwall/shieldwall/internal/event"
)

// Matcher runs every compiled rule over events. It keeps per-event scratch
// space and correlation state, so one Matcher serves one goroutine at a
// time (as detect.Engine says); build one per goroutine for parallelism.
type Matcher struct {
	rules    []*compiledRule
	fieldIDs map[string]int32
	nslots   int
	buckets  []*bucket
	scanSets map[string]*scanSet
	patSlot  []int32  // per pattern: its slot
	patLit   []string // per pattern: its lower-case literal
	kwSlot   int32
	patLen   []int32
	triggers [][]trigger // per pattern: rules it can wake
	always   []int32     // rules without needles
	total    int         // rules given to Compile (detection and correlation)

	slotChannel, slotEventID, slotPath int32

	nameCache   map[string]nameEntry
	alwaysCache map[eventSource]*sourcePlan
	st          scratch
	corr        *correlator
}

// scratch is the per-event working memory, reused across events.
type scratch struct {
	gen       uint32
	slotGen   []uint32
	slotFirst []int32
	slotLast  []int32
	next      []int32 // per field index: next field of the same slot
	lowGen    []uint32
	low       []string
	patGen    []uint32
	patFlags  []uint8
	touched   []int32
	candGen   []uint32
	cands     []int32
	fields    []event.Field
	slotOf    []int32  // per field index: its slot, or -1
	prevNames []string // field names of the previous event, by position
	prevSlots []int32
}

// Stats returns how many rules were given to Compile and how many compiled.
func (m *Matcher) Stats() (rules, compiled int) {
	n := len(m.rules)
	if m.corr != nil {
		n += len(m.corr.corrs)
	}
	return m.total, n
}

// Compile builds one matcher for all rules. Rules that fail are returned as
// LoadErrors; the others are compiled.
func Compile(rules []*Rule, opts Options) (*Matcher, []LoadError) {
	b := &builder{opts: opts, fieldIDs: map[string]int32{}, patIDs: map[patKey]int32{}}
	m := &Matcher{total: len(rules)}
	m.slotChannel = b.slot("Channel")
	m.slotEventID = b.slot("EventID")
	m.slotPath = b.slot("_path")
	b.kwSlot = b.slot(kwSlotName)
	var errs []LoadError
	var corrRules []*Rule
	for _, r := range rules {
		if r.Correlation != nil {
			corrRules = append(corrRules, r)
			// Fields that correlations read must have slots.
			for _, g := range r.Correlation.GroupBy {
				b.slot(g)
			}
			if r.Correlation.Field != "" {
				b.slot(r.Correlation.Field)
			}
			for _, per := range r.Correlation.Aliases {
				for _, f := range per {
					b.slot(f)
				}
			}
			continue
		}
		cr, err := b.compileRule(r)
		if err != nil {
			errs = append(errs, LoadError{Path: r.Path, Rule: r.titleOrID(), Err: err})
			continue
		}
		cr.idx = int32(len(m.rules))
		m.rules = append(m.rules, cr)
	}
	// Needles.
	m.patLen = b.patLen
	m.triggers = make([][]trigger, len(b.patLen))
	for ri, cr := range m.rules {
		ns := b.needCond(cr, cr.cond)
		if !ns.ok {
			cr.always = true
			m.always = append(m.always, int32(ri))
			continue
		}
		for _, t := range ns.trigs {
			pat := t.rule
			m.triggers[pat] = append(m.triggers[pat], trigger{rule: int32(ri), flag: t.flag})
		}
	}
	m.nslots = len(b.fieldIDs)
	m.fieldIDs = b.fieldIDs
	m.buildBuckets(b)
	m.resetState()
	m.warmUp()
	m.alwaysCache = map[eventSource]*sourcePlan{} // rules' correlation flags are not final yet
	var cerrs []LoadError
	m.corr, cerrs = newCorrelator(m, corrRules)
	errs = append(errs, cerrs...)
	return m, errs
}

// resetState gives m fresh per-event scratch space and caches.
func (m *Matcher) resetState() {
	m.nameCache = map[string]nameEntry{}
	m.alwaysCache = map[eventSource]*sourcePlan{}
	m.st = scratch{
		slotGen: make([]uint32, m.nslots), slotFirst: make([]int32, m.nslots), slotLast: make([]int32, m.nslots),
		patGen: make([]uint32, len(m.patLen)), patFlags: make([]uint8, len(m.patLen)),
		candGen: make([]uint32, len(m.rules)),
	}
}

// Clone returns a matcher that shares m's compiled rules and automata (read
// only) but has its own scratch space and empty correlation state, for
// another goroutine. Correlations see only the events of their own clone.
func (m *Matcher) Clone() *Matcher {
	c := *m
	c.resetState()
	c.scanSets = maps.Clone(m.scanSets)
	if m.corr != nil {
		c.corr = &correlator{m: &c}
		for _, cc := range m.corr.corrs {
			x := *cc
			x.groups = map[string]*groupState{}
			c.corr.corrs = append(c.corr.corrs, &x)
		}
	}
	return &c
}

// nameEntry is a cached event field name (an owned copy) and its slot.
type nameEntry struct {
	name string
	slot int32
}

// lookupName returns the slot of an event field name and an owned copy of
// the name ("" when the cache is full, which only disables a shortcut).
func (m *Matcher) lookupName(name string) (int32, string) {
	if e, ok := m.nameCache[name]; ok {
		return e.slot, e.name
	}
	id, ok := m.fieldIDs[asciiLower(name)]
	if !ok {
		id = -1
	}
	if len(m.nameCache) >= 1<<16 {
		return id, ""
	}
	e := nameEntry{name: strings.Clone(name), slot: id}
	m.nameCache[e.name] = e
	return id, e.name
}

// resolve interns the event's fields into slots and runs the automata.
func (m *Matcher) resolve(fields []event.Field) {
	s := &m.st
	s.gen++
	if s.gen == 0 {
		clear(s.slotGen)
		clear(s.patGen)
		clear(s.candGen)
		clear(s.lowGen)
		s.gen = 1
	}
	gen := s.gen
	s.fields = fields
	if cap(s.next) < len(fields) {
		s.next = make([]int32, len(fields))
		s.low = make([]string, len(fields))
		s.lowGen = make([]uint32, len(fields))
	}
	if cap(s.slotOf) < len(fields) {
		s.slotOf = make([]int32, len(fields))
	}
	s.slotOf = s.slotOf[:len(fields)]
	s.next = s.next[:len(fields)]
	s.low = s.low[:len(fields)]
	s.lowGen = s.lowGen[:len(fields)]
	s.touched = s.touched[:0]
	for i := range fields {
		f := &fields[i]
		// Events of one source repeat the same field names in the same
		// order: compare with the previous event before hashing.
		var slot int32
		if i < len(s.prevNames) && s.prevNames[i] == f.Name {
			slot = s.prevSlots[i]
		} else {
			var name string
			slot, name = m.lookupName(f.Name)
			if i < len(s.prevNames) {
				s.prevNames[i], s.prevSlots[i] = name, slot
			} else if i == len(s.prevNames) && i < 512 {
				s.prevNames = append(s.prevNames, name)
				s.prevSlots = append(s.prevSlots, slot)
			}
		}
		s.slotOf[i] = slot
		if slot < 0 {
			continue
		}
		s.next[i] = -1
		if s.slotGen[slot] != gen {
			s.slotGen[slot] = gen
			s.slotFirst[slot] = int32(i)
		} else {
			s.next[s.slotLast[slot]] = int32(i)
		}
		s.slotLast[slot] = int32(i)
	}
}

// scanAll runs the automata of the event's log source over its fields.
func (m *Matcher) scanAll(ss *scanSet) {
	s := &m.st
	for i := range s.fields {
		var a *acAutomaton
		if slot := s.slotOf[i]; slot >= 0 {
			a = ss.ac[slot]
		}
		if a == nil {
			a = ss.kw
		}
		if a != nil {
			m.scan(a, s.fields[i].Value)
		}
	}
}

// scan runs one automaton over a value and records the patterns it finds.
func (m *Matcher) scan(a *acAutomaton, v string) {
	s := &m.st
	gen := s.gen
	st, nc, rows := int32(0), a.nclass, a.rows
	for j := 0; j < len(v); j++ {
		c := int32(a.class[v[j]])
		var nx int32
		if st < rows {
			nx = int32(a.dense[st*nc+c])
			if nx >= 0 {
				st = nx
				continue
			}
			st = ^nx
		} else {
			st = a.step(st, c)
		}
		o0, o1 := a.outOff[st], a.outOff[st+1]
		if o0 == o1 {
			continue
		}
		for _, p := range a.outs[o0:o1] {
			end := j + 1
			start := end - int(m.patLen[p])
			fl := hitAny
			if start == 0 {
				fl |= hitStart
			}
			if end == len(v) {
				fl |= hitEnd
				if start == 0 {
					fl |= hitExact
				}
			}
			if s.patGen[p] != gen {
				s.patGen[p] = gen
				s.patFlags[p] = fl
				s.touched = append(s.touched, p)
			} else {
				s.patFlags[p] |= fl
			}
		}
	}
}

// first returns the first field index of slot, or -1.
func (m *Matcher) first(slot int32) int32 {
	if m.st.slotGen[slot] != m.st.gen {
		return -1
	}
	return m.st.slotFirst[slot]
}

// lower returns the ASCII-lowered value of field i, cached per event.
func (m *Matcher) lower(i int32) string {
	s := &m.st
	if s.lowGen[i] != s.gen {
		s.lowGen[i] = s.gen
		s.low[i] = asciiLower(s.fields[i].Value)
	}
	return s.low[i]
}

func (m *Matcher) source(ev *event.Event) eventSource {
	es := eventSource{format: ev.Format}
	if i := m.first(m.slotChannel); i >= 0 {
		es.channel = m.st.fields[i].Value
		es.product = "windows"
		if strings.HasPrefix(es.channel, "Linux-Sysmon") {
			es.product = "linux"
		}
	}
	if i := m.first(m.slotEventID); i >= 0 {
		es.eventID = m.st.fields[i].Value
	}
	if i := m.first(m.slotPath); i >= 0 {
		es.path = m.st.fields[i].Value
	}
	if ev.Format == "zeek" {
		es.product = "zeek"
	}
	return es
}

// candidates fills m.st.cands with the rules to evaluate, in rule order.
func (m *Matcher) candidates(es *eventSource) []int32 {
	s := &m.st
	gen := s.gen
	s.cands = s.cands[:0]
	al := m.plan(es).always
	for _, ri := range al {
		s.candGen[ri] = gen
	}
	s.cands = append(s.cands, al...)
	for _, p := range s.touched {
		fl := s.patFlags[p]
		for _, t := range m.triggers[p] {
			if t.flag&fl == 0 || s.candGen[t.rule] == gen {
				continue
			}
			s.candGen[t.rule] = gen
			if m.rules[t.rule].src.accepts(es) {
				s.cands = append(s.cands, t.rule)
			}
		}
	}
	slices.Sort(s.cands)
	return s.cands
}

func (e *compiledRule) String() string {
	return fmt.Sprintf("%s (%s)", e.rule.Title, e.rule.ID)
}
