package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// ReleasabilityExtensionID is the STIX extension-definition of Shieldwall's
// releasability marking: a marking-definition carrying
//
//	"extensions": {"extension-definition--ee970c8a-812b-4aa5-9c6a-8fd139cff9bc": {
//	    "extension_type": "property-extension",
//	    "releasable_to": ["FRA", "DEU", "NATO-CDC"],   // nations (ISO 3166-1 alpha-3) or organisations
//	    "sharing_groups": ["baltic-cert-group"]}}       // named sets of nodes, as in MISP
//
// An object referencing it in object_marking_refs may only go to peers of
// those nations or organisations, and (when sharing_groups is set) to peers
// in one of those groups. The fields follow FIRST IEP 2.0's "releasability"
// idea; docs/federation.md documents the marking.
const ReleasabilityExtensionID = "extension-definition--ee970c8a-812b-4aa5-9c6a-8fd139cff9bc"

// Releasability is what a releasability marking-definition says.
type Releasability struct {
	ReleasableTo  []string `json:"releasable_to,omitempty"`
	SharingGroups []string `json:"sharing_groups,omitempty"`
}

// MarkingReleasability reads the releasability extension of a
// marking-definition; false when md carries none.
func MarkingReleasability(md stix.Object) (Releasability, bool) {
	if md.Type != "marking-definition" {
		return Releasability{}, false
	}
	var m struct {
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	if json.Unmarshal(md.Raw, &m) != nil {
		return Releasability{}, false
	}
	raw, ok := m.Extensions[ReleasabilityExtensionID]
	if !ok {
		return Releasability{}, false
	}
	var r Releasability
	if json.Unmarshal(raw, &r) != nil {
		return Releasability{}, false
	}
	return r, true
}

// Describe builds the Item the policy needs from a stored object.
// receivedFrom names the peer the object came from ("" if local); markings
// resolves marking-definition ids (it may be nil when only TLP is used).
// An object referencing a marking that markings cannot resolve is described
// with an error: the caller must deny it, as the policy cannot know what the
// marking restricts.
func Describe(o stix.Object, receivedFrom string, markings func(id string) (stix.Object, bool)) (Item, error) {
	var m struct {
		CreatedByRef      string   `json:"created_by_ref"`
		ObjectMarkingRefs []string `json:"object_marking_refs"`
	}
	if err := json.Unmarshal(o.Raw, &m); err != nil {
		return Item{}, fmt.Errorf("read %s: %w", o.ID, err)
	}
	var relSeen, groupSeen bool
	it := Item{ID: o.ID, Type: o.Type, CreatedBy: m.CreatedByRef, ReceivedFrom: receivedFrom}
	if t, ok := stix.StrictestTLP(m.ObjectMarkingRefs); ok {
		it.TLP = normalise(t.Level)
	}
	for _, ref := range m.ObjectMarkingRefs {
		if _, ok := stix.TLPByID(ref); ok {
			continue
		}
		var md stix.Object
		ok := false
		if markings != nil {
			md, ok = markings(ref)
		}
		if !ok {
			return it, fmt.Errorf("%s: marking %s is unknown here", o.ID, ref)
		}
		if r, ok := MarkingReleasability(md); ok {
			// Several markings each restrict: the object may go only
			// where all of them allow (intersection, never union).
			it.ReleasableTo, relSeen = narrow(it.ReleasableTo, r.ReleasableTo, relSeen)
			it.Groups, groupSeen = narrow(it.Groups, r.SharingGroups, groupSeen)
		}
	}
	if relSeen && len(it.ReleasableTo) == 0 {
		it.ReleasableTo = []string{nobody}
	}
	if groupSeen && len(it.Groups) == 0 {
		it.Groups = []string{nobody}
	}
	return it, nil
}

// nobody stands for an empty intersection of restrictions: no peer matches it.
const nobody = "(nobody: the markings' lists do not intersect)"

// narrow intersects cur with next when a restriction was seen before, and
// takes next as it is otherwise; an empty next restricts nothing.
func narrow(cur, next []string, seen bool) ([]string, bool) {
	if len(next) == 0 {
		return cur, seen
	}
	if !seen {
		return slices.Clone(next), true
	}
	var out []string
	for _, c := range cur {
		if slices.ContainsFunc(next, func(n string) bool { return strings.EqualFold(n, c) }) {
			out = append(out, c)
		}
	}
	return out, true
}
