package policy

import (
	"encoding/json"
	"testing"

	"github.com/shieldwall/shieldwall/internal/stix"
)

func TestStrip(t *testing.T) {
	sighting := `{"type":"sighting","spec_version":"2.1","id":"sighting--ee970c8a-812b-4aa5-9c6a-8fd139cff9bc","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","sighting_of_ref":"indicator--dddddddd-dddd-4ddd-8ddd-dddddddddddd","count":3,"where_sighted_refs":["identity--11111111-1111-4111-8111-111111111111"],"x_note":"é"}`
	out, err := Strip([]byte(sighting), []string{"where_sighted_refs", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(out, &m)
	if _, ok := m["where_sighted_refs"]; ok {
		t.Error("where_sighted_refs survived")
	}
	if m["count"] != 3.0 || m["x_note"] != "é" {
		t.Errorf("other properties changed: %s", out)
	}
	if _, _, err := stix.Decode(out); err != nil {
		t.Errorf("redacted sighting is not valid STIX: %v", err)
	}
	same, _ := Strip([]byte(sighting), []string{"absent"})
	if string(same) != sighting {
		t.Error("stripping an absent property changed the bytes")
	}
	for _, p := range []string{"id", "type", "modified"} {
		if _, err := Strip([]byte(sighting), []string{p}); err == nil {
			t.Errorf("Strip(%q) succeeded", p)
		}
	}
	if _, err := Strip([]byte(`{"a":`), []string{"a"}); err == nil {
		t.Error("Strip of broken JSON succeeded")
	}
}
