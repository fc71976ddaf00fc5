package sigma

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// correlator keeps the state of every correlation rule. Correlations read
// the alerts of the rules they reference, group them by the group-by
// fields, and fire when their condition holds within the timespan.
type correlator struct {
	m     *Matcher
	corrs []*compiledCorr
}

type compiledCorr struct {
	rule    *Rule
	typ     string
	window  time.Duration
	groupBy []string
	field   string
	op      string
	n       float64
	refs    []int32                     // base rule indices, in the rule's order
	feeds   int                         // events fed since the last sweep
	aliases map[int32]map[string]string // base rule -> group-by name -> event field
	groups  map[string]*groupState
}

type groupState struct {
	start  time.Time
	times  []time.Time          // event_count
	values map[string]time.Time // value_count
	last   map[int32]time.Time  // temporal: last time per referenced rule
	pos    int                  // temporal_ordered: next expected rule
	events int
	ev     lastEvent
}

type lastEvent struct {
	source string
	offset int64
	time   time.Time
}

// parseTimespan reads "30s", "5m", "1h", "2d", "1w".
func parseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("bad timespan %q", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad timespan %q", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'M': 30 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}
	u, ok := unit[s[len(s)-1]]
	if !ok {
		return 0, fmt.Errorf("bad timespan unit in %q", s)
	}
	return time.Duration(n) * u, nil
}

func newCorrelator(m *Matcher, rules []*Rule) (*correlator, []LoadError) {
	c := &correlator{m: m}
	byRef := map[string]int32{}
	for i, cr := range m.rules {
		if cr.rule.ID != "" {
			byRef[cr.rule.ID] = int32(i)
		}
		if cr.rule.Name != "" {
			byRef[cr.rule.Name] = int32(i)
		}
	}
	var errs []LoadError
	for _, r := range rules {
		cc, err := compileCorr(r, byRef)
		if err != nil {
			errs = append(errs, LoadError{Path: r.Path, Rule: r.titleOrID(), Err: fmt.Errorf("correlation: %w", err)})
			continue
		}
		ci := int32(len(c.corrs))
		c.corrs = append(c.corrs, cc)
		for _, ri := range cc.refs {
			base := m.rules[ri]
			base.corrs = append(base.corrs, ci)
			if !r.Correlation.Generate {
				base.suppressed = true
			}
		}
	}
	return c, errs
}

func compileCorr(r *Rule, byRef map[string]int32) (*compiledCorr, error) {
	co := r.Correlation
	w, err := parseTimespan(co.Timespan)
	if err != nil {
		return nil, err
	}
	cc := &compiledCorr{rule: r, typ: co.Type, window: w, groupBy: co.GroupBy, field: co.Field,
		groups: map[string]*groupState{}, aliases: map[int32]map[string]string{}}
	for _, ref := range co.Rules {
		ri, ok := byRef[ref]
		if !ok {
			return nil, fmt.Errorf("referenced rule %q not loaded (correlations of correlations are not supported)", ref)
		}
		cc.refs = append(cc.refs, ri)
	}
	for alias, perRule := range co.Aliases {
		for ref, field := range perRule {
			ri, ok := byRef[ref]
			if !ok {
				return nil, fmt.Errorf("alias %q names unknown rule %q", alias, ref)
			}
			if cc.aliases[ri] == nil {
				cc.aliases[ri] = map[string]string{}
			}
			cc.aliases[ri][alias] = field
		}
	}
	switch len(co.Condition) {
	case 0:
		if co.Type == "temporal" || co.Type == "temporal_ordered" {
			cc.op, cc.n = "gte", float64(len(cc.refs))
		} else {
			return nil, errors.New("missing condition")
		}
	case 1:
		for k, v := range co.Condition {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("condition %s: %q is not a number", k, v)
			}
			cc.op, cc.n = k, f
		}
	default:
		// Ranges such as gte+lte: keep the lower bound only when it is
		// paired, reject other mixes.
		return nil, errors.New("more than one condition operator is not supported")
	}
	return cc, nil
}

func (cc *compiledCorr) holds(v int) bool {
	x := float64(v)
	switch cc.op {
	case "gt":
		return x > cc.n
	case "gte":
		return x >= cc.n
	case "lt":
		return x < cc.n
	case "lte":
		return x <= cc.n
	case "eq":
		return x == cc.n
	case "neq":
		return x != cc.n
	}
	return false
}

// monotone reports whether the condition can be decided as events arrive
// (a count that only grows); other conditions are decided when the window
// closes.
func (cc *compiledCorr) monotone() bool { return cc.op == "gt" || cc.op == "gte" }

func (m *Matcher) fieldValue(name string) (string, bool) {
	slot, ok := m.fieldIDs[asciiLower(name)]
	if !ok {
		return "", false
	}
	i := m.first(slot)
	if i < 0 {
		return "", false
	}
	return m.st.fields[i].Value, true
}

