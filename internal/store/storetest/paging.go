package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

func testPagination(t *testing.T, b store.Backend) {
	ctx := context.Background()
	coll := newCollection(t, b)
	var objs []stix.Object
	for i := range 250 {
		objs = append(objs, indicator(i))
	}
	for i := 0; i < len(objs); i += 50 {
		put(t, b, coll, objs[i:i+50]...)
	}
	want := objKeys(objs...)
	for _, limit := range []int{1, 7, 50, 249, 250, 251, 0, 1 << 30, -1} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			f := store.Filter{Limit: limit}
			var got []store.Record
			pages := 0
			for {
				p, err := b.Query(ctx, coll, f)
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				pages++
				if limit > 0 && len(p.Records) > limit {
					t.Fatalf("page of %d records with limit %d", len(p.Records), limit)
				}
				// A full page comes unless it is the last one.
				if p.More && limit > 0 && len(p.Records) != limit {
					t.Fatalf("page %d: %d records and More with limit %d", pages, len(p.Records), limit)
				}
				got = append(got, p.Records...)
				checkIncreasing(t, got)
				if !p.More {
					break
				}
				f.Next = p.Next
			}
			checkIncreasing(t, got)
			diff(t, "keys", keys(got), want)
			wantPages := 1
			if limit > 0 && limit < len(objs) {
				wantPages = (len(objs) + limit - 1) / limit
			}
			if pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}
	// A cursor continues the same way every time.
	p1, err := b.Query(ctx, coll, store.Filter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	a, err1 := b.Query(ctx, coll, store.Filter{Limit: 10, Next: p1.Next})
	c, err2 := b.Query(ctx, coll, store.Filter{Limit: 10, Next: p1.Next})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	diff(t, "page 2 fetched twice", keys(c.Records), keys(a.Records))
	diff(t, "page 2", keys(a.Records), want[10:20])
}

// testPaginationUnderWrites adds objects between page fetches: pages already
// walked never change and the new objects appear at the end.
func testPaginationUnderWrites(t *testing.T, b store.Backend) {
	ctx := context.Background()
	coll := newCollection(t, b)
	n := 0
	next := func(k int) []stix.Object {
		var objs []stix.Object
		for range k {
			objs = append(objs, indicator(n))
			n++
		}
		return objs
	}
	stored := next(40)
	put(t, b, coll, stored...)
	for _, vm := range []store.VersionMatch{{}, all} {
		t.Run(fmt.Sprintf("%+v", vm), func(t *testing.T) {
			var (
				cursors []string // cursors[i] fetches page i
				pages   [][]string
				f       = store.Filter{Limit: 7, Versions: vm}
			)
			for range 1000 {
				p, err := b.Query(ctx, coll, f)
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				cursors = append(cursors, f.Next)
				pages = append(pages, keys(p.Records))
				if !p.More {
					break
				}
				f.Next = p.Next
				if len(pages) < 10 { // write while walking, then let the walk finish
					more := next(3)
					put(t, b, coll, more...)
					stored = append(stored, more...)
				}
			}
			walked := slices.Concat(pages...)
			diff(t, "walked while writing", walked, objKeys(stored...))
			for i, c := range cursors {
				p, err := b.Query(ctx, coll, store.Filter{Limit: 7, Versions: vm, Next: c})
				if err != nil {
					t.Fatalf("Query again: %v", err)
				}
				diff(t, fmt.Sprintf("page %d fetched again", i), keys(p.Records), pages[i])
			}
		})
	}
}

func testDateAddedIncreasing(t *testing.T, b store.Backend) {
	c1, c2 := newCollection(t, b), newCollection(t, b)
	var last time.Time
	seen := map[time.Time]bool{}
	n := 0
	for round := range 10 {
		coll := c1
		if round%2 == 1 {
			coll = c2
		}
		var objs []stix.Object
		for range 1 + round {
			objs = append(objs, indicator(n), sco("domain-name", uid("domain-name", n), fmt.Sprintf("d%d.example", n)))
			n++
		}
		for i, r := range put(t, b, coll, objs...) {
			if !r.DateAdded.After(last) {
				t.Fatalf("round %d object %d: DateAdded %v not after %v", round, i, r.DateAdded, last)
			}
			if seen[r.DateAdded] {
				t.Fatalf("DateAdded %v given twice", r.DateAdded)
			}
			seen[r.DateAdded] = true
			last = r.DateAdded
		}
	}
	for _, coll := range []string{c1, c2} {
		recs := queryAll(t, b, coll, store.Filter{Versions: all, Limit: 3})
		for _, r := range recs {
			if !seen[r.DateAdded] {
				t.Errorf("stored DateAdded %v of %s was not returned by Put", r.DateAdded, r.Object.ID)
			}
		}
	}
}

// testConcurrentPuts puts from several goroutines at once (run it under
// -race): date_added stays unique, increasing within each goroutine's
// sequence of Puts, and every object is stored once.
func testConcurrentPuts(t *testing.T, b store.Backend) {
	ctx := context.Background()
	colls := []string{newCollection(t, b), newCollection(t, b)}
	const workers, batches, size = 6, 15, 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[time.Time]string{}
		errs = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			var last time.Time
			for i := range batches {
				var objs []stix.Object
				for j := range size {
					objs = append(objs, indicator((w*batches+i)*size+j))
				}
				res, err := b.Put(ctx, colls[(w+i)%2], objs)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for k, r := range res {
					if !r.Added || !r.DateAdded.After(last) {
						errs <- fmt.Errorf("worker %d batch %d: %+v after %v", w, i, r, last)
					}
					if other, ok := seen[r.DateAdded]; ok {
						errs <- fmt.Errorf("DateAdded %v given to %s and %s", r.DateAdded, other, objs[k].ID)
					}
					seen[r.DateAdded] = objs[k].ID
					last = r.DateAdded
				}
				mu.Unlock()
			}
		})
	}
	// Readers page concurrently with the writers.
	wg.Go(func() {
		for range 20 {
			if _, err := b.Query(ctx, colls[0], store.Filter{Limit: 50}); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, coll := range colls {
		total += len(queryAll(t, b, coll, store.Filter{Limit: 33}))
	}
	if total != workers*batches*size {
		t.Errorf("%d records stored, want %d", total, workers*batches*size)
	}
}
