package stix

import (
	"errors"
	"fmt"
)

// labelVocab names, per type, the STIX 2.1 property that took over the role
// of the STIX 2.0 labels (an open vocabulary in 2.0), as cti-python-stix2
// and the stix2-elevator map them.
var labelVocab = map[string]string{
	"indicator":    "indicator_types",
	"malware":      "malware_types",
	"report":       "report_types",
	"threat-actor": "threat_actor_types",
	"tool":         "tool_types",
}

// Upgrade turns one STIX 2.0 object into STIX 2.1. Outcomes:
//   - raw is already STIX 2.1 (spec_version "2.1", or an observable without
//     spec_version): raw, false, nil;
//   - raw is STIX 2.0 (a domain or relationship object, marking definition
//     or custom object without spec_version, or spec_version "2.0"): the
//     compact 2.1 JSON, true, nil. spec_version "2.1" is added after type;
//     the 2.0 labels are copied to the 2.1 vocabulary property
//     (indicator_types, malware_types, report_types, threat_actor_types,
//     tool_types) and kept; malware gets is_family true and indicator
//     pattern_type "stix" when absent. Everything else (member order,
//     numbers, timestamps, observed-data objects, custom properties) is
//     kept as received;
//   - raw is not a JSON object with a string type: nil, false, an error.
//
// The result still has to go through Decode.
func Upgrade(raw []byte) ([]byte, bool, error) {
	root, err := parseJSON(raw)
	if err != nil {
		return nil, false, fmt.Errorf("stix upgrade: %w", err)
	}
	if root.k != kObject {
		return nil, false, errors.New("stix upgrade: not a JSON object")
	}
	t := root.get("type")
	if t == nil || t.k != kString {
		return nil, false, errors.New("stix upgrade: type missing or not a string")
	}
	sv := root.get("spec_version")
	switch {
	case sv != nil && (sv.k != kString || sv.s != "2.0"):
		return raw, false, nil // 2.1, or invalid: Decode will say
	case sv == nil && t.s == "bundle":
		return raw, false, nil
	case sv == nil:
		cat, known := categories[t.s]
		if known && cat == catSCO || !known && !root.has("created") && !root.has("modified") {
			return raw, false, nil
		}
	}
	root.set("spec_version", value{k: kString, s: "2.1"}, "type")
	if prop, ok := labelVocab[t.s]; ok {
		if l := root.get("labels"); l != nil && !root.has(prop) {
			root.set(prop, cloneValue(l), "labels")
		}
	}
	switch t.s {
	case "malware":
		if !root.has("is_family") {
			root.set("is_family", value{k: kBool, b: true}, "")
		}
	case "indicator":
		if !root.has("pattern_type") {
			root.set("pattern_type", value{k: kString, s: "stix"}, "pattern")
		}
	}
	return appendJSON(make([]byte, 0, len(raw)+64), &root, false), true, nil
}

func cloneValue(v *value) value {
	out := *v
	if v.a != nil {
		out.a = make([]value, len(v.a))
		for i := range v.a {
			out.a[i] = cloneValue(&v.a[i])
		}
	}
	if v.o != nil {
		out.o = make([]member, len(v.o))
		for i := range v.o {
			out.o[i] = member{key: v.o[i].key, val: cloneValue(&v.o[i].val)}
		}
	}
	return out
}
