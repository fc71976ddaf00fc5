package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

// TestDateAddedFromDatabase checks that date_added ignores the node's clock
// (WithClock, here stuck in 1999) and comes from the database's, strictly
// increasing, and never reused after the newest records are deleted.
func TestDateAddedFromDatabase(t *testing.T) {
	ctx := context.Background()
	stuck := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	db := openTest(t, WithClock(func() time.Time { return stuck }))
	defer db.Close()
	c, err := db.CreateCollection(ctx, store.Collection{Title: "clock"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Created.Equal(stuck) {
		t.Errorf("Created = %v, want the injected clock's %v", c.Created, stuck)
	}
	var dbNow time.Time
	if err := db.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&dbNow); err != nil {
		t.Fatal(err)
	}
	res, err := db.Put(ctx, c.ID, benchBatch(0, 5))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if d := r.DateAdded.Sub(dbNow); d < 0 || d > time.Minute {
			t.Errorf("DateAdded[%d] = %v, want just after the database's clock %v", i, r.DateAdded, dbNow)
		}
		if i > 0 && !r.DateAdded.After(res[i-1].DateAdded) {
			t.Errorf("DateAdded[%d] = %v, not after %v", i, r.DateAdded, res[i-1].DateAdded)
		}
	}
	// Move the stored maximum far ahead of the clock, as a database whose
	// clock went back would see it: new values follow it, never fall back.
	ahead := time.Now().Add(24 * time.Hour).Truncate(time.Microsecond)
	if _, err := db.pool.Exec(ctx, `UPDATE date_added_clock SET last = $1`, ahead.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	res2, err := db.Put(ctx, c.ID, benchBatch(5, 2))
	if err != nil {
		t.Fatal(err)
	}
	if want := ahead.Add(time.Microsecond); !res2[0].DateAdded.Equal(want) || !res2[1].DateAdded.Equal(want.Add(time.Microsecond)) {
		t.Errorf("clock behind last: DateAdded = %v, %v; want %v and the next microsecond", res2[0].DateAdded, res2[1].DateAdded, want)
	}
	// Deleting the newest record does not free its date_added.
	if _, err := db.Delete(ctx, c.ID, benchObject(6).ID, store.VersionMatch{}); err != nil {
		t.Fatal(err)
	}
	res3, err := db.Put(ctx, c.ID, benchBatch(6, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !res3[0].DateAdded.After(res2[1].DateAdded) {
		t.Errorf("after delete: DateAdded %v reused (not after %v)", res3[0].DateAdded, res2[1].DateAdded)
	}
}

// TestReopen closes and reopens a store: the data stays, the migrations are
// not applied twice, and re-puts are no-ops.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.CreateCollection(ctx, store.Collection{Alias: "keep", Title: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Put(ctx, c.ID, benchBatch(0, 10))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, dsn)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if got, err := db.Collection(ctx, "keep"); err != nil || got.ID != c.ID {
		t.Fatalf("Collection after reopen = %+v, %v", got, err)
	}
	again, err := db.Put(ctx, c.ID, benchBatch(0, 11))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again[:10] {
		if r.Added || !r.DateAdded.Equal(res[i].DateAdded) {
			t.Errorf("re-put after reopen [%d] = %+v, want no-op at %v", i, r, res[i].DateAdded)
		}
	}
	if !again[10].Added || !again[10].DateAdded.After(res[9].DateAdded) {
		t.Errorf("new object after reopen = %+v, want added after %v", again[10], res[9].DateAdded)
	}
}
