package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

func testDelete(t *testing.T, b store.Backend) {
	ctx := context.Background()
	coll := newCollection(t, b)
	v := versions3(1)
	keep := indicator(2)
	res := put(t, b, coll, v[0], v[1], v[2], keep)

	// A version that does not exist deletes nothing from an object that does.
	n, err := b.Delete(ctx, coll, v[0].ID, store.VersionMatch{Times: []time.Time{at(7)}})
	if err != nil || n != 0 {
		t.Errorf("Delete(unknown version) = %d, %v; want 0, nil", n, err)
	}
	n, err = b.Delete(ctx, coll, v[0].ID, store.VersionMatch{})
	if err != nil || n != 3 {
		t.Fatalf("Delete(every version) = %d, %v; want 3, nil", n, err)
	}
	diff(t, "left after delete", keys(queryAll(t, b, coll, store.Filter{Versions: all})), objKeys(keep))
	_, err = b.Delete(ctx, coll, v[0].ID, store.VersionMatch{})
	wantErr(t, "Delete(deleted object)", err, store.ErrNotFound)
	_, err = b.Delete(ctx, coll, uid("indicator", 404), store.VersionMatch{All: true})
	wantErr(t, "Delete(unknown object)", err, store.ErrNotFound)
	_, err = b.Delete(ctx, "a9f1e6a2-5d5b-4c0e-9b7e-1f2a3b4c5d6e", keep.ID, store.VersionMatch{})
	wantErr(t, "Delete(unknown collection)", err, store.ErrNotFound)
	// Deleting in one collection leaves the others alone.
	other := newCollection(t, b)
	put(t, b, other, keep)
	if n, err := b.Delete(ctx, other, keep.ID, store.VersionMatch{}); err != nil || n != 1 {
		t.Errorf("Delete in the other collection = %d, %v; want 1, nil", n, err)
	}
	diff(t, "first collection", keys(queryAll(t, b, coll, store.Filter{})), objKeys(keep))

	// date_added is never reused: a version put again after its deletion
	// gets a new date_added after every earlier one.
	again := put(t, b, coll, v[2])
	if !again[0].Added || !again[0].DateAdded.After(res[3].DateAdded) {
		t.Errorf("re-put after delete = %+v, want added after %v", again[0], res[3].DateAdded)
	}
}

func testDeleteRepairsLatest(t *testing.T, b store.Backend) {
	ctx := context.Background()
	coll := newCollection(t, b)
	v := versions3(1)
	w := versions3(2)
	put(t, b, coll, v[1], v[0], v[2], w[0], w[1], w[2])
	id := v[0].ID
	latest := func() []string { return keys(queryAll(t, b, coll, store.Filter{IDs: []string{id}})) }
	first := func() []string {
		return keys(queryAll(t, b, coll, store.Filter{IDs: []string{id}, Versions: store.VersionMatch{First: true}}))
	}

	if n, err := b.Delete(ctx, coll, id, store.VersionMatch{Last: true}); err != nil || n != 1 {
		t.Fatalf("Delete(last) = %d, %v; want 1, nil", n, err)
	}
	diff(t, "latest after deleting the last", latest(), objKeys(v[1]))
	diff(t, "first after deleting the last", first(), objKeys(v[0]))

	if n, err := b.Delete(ctx, coll, id, store.VersionMatch{First: true}); err != nil || n != 1 {
		t.Fatalf("Delete(first) = %d, %v; want 1, nil", n, err)
	}
	diff(t, "latest after deleting the first", latest(), objKeys(v[1]))
	diff(t, "first after deleting the first", first(), objKeys(v[1]))

	// Put the deleted versions back: the marks follow the versions again.
	put(t, b, coll, v[2], v[0])
	diff(t, "latest after re-put", latest(), objKeys(v[2]))
	diff(t, "first after re-put", first(), objKeys(v[0]))

	if n, err := b.Delete(ctx, coll, id, store.VersionMatch{Times: []time.Time{v[1].Modified, v[2].Modified}}); err != nil || n != 2 {
		t.Fatalf("Delete(two times) = %d, %v; want 2, nil", n, err)
	}
	diff(t, "latest after deleting two times", latest(), objKeys(v[0]))
	diff(t, "first after deleting two times", first(), objKeys(v[0]))

	// The other object was not touched.
	diff(t, "other object", keys(queryAll(t, b, coll, store.Filter{IDs: []string{w[0].ID}, Versions: all})), objKeys(w...))
	diff(t, "latest of all", keys(queryAll(t, b, coll, store.Filter{})), objKeys(w[2], v[0]))
}