// feed updates every correlation that references cr with the event.
func (c *correlator) feed(cr *compiledRule, ev *event.Event, emit detect.Emit) {
	ri := cr.idx
	for _, ci := range cr.corrs {
		cc := c.corrs[ci]
		var key strings.Builder
		for _, g := range cc.groupBy {
			name := g
			if a, ok := cc.aliases[ri][g]; ok {
				name = a
			}
			v, _ := c.m.fieldValue(name)
			key.WriteString(v)
			key.WriteByte(0)
		}
		k := key.String()
		t := ev.Time
		if cc.feeds++; cc.feeds >= sweepEvery && len(cc.groups) > sweepEvery {
			c.sweep(cc, t, emit)
		}
		gs := cc.groups[k]
		if gs != nil && t.Sub(gs.start) > cc.window {
			if !cc.monotone() {
				c.closeWindow(cc, k, gs, emit)
			}
			gs = nil
		}
		if gs == nil {
			gs = &groupState{start: t, values: map[string]time.Time{}, last: map[int32]time.Time{}}
			cc.groups[k] = gs
		}
		gs.events++
		gs.ev = lastEvent{source: ev.Source, offset: ev.Offset, time: t}
		fired := false
		switch cc.typ {
		case "event_count":
			gs.times = append(gs.times, t)
			gs.times = dropBefore(gs.times, t.Add(-cc.window))
			fired = cc.monotone() && cc.holds(len(gs.times))
		case "value_count":
			if v, ok := c.m.fieldValue(cc.field); ok {
				gs.values[v] = t
			}
			for v, vt := range gs.values {
				if t.Sub(vt) > cc.window {
					delete(gs.values, v)
				}
			}
			fired = cc.monotone() && cc.holds(len(gs.values))
		case "temporal":
			gs.last[ri] = t
			n := 0
			for _, r := range cc.refs {
				if lt, ok := gs.last[r]; ok && t.Sub(lt) <= cc.window {
					n++
				}
			}
			fired = cc.holds(n)
		case "temporal_ordered":
			if gs.pos < len(cc.refs) && cc.refs[gs.pos] == ri {
				if gs.pos == 0 {
					gs.start = t
				}
				gs.pos++
			} else if cc.refs[0] == ri {
				gs.pos, gs.start = 1, t
			}
			fired = gs.pos == len(cc.refs)
		}
		if fired {
			emit(c.alert(cc, k, gs))
			delete(cc.groups, k)
		}
	}
}

// sweepEvery bounds the memory of idle groups: after this many events, a
// correlation with more groups than this closes every expired window.
const sweepEvery = 4096

// sweep closes the windows of cc that ended before now (deciding the
// conditions that wait for the end of a window) and forgets them.
func (c *correlator) sweep(cc *compiledCorr, now time.Time, emit detect.Emit) {
	cc.feeds = 0
	for k, gs := range cc.groups {
		last := gs.ev.time
		if now.Sub(gs.start) <= cc.window && now.Sub(last) <= cc.window {
			continue
		}
		if !cc.monotone() && (cc.typ == "event_count" || cc.typ == "value_count") {
			c.closeWindow(cc, k, gs, emit)
			continue
		}
		delete(cc.groups, k)
	}
}

func dropBefore(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	return ts[i:]
}

func (c *correlator) closeWindow(cc *compiledCorr, k string, gs *groupState, emit detect.Emit) {
	n := len(gs.times)
	if cc.typ == "value_count" {
		n = len(gs.values)
	}
	if cc.holds(n) {
		emit(c.alert(cc, k, gs))
	}
	delete(cc.groups, k)
}

// Flush decides the correlations whose condition is only known when their
// window closes (lt, lte, eq, neq), for the windows still open at the end of
// a stream.
func (m *Matcher) Flush(ctx context.Context, emit detect.Emit) error {
	if m.corr == nil {
		return nil
	}
	for _, cc := range m.corr.corrs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if cc.monotone() || cc.typ == "temporal" || cc.typ == "temporal_ordered" {
			continue
		}
		for k, gs := range cc.groups {
			m.corr.closeWindow(cc, k, gs, emit)
		}
	}
	return nil
}

func (c *correlator) alert(cc *compiledCorr, key string, gs *groupState) *detect.Alert {
	r := cc.rule
	a := &detect.Alert{Engine: "sigma", RuleID: r.ID, RuleTitle: r.Title, Level: r.Level, Tags: r.Tags,
		Source: gs.ev.source, Offset: gs.ev.offset, Time: gs.ev.time, Events: gs.events}
	vals := strings.Split(key, "\x00")
	for i, g := range cc.groupBy {
		if i < len(vals) {
			a.Matches = append(a.Matches, detect.Match{Field: g, Value: vals[i]})
		}
	}
	return a
}
