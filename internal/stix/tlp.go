package stix

import (
	"fmt"
	"slices"
	"strings"
)

// TLP2ExtensionID is the extension definition of the OASIS TLP 2.0
// marking definitions (cti-stix-common-objects,
// extension-definition-specifications/tlp-2.0).
const TLP2ExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// TLP is one standard Traffic Light Protocol marking definition.
type TLP struct {
	// Level is the TLP level in lower case: "clear", "green", "amber",
	// "amber+strict" or "red" for TLP 2.0; "white", "green", "amber" or
	// "red" for the TLP 1.0 markings of STIX 2.1 section 7.2.1.4.
	Level string
	Name  string // "TLP:AMBER+STRICT"
	ID    string // the standard marking-definition id
	// Version is 2 for the TLP 2.0 (extension-based) markings, 1 for the
	// TLP 1.0 (definition_type "tlp") ones.
	Version int
	// Rank orders levels from the least (0, clear and white) to the most
	// restrictive (4, red). TLP 1.0 levels rank as their TLP 2.0 namesakes.
	Rank int
	// Object is the canonical marking-definition, ready to be stored.
	Object Object
}

// Standard marking-definition ids: TLP 2.0 as OASIS published them, TLP 1.0
// as in STIX 2.1 section 7.2.1.4 (and cti-python-stix2 stix2/v21/common.py).
const (
	TLPClearID       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	TLPGreenID       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	TLPAmberID       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	TLPAmberStrictID = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	TLPRedID         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

	TLP1WhiteID = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	TLP1GreenID = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	TLP1AmberID = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	TLP1RedID   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

// tlp1IDs maps the TLP 1.0 levels to their standard ids (used by the
// marking-definition check).
var tlp1IDs = map[string]string{
	"white": TLP1WhiteID, "green": TLP1GreenID, "amber": TLP1AmberID, "red": TLP1RedID,
}

// tlp2IDs maps the TLP 2.0 levels to their standard ids.
var tlp2IDs = map[string]string{
	"clear": TLPClearID, "green": TLPGreenID, "amber": TLPAmberID,
	"amber+strict": TLPAmberStrictID, "red": TLPRedID,
}

var tlps = buildTLPs()

func buildTLPs() []TLP {
	v2 := []struct{ level, id string }{
		{"clear", TLPClearID}, {"green", TLPGreenID}, {"amber", TLPAmberID},
		{"amber+strict", TLPAmberStrictID}, {"red", TLPRedID},
	}
	var out []TLP
	for rank, l := range v2 {
		name := "TLP:" + strings.ToUpper(l.level)
		raw := fmt.Sprintf(`{"type":"marking-definition","spec_version":"2.1","id":%q,"created":"2022-10-01T00:00:00.000Z","name":%q,"extensions":{%q:{"extension_type":"property-extension","tlp_2_0":%q}}}`,
			l.id, name, TLP2ExtensionID, l.level)
		out = append(out, TLP{Level: l.level, Name: name, ID: l.id, Version: 2, Rank: rank, Object: mustDecode(raw)})
	}
	v1 := []struct {
		level, id string
		rank      int
	}{
		{"white", TLP1WhiteID, 0}, {"green", TLP1GreenID, 1}, {"amber", TLP1AmberID, 2}, {"red", TLP1RedID, 4},
	}
	for _, l := range v1 {
		name := "TLP:" + strings.ToUpper(l.level)
		raw := fmt.Sprintf(`{"type":"marking-definition","spec_version":"2.1","id":%q,"created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":%q,"definition":{"tlp":%q}}`,
			l.id, name, l.level)
		out = append(out, TLP{Level: l.level, Name: name, ID: l.id, Version: 1, Rank: l.rank, Object: mustDecode(raw)})
	}
	return out
}

func mustDecode(raw string) Object {
	o, _, err := Decode([]byte(raw))
	if err != nil {
		panic("stix: standard marking does not validate: " + err.Error())
	}
	return o
}

// TLPs returns the standard TLP markings: the five TLP 2.0 ones, then the
// four TLP 1.0 ones.
func TLPs() []TLP { return slices.Clone(tlps) }

// TLPByName returns the TLP 2.0 marking named name, case-insensitively:
// "clear", "green", "amber", "amber+strict", "red", with or without a
// "tlp:" prefix (MISP tags, "TLP:AMBER+STRICT"); "white" is TLP 2.0's
// "clear".
func TLPByName(name string) (TLP, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "tlp:")
	n = strings.TrimSpace(n)
	if n == "white" {
		n = "clear"
	}
	for _, t := range tlps[:5] {
		if t.Level == n {
			return t, true
		}
	}
	return TLP{}, false
}

// TLPByID returns the standard TLP marking (2.0 or 1.0) with the given
// marking-definition id.
func TLPByID(id string) (TLP, bool) {
	for _, t := range tlps {
		if t.ID == id {
			return t, true
		}
	}
	return TLP{}, false
}

// StrictestTLP returns the most restrictive standard TLP marking among
// refs (object_marking_refs); false when none of them is a TLP marking.
func StrictestTLP(refs []string) (TLP, bool) {
	var best TLP
	found := false
	for _, r := range refs {
		t, ok := TLPByID(r)
		if ok && (!found || t.Rank > best.Rank) {
			best, found = t, true
		}
	}
	return best, found
}

// ObjectTLP returns the most restrictive standard TLP marking among the
// object_marking_refs of o; false when it has none.
func ObjectTLP(o Object) (TLP, bool) {
	root, err := parseJSON(o.Raw)
	if err != nil || root.k != kObject {
		return TLP{}, false
	}
	refs := root.get("object_marking_refs")
	if refs == nil || refs.k != kArray {
		return TLP{}, false
	}
	ids := make([]string, 0, len(refs.a))
	for i := range refs.a {
		if refs.a[i].k == kString {
			ids = append(ids, refs.a[i].s)
		}
	}
	return StrictestTLP(ids)
}
