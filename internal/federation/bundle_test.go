package federation

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/shieldwall/shieldwall/internal/federation/sealed"
	"github.com/shieldwall/shieldwall/internal/stix"
)

func TestSealedBundles(t *testing.T) {
	hub := newNode(t, "hub", "ALLIANCE-CDC", "")
	fra := newNode(t, "fra", "CERT-FR", "FRA")
	deu := newNode(t, "deu", "CERT-Bund", "DEU")
	member := peerSpec{relation: "member", recipient: true}
	link(t, hub, fra, member, member)
	link(t, hub, deu, peerSpec{relation: "member"}, member)
	for _, n := range []*node{hub, fra, deu} {
		n.start(t)
	}
	o := &objs{t: t}
	want := map[string]bool{}
	for _, l := range []struct {
		level, id string
		toFra     bool
	}{{"clear", stix.TLPClearID, true}, {"green", stix.TLPGreenID, true}, {"amber", stix.TLPAmberID, true}, {"red", stix.TLPRedID, false}} {
		id, raw := o.indicator(hub, "hub-"+l.level, nil, l.id)
		hub.put(t, raw)
		if l.toFra {
			want[id] = true
		}
	}
	ctx := context.Background()
	var file bytes.Buffer
	m, err := hub.syncer.SealFor(ctx, "fra", &file)
	if err != nil {
		t.Fatalf("SealFor(fra): %v", err)
	}
	if m.Objects != 3 {
		t.Errorf("SealFor(fra) sealed %d objects, want 3 (not the RED one)", m.Objects)
	}
	sealedFile := file.Bytes()
	m2, added, err := fra.syncer.OpenBundle(ctx, bytes.NewReader(sealedFile))
	if err != nil || added != 3 || m2.ID != m.ID || m2.From != "hub" {
		t.Fatalf("OpenBundle = %+v, %d, %v; want bundle %s from hub, 3 added", m2, added, err, m.ID)
	}
	for _, r := range fra.holdings(t) {
		if !want[r.Object.ID] {
			t.Errorf("fra holds %s, which it should not", r.Object.ID)
		}
		origins, _ := fra.db.Origins(ctx, r.Object.ID, r.Version)
		if len(origins) != 1 || origins[0] != "hub" {
			t.Errorf("origin of %s at fra = %v, want [hub]", r.Object.ID, origins)
		}
	}
	if _, _, err := fra.syncer.OpenBundle(ctx, bytes.NewReader(sealedFile)); !errors.Is(err, ErrReplay) {
		t.Errorf("OpenBundle(the same file again) = %v, want ErrReplay", err)
	}
	if st, _ := fra.syncer.PeerState("hub"); st.Refused != 1 {
		t.Errorf("fra's state of hub counts %d refusals, want 1 (the replay)", st.Refused)
	}
	// Since the last bundle: nothing, then only the new object.
	file.Reset()
	if m, err := hub.syncer.SealFor(ctx, "fra", &file); err != nil || m.Objects != 0 {
		t.Errorf("SealFor(fra) again = %d objects, %v; want 0 (nothing new)", m.Objects, err)
	}
	if _, added, err := fra.syncer.OpenBundle(ctx, &file); err != nil || added != 0 {
		t.Errorf("OpenBundle(empty bundle) = %d, %v; want 0, nil", added, err)
	}
	id, raw := o.indicator(hub, "hub-late", nil, stix.TLPGreenID)
	hub.put(t, raw)
	file.Reset()
	if m, err := hub.syncer.SealFor(ctx, "fra", &file); err != nil || m.Objects != 1 {
		t.Errorf("SealFor(fra) after one new object = %d objects, %v; want 1", m.Objects, err)
	}
	if _, added, err := fra.syncer.OpenBundle(ctx, &file); err != nil || added != 1 {
		t.Errorf("OpenBundle(one new) = %d, %v; want 1, nil", added, err)
	}
	if len(fra.holdings(t)) != 4 {
		t.Errorf("fra holds %d, want 4 (3 + %s)", len(fra.holdings(t)), id)
	}
	// A bundle for deu does not open at fra; deu gets no AMBER (not a
	// recipient).
	file.Reset()
	m, err = hub.syncer.SealFor(ctx, "deu", &file)
	if err != nil || m.Objects != 3 {
		t.Errorf("SealFor(deu) = %d objects, %v; want 3 (clear, green, late green)", m.Objects, err)
	}
	if _, _, err := fra.syncer.OpenBundle(ctx, bytes.NewReader(file.Bytes())); !errors.Is(err, sealed.ErrNotForUs) {
		t.Errorf("OpenBundle(deu's bundle at fra) = %v, want ErrNotForUs", err)
	}
	// A bundle claiming to be from a node deu does not know.
	if _, _, err := deu.syncer.OpenBundle(ctx, bytes.NewReader(file.Bytes())); err != nil {
		t.Errorf("OpenBundle(deu's bundle at deu) = %v", err)
	}
	if _, err := hub.syncer.SealFor(ctx, "nobody", &file); err == nil {
		t.Error("SealFor(unknown peer) succeeded")
	}
}

func TestEnsureInboxes(t *testing.T) {
	a := newNode(t, "a", "CERT-A", "FRA")
	b := newNode(t, "b", "CERT-B", "DEU")
	a.peers = append(a.peers, peerConfig(b, a, peerSpec{relation: "member"}))
	a.start(t)
	ctx := context.Background()
	for range 2 { // idempotent
		if err := a.syncer.EnsureInboxes(ctx, a.db); err != nil {
			t.Fatalf("EnsureInboxes: %v", err)
		}
	}
	c, err := a.db.Collection(ctx, "inbox-b")
	if err != nil {
		t.Fatalf("Collection(inbox-b): %v", err)
	}
	gs, err := a.db.Grants(ctx, c.ID)
	if err != nil || len(gs) != 1 || gs[0].Principal != "b" || !gs[0].Write || gs[0].Read {
		t.Errorf("Grants(inbox-b) = %+v, %v; want b may write, not read", gs, err)
	}
}
