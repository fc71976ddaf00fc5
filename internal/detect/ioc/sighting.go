package ioc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/stix"
)

// sighting is a STIX 2.1 sighting as SightingOf writes it.
type sighting struct {
	Type             string   `json:"type"`
	SpecVersion      string   `json:"spec_version"`
	ID               string   `json:"id"`
	Created          string   `json:"created"`
	Modified         string   `json:"modified"`
	SightingOfRef    string   `json:"sighting_of_ref"`
	Count            int      `json:"count"`
	FirstSeen        string   `json:"first_seen"`
	LastSeen         string   `json:"last_seen"`
	WhereSightedRefs []string `json:"where_sighted_refs,omitempty"`
}

type tally struct {
	count       int
	first, last time.Time
}

func (t *tally) add(at time.Time, n int) {
	if t.count == 0 || at.Before(t.first) {
		t.first = at
	}
	if t.count == 0 || at.After(t.last) {
		t.last = at
	}
	t.count += n
}

// SightingOf turns IOC alerts into STIX 2.1 sightings, one per indicator,
// counting its alerts, with first_seen/last_seen from the alerts' times
// (now when an alert has none), created/modified now, and where_sighted_refs
// the node's identity (omitted when empty). Alerts that do not come from a
// STIX indicator (an observable, or no Indicator) are skipped: a sighting
// must refer to a domain object.
func SightingOf(identity string, now time.Time, alerts ...*detect.Alert) ([]stix.Object, error) {
	ts := map[string]*tally{}
	for _, a := range alerts {
		if a == nil || !strings.HasPrefix(a.Indicator, "indicator--") {
			continue
		}
		t := ts[a.Indicator]
		if t == nil {
			t = &tally{}
			ts[a.Indicator] = t
		}
		at := a.Time
		if at.IsZero() {
			at = now
		}
		n := a.Events
		if n <= 0 {
			n = 1
		}
		t.add(at, n)
	}
	return sightings(identity, now, ts)
}

func sightings(identity string, now time.Time, ts map[string]*tally) ([]stix.Object, error) {
	ids := make([]string, 0, len(ts))
	for id := range ts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	stamp := now.UTC().Format(stix.TimestampFormat)
	out := make([]stix.Object, 0, len(ids))
	for _, id := range ids {
		t := ts[id]
		s := sighting{
			Type: "sighting", SpecVersion: "2.1", ID: stix.NewID("sighting"),
			Created: stamp, Modified: stamp, SightingOfRef: id, Count: min(t.count, 999999999),
			FirstSeen: t.first.UTC().Format(stix.TimestampFormat),
			LastSeen:  t.last.UTC().Format(stix.TimestampFormat),
		}
		if identity != "" {
			s.WhereSightedRefs = []string{identity}
		}
		raw, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("ioc: sighting of %s: %w", id, err)
		}
		obj, _, err := stix.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("ioc: sighting of %s: %w", id, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// Aggregator counts IOC hits per indicator between flushes; it is safe for
// concurrent use. Use its Add as (part of) a detect.Emit.
type Aggregator struct {
	identity string
	mu       sync.Mutex
	ts       map[string]*tally
}

// NewAggregator returns an aggregator whose sightings name identity (the
// node's STIX identity id) in where_sighted_refs.
func NewAggregator(identity string) *Aggregator {
	return &Aggregator{identity: identity, ts: map[string]*tally{}}
}

// Add counts one alert (alerts of other engines or without an indicator
// are ignored).
func (g *Aggregator) Add(a *detect.Alert) {
	if a == nil || a.Engine != "ioc" || !strings.HasPrefix(a.Indicator, "indicator--") {
		return
	}
	at := a.Time
	if at.IsZero() {
		at = time.Now()
	}
	n := max(a.Events, 1)
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.ts[a.Indicator]
	if t == nil {
		t = &tally{}
		g.ts[a.Indicator] = t
	}
	t.add(at, n)
}

// Flush returns one sighting per indicator hit since the last flush and
// starts a new period.
func (g *Aggregator) Flush(now time.Time) ([]stix.Object, error) {
	g.mu.Lock()
	ts := g.ts
	g.ts = map[string]*tally{}
	g.mu.Unlock()
	if len(ts) == 0 {
		return nil, nil
	}
	return sightings(g.identity, now, ts)
}
