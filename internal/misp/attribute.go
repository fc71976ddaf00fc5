package misp

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// attribute converts one event-level attribute.
func (c *converter) attribute(a *attribute) {
	typ := string(a.Type)
	uuid, ok := canonicalUUID(a.UUID)
	if !ok {
		uuid = derivedUUID("misp-attribute", c.evUUID, typ, string(a.Value), a.Timestamp.String())
		c.warn(a.UUID, typ, fmt.Errorf("attribute uuid is not a UUID; using derived %s", uuid))
	}
	t := a.Timestamp.Time
	if t.IsZero() {
		t = c.evTime
	}
	l, tagLabels := c.tagsOf(uuid, typ, a.Tag, a.Galaxy)
	labels := []string{
		fmt.Sprintf("misp:type=%q", typ),
		fmt.Sprintf("misp:category=%q", string(a.Category)),
	}
	for _, tl := range tagLabels {
		labels = appendLabel(labels, tl)
	}

	clusters := c.clusters(clustersOf(a.Galaxy, a.Tag), l)
	m, err := mapAttribute(typ, string(a.Value))
	switch {
	case err == nil && bool(a.ToIDs) && len(m.cmps) > 0:
		id := "indicator--" + uuid
		c.indicator(id, buildPattern(m.cmps), t, a.FirstSeen.Time, a.LastSeen.Time, labels, string(a.Comment), l)
		c.relate(id, clusters, t, l)
		c.sightings(a, id, uuid, typ)
		return
	case err == nil && !bool(a.ToIDs) && len(m.drafts) > 0 &&
		c.observedData("observed-data--"+uuid, m.drafts, t, a.FirstSeen.Time, a.LastSeen.Time, labels, l):
		c.noSightings(a, uuid, typ)
		return
	case err != nil && !errors.Is(err, ErrUnmapped):
		c.warn(uuid, typ, fmt.Errorf("value does not fit its type, kept as x-misp-attribute: %w", err))
	case bool(a.ToIDs):
		c.warn(uuid, typ, fmt.Errorf("to_ids attribute kept as x-misp-attribute: %w", ErrUnmapped))
	}
	obj := c.common("x-misp-attribute", "x-misp-attribute--"+uuid, t, t, labels, l)
	obj["x_misp_type"] = typ
	obj["x_misp_category"] = string(a.Category)
	obj["x_misp_value"] = string(a.Value)
	if a.Comment != "" {
		obj["x_misp_comment"] = string(a.Comment)
	}
	c.add(obj, t, t)
	c.noSightings(a, uuid, typ)
}

// indicator adds an indicator. valid_from is first_seen when known, else the
// attribute's timestamp; valid_until is last_seen when after valid_from.
func (c *converter) indicator(id, pattern string, t, first, last time.Time, labels []string, comment string, l *stix.TLP) {
	obj := c.common("indicator", id, t, t, labels, l)
	obj["pattern"] = pattern
	obj["pattern_type"] = "stix"
	obj["pattern_version"] = "2.1"
	from := t
	if !first.IsZero() {
		from = first
	}
	obj["valid_from"] = ts(from)
	if !last.IsZero() && last.After(from) {
		obj["valid_until"] = ts(last)
	}
	if comment != "" {
		obj["description"] = comment
	}
	c.add(obj, t, t)
}

// observedData adds the observables and an observed-data pointing at them.
func (c *converter) observedData(id string, ds []*draft, t, first, last time.Time, labels []string, l *stix.TLP) bool {
	refs := c.observables(ds, l)
	if len(refs) == 0 {
		return false
	}
	if first.IsZero() {
		first = t
	}
	if last.Before(first) {
		last = first
	}
	obj := c.common("observed-data", id, t, t, labels, l)
	obj["first_observed"] = ts(first)
	obj["last_observed"] = ts(last)
	obj["number_observed"] = 1
	obj["object_refs"] = refs
	c.add(obj, t, t)
	return true
}

// sightings converts an attribute's sightings of indicator id. MISP
// sighting type 0 is a sighting, 1 a false positive (an opinion that
// disagrees, as misp-stix writes it); 2 (expiration) has no STIX form.
func (c *converter) sightings(a *attribute, id, ref, kind string) {
	for i, s := range a.Sighting {
		uuid, ok := canonicalUUID(s.UUID)
		if !ok {
			uuid = derivedUUID("misp-sighting", ref, fmt.Sprint(i), s.DateSighting.String())
		}
		t := s.DateSighting.Time
		if t.IsZero() {
			t = c.evTime
		}
		var where []string
		if s.Organisation != nil {
			where = append(where, c.identity(s.Organisation))
		}
		switch s.Type {
		case "", "0":
			obj := c.common("sighting", "sighting--"+uuid, t, t, nil, c.eventTLP)
			obj["sighting_of_ref"] = id
			obj["count"] = 1
			obj["first_seen"] = ts(t)
			obj["last_seen"] = ts(t)
			if len(where) > 0 {
				obj["where_sighted_refs"] = where
			}
			if s.Source != "" {
				obj["description"] = "MISP sighting source: " + string(s.Source)
			}
			c.add(obj, t, t)
		case "1":
			obj := c.common("opinion", "opinion--"+uuid, t, t, nil, c.eventTLP)
			obj["opinion"] = "strongly-disagree"
			obj["explanation"] = "MISP false-positive sighting"
			obj["object_refs"] = []string{id}
			if s.Organisation != nil && strings.TrimSpace(string(s.Organisation.Name)) != "" {
				obj["authors"] = []string{string(s.Organisation.Name)}
			}
			c.add(obj, t, t)
		default:
			c.warn(ref, kind, fmt.Errorf("sighting %s of type %s has no STIX form; dropped", uuid, s.Type))
		}
	}
}

func (c *converter) noSightings(a *attribute, ref, kind string) {
	if len(a.Sighting) > 0 {
		c.warn(ref, kind, fmt.Errorf("%d sighting(s) dropped: the attribute made no indicator", len(a.Sighting)))
	}
}
