package identity

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)
	if _, err := LoadOrCreate(dir, "", "", now); err == nil {
		t.Fatal("created an identity without a name")
	}
	a, err := LoadOrCreate(dir, "fr-hub", "CERT-FR", now)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, FileName))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("identity file mode %v, want 0600", st.Mode().Perm())
	}
	if a.STIX.Type != "identity" || !strings.HasPrefix(a.ID(), "identity--") {
		t.Errorf("STIX identity %s %s", a.STIX.Type, a.ID())
	}
	for _, want := range []string{`"name":"CERT-FR"`, `"x_shieldwall_node":"fr-hub"`, a.AgeRecipient()} {
		if !strings.Contains(string(a.STIX.Raw), want) {
			t.Errorf("identity object lacks %s: %s", want, a.STIX.Raw)
		}
	}
	b, err := LoadOrCreate(dir, "fr-hub", "CERT-FR", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if b.ID() != a.ID() || !a.PublicKey.Equal(b.PublicKey) || b.AgeRecipient() != a.AgeRecipient() {
		t.Error("reloading made a different identity")
	}
	if _, err := LoadOrCreate(dir, "other", "CERT-FR", now); err == nil {
		t.Error("LoadOrCreate accepted a different node name for an existing identity")
	}
	msg := []byte("bundle")
	pub, err := ParsePublicKey(a.PublicKeyString())
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, msg, b.Sign(msg)) {
		t.Error("signature does not verify with the published key")
	}
	for _, bad := range []string{"", "ed25519:", "ed25519:AAAA", "rsa:xyz"} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", bad)
		}
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"name":"x"}`), 0o600)
	if _, err := Load(dir); err == nil {
		t.Error("Load of a broken identity succeeded")
	}
}
