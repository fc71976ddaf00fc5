package storetest

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

func testStatuses(t *testing.T, b store.Backend) {
	ctx := context.Background()
	s := store.Status{
		ID:               "2d086da7-4bdc-4f91-900e-d77486753710",
		Status:           "pending",
		RequestTimestamp: base,
		TotalCount:       4,
		Successes:        []store.StatusItem{{ID: uid("indicator", 1), Version: stix.FormatTime(at(1), 3)}},
		Failures:         []store.StatusItem{{ID: uid("indicator", 2), Version: stix.FormatTime(at(2), 3), Message: "invalid pattern"}},
		Pendings:         []store.StatusItem{{ID: uid("indicator", 3)}, {ID: uid("malware", 4)}},
	}
	if err := b.PutStatus(ctx, s); err != nil {
		t.Fatalf("PutStatus: %v", err)
	}
	got, err := b.Status(ctx, s.ID)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	diff(t, "Status", got, s)

	// A status is rewritten as its objects are processed.
	s.Status = "complete"
	s.Successes = append(s.Successes, s.Pendings...)
	s.Pendings = nil
	if err := b.PutStatus(ctx, s); err != nil {
		t.Fatalf("PutStatus(update): %v", err)
	}
	got, err = b.Status(ctx, s.ID)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	diff(t, "updated Status", got, s)

	_, err = b.Status(ctx, "5e1f0a9c-0000-4000-8000-000000000000")
	wantErr(t, "Status(unknown)", err, store.ErrNotFound)
}

func testTokens(t *testing.T, b store.Backend) {
	ctx := context.Background()
	h := func(s string) []byte { x := sha256.Sum256([]byte(s)); return x[:] }
	alice := store.Token{ID: "tok-1", Name: "alice", Role: store.RoleAnalyst, Hash: h("alice-secret"), Created: base}
	bob := store.Token{ID: "tok-2", Name: "bob", Role: store.RoleReader, Hash: h("bob-secret"), Created: base.Add(1)}
	for _, tok := range []store.Token{alice, bob} {
		if err := b.CreateToken(ctx, tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Name, err)
		}
	}
	for _, tok := range []store.Token{alice, bob} {
		got, err := b.TokenByHash(ctx, tok.Hash)
		if err != nil {
			t.Fatalf("TokenByHash(%s): %v", tok.Name, err)
		}
		diff(t, "TokenByHash", got, tok)
	}
	_, err := b.TokenByHash(ctx, h("wrong"))
	wantErr(t, "TokenByHash(unknown)", err, store.ErrNotFound)

	err = b.CreateToken(ctx, store.Token{ID: "tok-3", Name: "alice", Role: store.RoleAdmin, Hash: h("other")})
	wantErr(t, "CreateToken(same name)", err, store.ErrConflict)
	err = b.CreateToken(ctx, store.Token{ID: "tok-1", Name: "carol", Role: store.RoleAdmin, Hash: h("carol")})
	wantErr(t, "CreateToken(same id)", err, store.ErrConflict)
	// The failed creations stored nothing.
	got, err := b.TokenByHash(ctx, alice.Hash)
	if err != nil || got.Role != store.RoleAnalyst {
		t.Errorf("TokenByHash(alice) after conflict = %+v, %v", got, err)
	}
	_, err = b.TokenByHash(ctx, h("carol"))
	wantErr(t, "TokenByHash(carol, conflicting id)", err, store.ErrNotFound)
}

func testGrants(t *testing.T, b store.Backend) {
	ctx := context.Background()
	c1, c2 := newCollection(t, b), newCollection(t, b)
	if gs, err := b.Grants(ctx, c1); err != nil || len(gs) != 0 {
		t.Errorf("Grants of a new collection = %v, %v; want none", gs, err)
	}
	set := []store.Grant{
		{CollectionID: c1, Principal: "alice", Read: true, Write: true},
		{CollectionID: c1, Principal: "role:reader", Read: true},
		{CollectionID: c2, Principal: "alice", Read: true},
		{CollectionID: c1, Principal: "alice", Read: true}, // replaces the first
	}
	for _, g := range set {
		if err := b.SetGrant(ctx, g); err != nil {
			t.Fatalf("SetGrant(%+v): %v", g, err)
		}
	}
	got, err := b.Grants(ctx, c1)
	if err != nil {
		t.Fatalf("Grants: %v", err)
	}
	diff(t, "Grants(c1)", sortGrants(got), []store.Grant{set[3], set[1]})
	got, err = b.Grants(ctx, c2)
	if err != nil {
		t.Fatalf("Grants: %v", err)
	}
	diff(t, "Grants(c2)", got, []store.Grant{set[2]})

	err = b.SetGrant(ctx, store.Grant{CollectionID: "a9f1e6a2-5d5b-4c0e-9b7e-1f2a3b4c5d6e", Principal: "alice", Read: true})
	wantErr(t, "SetGrant(unknown collection)", err, store.ErrNotFound)
}

// sortGrants orders grants by principal.
func sortGrants(gs []store.Grant) []store.Grant {
	for i := 1; i < len(gs); i++ {
		for j := i; j > 0 && gs[j].Principal < gs[j-1].Principal; j-- {
			gs[j], gs[j-1] = gs[j-1], gs[j]
		}
	}
	return gs
}

func testErrors(t *testing.T, b store.Backend) {
	ctx := context.Background()
	const unknown = "a9f1e6a2-5d5b-4c0e-9b7e-1f2a3b4c5d6e"
	coll := newCollection(t, b)
	_, err := b.Put(ctx, unknown, []stix.Object{indicator(1)})
	wantErr(t, "Put(unknown collection)", err, store.ErrNotFound)
	_, err = b.Put(ctx, unknown, nil)
	wantErr(t, "Put(unknown collection, no objects)", err, store.ErrNotFound)
	_, err = b.Query(ctx, unknown, store.Filter{})
	wantErr(t, "Query(unknown collection)", err, store.ErrNotFound)
	if recs := queryAll(t, b, coll, store.Filter{}); len(recs) != 0 {
		t.Errorf("Put to an unknown collection stored %d records elsewhere", len(recs))
	}
	for _, next := range []string{"garbage", "!!", "0", "-1", "1e9"} {
		_, err = b.Query(ctx, coll, store.Filter{Next: next})
		wantErr(t, "Query(Next "+next+")", err, store.ErrInvalid)
	}
	_, err = b.CreateCollection(ctx, store.Collection{ID: "not-a-uuid"})
	wantErr(t, "CreateCollection(id not a UUID)", err, store.ErrInvalid)
}
