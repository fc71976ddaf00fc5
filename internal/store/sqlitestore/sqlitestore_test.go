package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetest"
)

func openTemp(t *testing.T, opts ...Option) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "store.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend { return openTemp(t) })
}

// TestTwoHandlesOneFile writes through two *DB on one file at once, as a CLI
// import does while the node serves: date_added stays unique and increasing.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		defer db.Close()
		dbs[i] = db
	}
	c, err := dbs[0].CreateCollection(ctx, store.Collection{Title: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	const batches, size = 40, 50
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w, db := range dbs {
		wg.Go(func() {
			var last time.Time
			for i := range batches {
				res, err := db.Put(ctx, c.ID, benchBatch((w*batches+i)*size, size))
				if err != nil {
					errs <- err
					return
				}
				for _, r := range res {
					if !r.Added || !r.DateAdded.After(last) {
						errs <- fmt.Errorf("handle %d batch %d: %+v not after %v", w, i, r, last)
						return
					}
					last = r.DateAdded
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, db := range dbs {
		var recs []store.Record
		f := store.Filter{Limit: 333, Versions: store.VersionMatch{All: true}}
		for {
			p, err := db.Query(ctx, c.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, p.Records...)
			if !p.More {
				break
			}
			f.Next = p.Next
		}
		if len(recs) != 2*batches*size {
			t.Fatalf("%d records, want %d", len(recs), 2*batches*size)
		}
		for i := 1; i < len(recs); i++ {
			if !recs[i].DateAdded.After(recs[i-1].DateAdded) {
				t.Fatalf("record %d: DateAdded %v not after %v", i, recs[i].DateAdded, recs[i-1].DateAdded)
			}
		}
	}
}

// TestClock checks that date_added comes from the injected clock and stays
// strictly increasing when the clock stands still or goes back.
func TestClock(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	db := openTemp(t, WithClock(clock))
	defer db.Close()
	c, err := db.CreateCollection(ctx, store.Collection{Title: "clock"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Created.Equal(now) {
		t.Errorf("Created = %v, want the clock's %v", c.Created, now)
	}
	start := now
	res, err := db.Put(ctx, c.ID, benchBatch(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if want := start.Add(time.Duration(i) * time.Microsecond); !r.DateAdded.Equal(want) {
			t.Errorf("stopped clock: DateAdded[%d] = %v, want %v", i, r.DateAdded, want)
		}
	}
	set(start.Add(-time.Hour)) // the clock goes back
	res2, err := db.Put(ctx, c.ID, benchBatch(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	if want := start.Add(3 * time.Microsecond); !res2[0].DateAdded.Equal(want) {
		t.Errorf("clock gone back: DateAdded = %v, want %v", res2[0].DateAdded, want)
	}
	later := start.Add(time.Hour + 1234567*time.Nanosecond)
	set(later)
	res3, err := db.Put(ctx, c.ID, []stix.Object{sco(9)})
	if err != nil {
		t.Fatal(err)
	}
	if want := later.Truncate(time.Microsecond); !res3[0].DateAdded.Equal(want) {
		t.Errorf("clock ahead: DateAdded = %v, want %v", res3[0].DateAdded, want)
	}
	// An object without version has its DateAdded as version.
	p, err := db.Query(ctx, c.ID, store.Filter{IDs: []string{sco(9).ID}})
	if err != nil || len(p.Records) != 1 || !p.Records[0].Version.Equal(res3[0].DateAdded) {
		t.Errorf("Query(sco) = %+v, %v; want Version = DateAdded %v", p.Records, err, res3[0].DateAdded)
	}
	// Deleting the newest record does not free its date_added.
	if _, err := db.Delete(ctx, c.ID, sco(9).ID, store.VersionMatch{}); err != nil {
		t.Fatal(err)
	}
	res4, err := db.Put(ctx, c.ID, benchBatch(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !res4[0].DateAdded.After(res3[0].DateAdded) {
		t.Errorf("after delete: DateAdded %v reused (not after %v)", res4[0].DateAdded, res3[0].DateAdded)
	}
}

func sco(n int) stix.Object {
	id := fmt.Sprintf("ipv4-addr--%08x-0000-4000-8000-000000000000", n)
	return stix.Object{ID: id, Type: "ipv4-addr", SpecVersion: "2.1",
		Raw: []byte(fmt.Sprintf(`{"type":"ipv4-addr","spec_version":"2.1","id":%q,"value":"10.0.0.%d"}`, id, n))}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reopen.db")
	db, err := Open(ctx, path)
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
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got, err := db.Collection(ctx, "keep")
	if err != nil || got.ID != c.ID {
		t.Fatalf("Collection after reopen = %+v, %v", got, err)
	}
	p, err := db.Query(ctx, c.ID, store.Filter{})
	if err != nil || len(p.Records) != 10 {
		t.Fatalf("Query after reopen: %d records, %v", len(p.Records), err)
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

func TestMaxPageSize(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, WithMaxPageSize(5))
	defer db.Close()
	c, err := db.CreateCollection(ctx, store.Collection{Title: "pages"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, c.ID, benchBatch(0, 12)); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 6, 1000, -3} {
		p, err := db.Query(ctx, c.ID, store.Filter{Limit: limit})
		if err != nil || len(p.Records) != 5 || !p.More {
			t.Errorf("Query(limit %d) = %d records, more %v, %v; want 5, more", limit, len(p.Records), p.More, err)
		}
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if db, err := Open(context.Background(), p); !errors.Is(err, store.ErrInvalid) {
			if db != nil {
				db.Close()
			}
			t.Errorf("Open(%q) = %v, want ErrInvalid", p, err)
		}
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir.db")); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
}
