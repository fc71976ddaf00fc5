package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

func testCollections(t *testing.T, b store.Backend) {
	ctx := context.Background()
	if cs, err := b.Collections(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("Collections of a new backend = %v, %v; want none", cs, err)
	}
	want := []store.Collection{
		{
			ID:          "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
			Alias:       "high-value",
			Title:       "High Value Indicators",
			Description: "Vetted by the CERT «24/7»",
			MediaTypes:  []string{"application/stix+json;version=2.1"},
			Created:     base,
		},
		{
			ID:      "52892447-4d7e-4f70-b94d-d7f22742ff63",
			Title:   "No alias",
			Created: base.Add(time.Hour),
		},
	}
	for _, c := range want {
		got, err := b.CreateCollection(ctx, c)
		if err != nil {
			t.Fatalf("CreateCollection(%s): %v", c.ID, err)
		}
		diff(t, "CreateCollection result", got, c)
	}
	// ID and Created are filled in when empty.
	before := time.Now().Add(-time.Minute)
	third, err := b.CreateCollection(ctx, store.Collection{Title: "filled"})
	if err != nil {
		t.Fatalf("CreateCollection(no id): %v", err)
	}
	if len(third.ID) != 36 || third.ID[8] != '-' || third.ID[13] != '-' || third.ID[18] != '-' || third.ID[23] != '-' {
		t.Errorf("CreateCollection(no id) gave id %q, want a UUID", third.ID)
	}
	if third.Created.Before(before) || third.Created.After(time.Now().Add(time.Minute)) {
		t.Errorf("CreateCollection(no created) gave Created %v, want about now", third.Created)
	}
	want = append(want, third)

	for _, c := range want {
		got, err := b.Collection(ctx, c.ID)
		if err != nil {
			t.Fatalf("Collection(%q): %v", c.ID, err)
		}
		diff(t, "Collection by id", got, c)
		if c.Alias != "" {
			got, err := b.Collection(ctx, c.Alias)
			if err != nil {
				t.Fatalf("Collection(%q): %v", c.Alias, err)
			}
			diff(t, "Collection by alias", got, c)
		}
	}
	all, err := b.Collections(ctx)
	if err != nil {
		t.Fatalf("Collections: %v", err)
	}
	diff(t, "Collections", all, want)

	_, err = b.Collection(ctx, "nope")
	wantErr(t, `Collection("nope")`, err, store.ErrNotFound)
	_, err = b.Collection(ctx, "")
	wantErr(t, `Collection("")`, err, store.ErrNotFound)
}

func testCollectionConflicts(t *testing.T, b store.Backend) {
	ctx := context.Background()
	first := store.Collection{ID: "2e6a1a5c-0d2e-4a4a-9f0e-3b7f2f9d6c11", Alias: "intel", Title: "first"}
	if _, err := b.CreateCollection(ctx, first); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	// An alias may look like a UUID; then no collection may have it as id.
	second := store.Collection{ID: "5b8e0c43-9a41-4c3e-8d2e-6f1a7b9c0d2e", Alias: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Title: "second"}
	if _, err := b.CreateCollection(ctx, second); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	for _, tc := range []struct {
		name string
		c    store.Collection
	}{
		{"same id", store.Collection{ID: first.ID, Title: "again"}},
		{"same alias", store.Collection{ID: "7c0f3cfb-27a9-4a0b-8f1e-0b0c9d8e7f60", Alias: "intel"}},
		{"alias is an existing id", store.Collection{ID: "d2b8f5a4-7b1c-4f55-9c57-2f3e0a8b9c1d", Alias: first.ID}},
		{"id is an existing alias", store.Collection{ID: second.Alias, Alias: "other"}},
	} {
		_, err := b.CreateCollection(ctx, tc.c)
		wantErr(t, "CreateCollection("+tc.name+")", err, store.ErrConflict)
	}
	// Two collections without alias do not conflict.
	for range 2 {
		if _, err := b.CreateCollection(ctx, store.Collection{Title: "no alias"}); err != nil {
			t.Fatalf("CreateCollection(no alias): %v", err)
		}
	}
	all, err := b.Collections(ctx)
	if err != nil || len(all) != 4 {
		t.Fatalf("Collections = %d, %v; want 4 (conflicts must store nothing)", len(all), err)
	}
	got, err := b.Collection(ctx, "intel")
	if err != nil || got.Title != "first" {
		t.Errorf("Collection(intel) = %+v, %v; want the first", got, err)
	}
}
