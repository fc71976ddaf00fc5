// Package stixmatch is the detection engine for STIX 2.1 indicators whose
// patterns are more than plain look-ups (those go to detect/ioc): it maps
// each event to a STIX observation (see Observation for the field mapping)
// and runs one pattern.Matcher per indicator, windowed qualifiers and
// FOLLOWEDBY included. The engine keeps state across events, so feed it
// events in time order from one goroutine.
package stixmatch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/stix/pattern"
)

// Options tune the engine.
type Options struct {
	// IncludeLookups also loads indicators whose patterns are plain
	// look-ups (pattern.Lookups), which detect/ioc normally serves.
	IncludeLookups bool
	// Now is the clock used for events that carry no time (default
	// time.Now).
	Now func() time.Time
	// Matcher tunes every indicator's matcher.
	Matcher pattern.Options
}

// Report says what New did with each indicator.
type Report struct {
	Loaded  int     // indicators the engine evaluates
	Lookups int     // plain look-ups left to detect/ioc
	Revoked int     // revoked indicators skipped
	Other   int     // not indicators, or pattern_type other than stix
	Errors  []error // indicators that could not be read or parsed
}

type rule struct {
	id, name, level string
	tags            []string
	validFrom       time.Time
	validUntil      time.Time // zero: open-ended
	types           map[string]bool
	m               *pattern.Matcher
}

// Engine implements detect.Engine for STIX patterns.
type Engine struct {
	rules []*rule
	now   func() time.Time
}

type indicator struct {
	Name           string   `json:"name"`
	Pattern        string   `json:"pattern"`
	PatternType    string   `json:"pattern_type"`
	ValidFrom      string   `json:"valid_from"`
	ValidUntil     string   `json:"valid_until"`
	Labels         []string `json:"labels"`
	IndicatorTypes []string `json:"indicator_types"`
	Confidence     *int     `json:"confidence"`
}

// New loads the indicators; those that cannot be used are counted in the
// report, and their errors listed, without stopping the others.
func New(objs []stix.Object, opts Options) (*Engine, Report) {
	e := &Engine{now: opts.Now}
	if e.now == nil {
		e.now = time.Now
	}
	var rep Report
	for _, o := range objs {
		if o.Type != "indicator" {
			rep.Other++
			continue
		}
		if o.Revoked {
			rep.Revoked++
			continue
		}
		r, isLookup, err := newRule(o, opts)
		switch {
		case err != nil:
			rep.Errors = append(rep.Errors, fmt.Errorf("stixmatch: indicator %s: %w", o.ID, err))
		case r == nil && isLookup:
			rep.Lookups++
		case r == nil:
			rep.Other++
		default:
			e.rules = append(e.rules, r)
			rep.Loaded++
		}
	}
	return e, rep
}

func newRule(o stix.Object, opts Options) (*rule, bool, error) {
	var ind indicator
	if err := json.Unmarshal(o.Raw, &ind); err != nil {
		return nil, false, fmt.Errorf("reading indicator: %w", err)
	}
	if ind.PatternType != "" && ind.PatternType != "stix" {
		return nil, false, nil
	}
	p, err := pattern.Parse(ind.Pattern)
	if err != nil {
		return nil, false, fmt.Errorf("pattern %q: %w", ind.Pattern, err)
	}
	if _, ok := p.Lookups(); ok && !opts.IncludeLookups {
		return nil, true, nil
	}
	m, err := pattern.NewMatcher(p, opts.Matcher)
	if err != nil {
		return nil, false, fmt.Errorf("compiling pattern: %w", err)
	}
	r := &rule{id: o.ID, name: ind.Name, m: m, types: objectTypes(p)}
	if r.name == "" {
		r.name = ind.Pattern
	}
	for _, s := range []struct {
		text string
		dst  *time.Time
		what string
	}{{ind.ValidFrom, &r.validFrom, "valid_from"}, {ind.ValidUntil, &r.validUntil, "valid_until"}} {
		if s.text == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s.text)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", s.what, err)
		}
		*s.dst = t
	}
	r.level = level(ind)
	r.tags = append(slices.Clone(ind.IndicatorTypes), ind.Labels...)
	return r, false, nil
}

