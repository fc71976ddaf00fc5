// Package storetest is the conformance suite that every store.Backend
// passes: sqlitestore now, pgstore later. A backend's own test calls Run with
// a function that opens a new, empty backend.
//
// The suite assumes only what package store documents, plus a maximum page
// size of at least 1,000 records.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// Run runs the whole suite. open must return a new, empty backend each time
// it is called; Run closes it when the subtest that asked for it ends.
func Run(t *testing.T, open func(t *testing.T) store.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b store.Backend)
	}{
		{"Collections", testCollections},
		{"CollectionConflicts", testCollectionConflicts},
		{"PutQueryRoundTrip", testRoundTrip},
		{"Idempotent", testIdempotent},
		{"Versions", testVersions},
		{"VersionsOldAfterNew", testVersionsOldAfterNew},
		{"Filters", testFilters},
		{"AddedAfter", testAddedAfter},
		{"Pagination", testPagination},
		{"PaginationStableUnderWrites", testPaginationUnderWrites},
		{"DateAddedIncreasing", testDateAddedIncreasing},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Delete", testDelete},
		{"DeleteRepairsLatest", testDeleteRepairsLatest},
		{"Statuses", testStatuses},
		{"Tokens", testTokens},
		{"Grants", testGrants},
		{"Errors", testErrors},
		{"Alerts", testAlerts},
		{"Users", testUsers},
		{"Triage", testTriage},
		{"AlertTextSearch", testAlertTextSearch},
		{"AlertKeysetPaging", testAlertKeysetPaging},
		{"DecisionLog", testDecisionLog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, b)
		})
	}
}

// base is the time test objects are created at: far enough in the past that
// versions never collide with date_added, at millisecond precision.
var base = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// at is base plus n milliseconds.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }

// sdo builds a versioned object; version is its modified time. Its JSON
// carries a custom property and non-ASCII text so that byte identity of Raw
// is tested, not just JSON equality.
func sdo(typ, id string, created, modified time.Time) stix.Object {
	m := map[string]any{
		"type":         typ,
		"spec_version": "2.1",
		"id":           id,
		"created":      stix.FormatTime(created, 3),
		"modified":     stix.FormatTime(modified, 3),
		"name":         "Zürich «" + id + "»",
		"x_shieldwall": map[string]any{"n": 1.5e300, "s": "\u2028"},
	}
	if typ == "indicator" {
		m["pattern"] = "[ipv4-addr:value = '198.51.100.1']"
		m["pattern_type"] = "stix"
		m["valid_from"] = stix.FormatTime(created, 3)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return stix.Object{ID: id, Type: typ, SpecVersion: "2.1", Created: created, Modified: modified, Raw: raw}
}

// sco builds an object without created or modified.
func sco(typ, id, value string) stix.Object {
	raw := fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"value":%q}`, typ, id, value)
	return stix.Object{ID: id, Type: typ, SpecVersion: "2.1", Raw: json.RawMessage(raw)}
}

// uid makes a distinct STIX id of type typ from n.
func uid(typ string, n int) string {
	return fmt.Sprintf("%s--%08x-1111-4222-8333-%012x", typ, n, n)
}

func indicator(n int) stix.Object {
	return sdo("indicator", uid("indicator", n), at(n), at(n))
}

func newCollection(t *testing.T, b store.Backend) string {
	t.Helper()
	c, err := b.CreateCollection(context.Background(), store.Collection{Title: t.Name()})
	if err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	return c.ID
}

func put(t *testing.T, b store.Backend, coll string, objs ...stix.Object) []store.PutResult {
	t.Helper()
	res, err := b.Put(context.Background(), coll, objs)
	if err != nil {
		t.Fatalf("Put(%d objects): %v", len(objs), err)
	}
	if len(res) != len(objs) {
		t.Fatalf("Put(%d objects) returned %d results", len(objs), len(res))
	}
	for i, r := range res {
		if !r.DateAdded.Equal(r.DateAdded.Truncate(time.Microsecond)) {
			t.Errorf("Put: DateAdded %v of %s finer than a microsecond", r.DateAdded, objs[i].ID)
		}
	}
	return res
}

// queryAll walks every page of f and checks the page invariants.
func queryAll(t *testing.T, b store.Backend, coll string, f store.Filter) []store.Record {
	t.Helper()
	var all []store.Record
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("queryAll: too many pages")
		}
		p, err := b.Query(context.Background(), coll, f)
		if err != nil {
			t.Fatalf("Query(%+v): %v", f, err)
		}
		if f.Limit > 0 && len(p.Records) > f.Limit {
			t.Fatalf("Query(limit %d) returned %d records", f.Limit, len(p.Records))
		}
		if p.More && (p.Next == "" || len(p.Records) == 0) {
			t.Fatalf("Query: More with Next %q and %d records", p.Next, len(p.Records))
		}
		all = append(all, p.Records...)
		checkIncreasing(t, all) // fails fast on a cursor that does not advance
		if !p.More {
			break
		}
		f.Next = p.Next
	}
	return all
}

// checkIncreasing fails unless DateAdded is strictly increasing.
func checkIncreasing(t *testing.T, recs []store.Record) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		if !recs[i].DateAdded.After(recs[i-1].DateAdded) {
			t.Fatalf("record %d (%s) DateAdded %v not after record %d (%s) %v", i, recs[i].Object.ID,
				recs[i].DateAdded, i-1, recs[i-1].Object.ID, recs[i-1].DateAdded)
		}
	}
}

// keys renders records as "id@version" for comparisons.
func keys(recs []store.Record) []string {
	if len(recs) == 0 {
		return nil
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Object.ID + "@" + stix.FormatTime(r.Version, 6)
	}
	return out
}

// objKeys renders objects as keys does records; objects must be versioned.
func objKeys(objs ...stix.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.ID + "@" + stix.FormatTime(o.Version(), 6)
	}
	return out
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}
