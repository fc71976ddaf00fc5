package sealed

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"filippo.io/age"
)

type party struct {
	name string
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	age  *age.X25519Identity
}

func newParty(t testing.TB, name string) party {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return party{name, pub, priv, id}
}

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const bundle = `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`

func seal(t testing.TB, from, to party, m Manifest, signer ed25519.PrivateKey) []byte {
	var buf bytes.Buffer
	if m.ID == "" {
		m.ID = "b1"
	}
	m.From, m.To = from.name, to.name
	if m.Sealed.IsZero() {
		m.Sealed = now
	}
	if err := Seal(&buf, m, []byte(bundle), func(b []byte) []byte { return ed25519.Sign(signer, b) }, to.age.Recipient()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSealOpen(t *testing.T) {
	hub, fr, de := newParty(t, "hub"), newParty(t, "fr"), newParty(t, "de")
	keys := map[string]ed25519.PublicKey{"hub": hub.pub, "de": de.pub}
	opts := func(me party) OpenOptions {
		return OpenOptions{Identity: me.age, Self: me.name, Now: now, SenderKey: func(n string) (ed25519.PublicKey, bool) { k, ok := keys[n]; return k, ok }}
	}
	good := seal(t, hub, fr, Manifest{Objects: 0, Cursor: "c42"}, hub.priv)
	m, b, err := Open(bytes.NewReader(good), opts(fr))
	if err != nil {
		t.Fatalf("Open(good) = %v", err)
	}
	if string(b) != bundle || m.From != "hub" || m.Cursor != "c42" || m.BundleSHA256 == "" {
		t.Errorf("Open(good) = %+v, %s", m, b)
	}

	// A key that is not the sender's: the signature check fails.
	forged := seal(t, hub, fr, Manifest{}, de.priv)
	// A bundle for fr, opened by de (who cannot decrypt it).
	// A bundle encrypted to fr's key but whose manifest says "de".
	var misaddressed bytes.Buffer
	Seal(&misaddressed, Manifest{ID: "x", From: "hub", To: "de", Sealed: now}, []byte(bundle), func(b []byte) []byte { return ed25519.Sign(hub.priv, b) }, fr.age.Recipient())
	unknown := seal(t, newParty(t, "mallory"), fr, Manifest{}, hub.priv)
	stale := seal(t, hub, fr, Manifest{Sealed: now.Add(-31 * 24 * time.Hour)}, hub.priv)
	future := seal(t, hub, fr, Manifest{Sealed: now.Add(time.Hour)}, hub.priv)

	tests := []struct {
		name string
		file []byte
		me   party
		want error
	}{
		{"forged signature", forged, fr, ErrBadSignature},
		{"someone else's bundle", good, de, ErrNotForUs},
		{"misaddressed manifest", misaddressed.Bytes(), fr, ErrNotForUs},
		{"unknown sender", unknown, fr, ErrUnknownPeer},
		{"stale", stale, fr, ErrStale},
		{"from the future", future, fr, ErrStale},
		{"truncated", good[:len(good)-20], fr, ErrCorrupt},
		{"garbage", []byte("not an age file"), fr, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, b, err := Open(bytes.NewReader(tc.file), opts(tc.me))
			if !errors.Is(err, tc.want) {
				t.Errorf("Open = %v, want %v", err, tc.want)
			}
			if b != nil {
				t.Error("a refused bundle returned content")
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	hub, fr := newParty(f, "hub"), newParty(f, "fr")
	f.Add(seal(f, hub, fr, Manifest{}, hub.priv))
	f.Add([]byte("age-encryption.org/v1\n-> X25519 abc\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = Open(bytes.NewReader(data), OpenOptions{Identity: fr.age, Self: "fr", Now: now,
			SenderKey: func(n string) (ed25519.PublicKey, bool) { return hub.pub, n == "hub" }, MaxSize: 1 << 20})
	})
}