var levels = []string{"informational", "low", "medium", "high", "critical"}

// level takes a level named by a label ("high", "severity:high",
// "level:high"), else maps confidence on the STIX None/Low/Med/High scale
// (0 informational, 1-29 low, 30-69 medium, 70-100 high), else "high".
func level(ind indicator) string {
	for _, l := range ind.Labels {
		l = strings.ToLower(l)
		for _, p := range []string{"severity:", "level:", "severity=", "level="} {
			l = strings.TrimPrefix(l, p)
		}
		if slices.Contains(levels, l) {
			return l
		}
	}
	if c := ind.Confidence; c != nil {
		switch {
		case *c <= 0:
			return "informational"
		case *c < 30:
			return "low"
		case *c < 70:
			return "medium"
		}
	}
	return "high"
}

func objectTypes(p *pattern.Pattern) map[string]bool {
	out := map[string]bool{}
	var comp func(pattern.CompExpr)
	comp = func(e pattern.CompExpr) {
		switch e := e.(type) {
		case *pattern.CompBinary:
			comp(e.Left)
			comp(e.Right)
		case *pattern.Comparison:
			out[e.Path.ObjectType] = true
		}
	}
	var obs func(pattern.ObsExpr)
	obs = func(e pattern.ObsExpr) {
		switch e := e.(type) {
		case *pattern.ObsTest:
			comp(e.Expr)
		case *pattern.ObsBinary:
			obs(e.Left)
			obs(e.Right)
		case *pattern.ObsQualified:
			obs(e.Expr)
		}
	}
	obs(p.Root)
	return out
}

// Rules reports how many indicators the engine evaluates.
func (e *Engine) Rules() int { return len(e.rules) }

// Process implements detect.Engine. Indicators are evaluated only while
// valid (valid_from <= event time < valid_until); the event time is the
// clock's when the event has none.
func (e *Engine) Process(ctx context.Context, ev *event.Event, emit detect.Emit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(e.rules) == 0 {
		return nil
	}
	obs := Observation(ev)
	if len(obs.Objects) == 0 {
		return nil
	}
	if obs.Time.IsZero() {
		obs.Time = e.now()
	}
	for _, r := range e.rules {
		if obs.Time.Before(r.validFrom) || !r.validUntil.IsZero() && !obs.Time.Before(r.validUntil) {
			continue
		}
		if !slices.ContainsFunc(obs.Objects, func(o *pattern.Object) bool { return r.types[o.Type] }) {
			continue
		}
		ms := r.m.Observe(obs)
		if len(ms) == 0 {
			continue
		}
		emit(r.alert(ev, ms[0]))
	}
	return nil
}

func (r *rule) alert(ev *event.Event, m pattern.Match) *detect.Alert {
	a := &detect.Alert{
		Engine: "stix", RuleID: r.id, RuleTitle: r.name, Level: r.level, Tags: slices.Clone(r.tags),
		Source: ev.Source, Offset: ev.Offset, Time: ev.Time, Indicator: r.id, Events: len(m.Seqs),
	}
	if a.Time.IsZero() {
		a.Time = m.Last
	}
	last := m.Seqs[len(m.Seqs)-1]
	for _, h := range m.Hits {
		if h.Seq != last {
			continue // earlier events of a multi-event match are not at hand
		}
		f := h.Origin
		if f == "" {
			f = h.Path
		}
		if !slices.Contains(a.Matches, detect.Match{Field: f, Value: h.Value}) {
			a.Matches = append(a.Matches, detect.Match{Field: f, Value: h.Value})
		}
	}
	if json.Valid(ev.Raw) {
		a.Event = append(json.RawMessage(nil), ev.Raw...)
	}
	return a
}
