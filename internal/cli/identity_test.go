package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIdentityShow(t *testing.T) {
	dir := t.TempDir()
	type shown struct {
		Name, Organisation, IdentityID, PublicKey, AgeRecipient string
		STIX                                                    map[string]any
	}
	read := func() shown {
		r := mustRunCLI(t, 0, "identity", "show", "--data", dir)
		var s struct {
			Name         string         `json:"name"`
			Organisation string         `json:"organisation"`
			IdentityID   string         `json:"identity_id"`
			PublicKey    string         `json:"public_key"`
			AgeRecipient string         `json:"age_recipient"`
			STIX         map[string]any `json:"stix"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("identity show printed %q: %v", r.stdout, err)
		}
		return shown{s.Name, s.Organisation, s.IdentityID, s.PublicKey, s.AgeRecipient, s.STIX}
	}
	a := read()
	if !strings.HasPrefix(a.IdentityID, "identity--") || !strings.HasPrefix(a.PublicKey, "ed25519:") || !strings.HasPrefix(a.AgeRecipient, "age1") {
		t.Errorf("identity show = %+v", a)
	}
	if a.STIX["id"] != a.IdentityID || a.STIX["type"] != "identity" {
		t.Errorf("stix identity %v does not match id %s", a.STIX, a.IdentityID)
	}
	if b := read(); b.IdentityID != a.IdentityID || b.PublicKey != a.PublicKey {
		t.Errorf("second start changed the identity: %+v vs %+v", b, a)
	}
	mustRunCLI(t, 2, "identity", "show")
}
