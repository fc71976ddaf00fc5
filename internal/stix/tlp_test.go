package stix

import (
	"encoding/json"
	"testing"
)

func TestTLPByName(t *testing.T) {
	tests := []struct {
		in     string
		wantID string
	}{
		{"clear", TLPClearID},
		{"white", TLPClearID},
		{"TLP:WHITE", TLPClearID},
		{"Green", TLPGreenID},
		{"amber", TLPAmberID},
		{"tlp:amber+strict", TLPAmberStrictID},
		{"AMBER+STRICT", TLPAmberStrictID},
		{" tlp:red ", TLPRedID},
		{"pink", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := TLPByName(tt.in)
		if ok != (tt.wantID != "") || got.ID != tt.wantID {
			t.Errorf("TLPByName(%q) = %q, %v; want %q", tt.in, got.ID, ok, tt.wantID)
		}
	}
}

func TestTLPObjects(t *testing.T) {
	all := TLPs()
	if len(all) != 9 {
		t.Fatalf("TLPs() has %d markings, want 9", len(all))
	}
	for _, tl := range all {
		o, _, err := Decode(tl.Object.Raw)
		if err != nil {
			t.Errorf("%s: canonical object invalid: %v", tl.Name, err)
			continue
		}
		if o.ID != tl.ID || o.Type != "marking-definition" {
			t.Errorf("%s: object id %s, want %s", tl.Name, o.ID, tl.ID)
		}
		var m map[string]any
		if err := json.Unmarshal(tl.Object.Raw, &m); err != nil {
			t.Fatal(err)
		}
		if m["name"] != tl.Name {
			t.Errorf("%s: name %v", tl.Name, m["name"])
		}
		if tl.Version == 2 {
			ext, _ := m["extensions"].(map[string]any)[TLP2ExtensionID].(map[string]any)
			if ext["tlp_2_0"] != tl.Level || ext["extension_type"] != "property-extension" {
				t.Errorf("%s: extension %v", tl.Name, ext)
			}
		} else if def, _ := m["definition"].(map[string]any); def["tlp"] != tl.Level || m["definition_type"] != "tlp" {
			t.Errorf("%s: definition %v", tl.Name, def)
		}
		got, ok := TLPByID(tl.ID)
		if !ok || got.Name != tl.Name || got.Version != tl.Version {
			t.Errorf("TLPByID(%s) = %v, %v", tl.ID, got.Name, ok)
		}
	}
}

func TestStrictestTLP(t *testing.T) {
	tests := []struct {
		name string
		refs []string
		want string // level name, "" for none
	}{
		{"none", nil, ""},
		{"not tlp", []string{"marking-definition--4f0bd8a3-07b7-4c1d-b9a5-6f6f1d1c6b0e"}, ""},
		{"one", []string{TLPGreenID}, "green"},
		{"strictest wins", []string{TLPGreenID, TLPAmberStrictID, TLPAmberID}, "amber+strict"},
		{"tlp 1 red", []string{TLPClearID, TLP1RedID}, "red"},
		{"tlp 1 white", []string{TLP1WhiteID}, "white"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := StrictestTLP(tt.refs)
			if ok != (tt.want != "") || got.Level != tt.want {
				t.Errorf("StrictestTLP(%v) = %q, %v; want %q", tt.refs, got.Level, ok, tt.want)
			}
		})
	}
	o, _, err := Decode([]byte(edit(t, "indicator", map[string]any{"object_marking_refs": []any{TLPRedID, TLP1GreenID}})))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := ObjectTLP(o); !ok || got.ID != TLPRedID {
		t.Errorf("ObjectTLP = %v, %v; want TLP:RED", got.Name, ok)
	}
}
