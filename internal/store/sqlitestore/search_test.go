package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetest"
)

func TestSearchConformance(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) store.Backend { return openTemp(t) })
}

// TestSearchPending stores more versions than a search indexes on its own:
// until the index catches up, the search says how many it did not search.
func TestSearchPending(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	coll, err := db.CreateCollection(ctx, store.Collection{Title: "c"})
	if err != nil {
		t.Fatal(err)
	}
	n := indexSyncMax + 500
	objs := make([]stix.Object, n)
	for i := range objs {
		id := fmt.Sprintf("indicator--%08x-1111-4111-8111-111111111111", i)
		raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","name":"Backlog %d","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}`, id, i)
		objs[i] = stix.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Modified: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Raw: []byte(raw)}
	}
	if _, err := db.Put(ctx, coll.ID, objs); err != nil {
		t.Fatal(err)
	}
	p, err := db.SearchObjects(ctx, coll.ID, store.SearchQuery{Text: "backlog"})
	if err != nil {
		t.Fatal(err)
	}
	// The background indexer waits indexIdle after the Put: unless this
	// machine stalled that long, nothing is indexed yet.
	if !(p.Pending == n && len(p.Records) == 0) && !(p.Pending == 0 && len(p.Records) == 50) {
		t.Fatalf("search right after the Put: Pending %d, %d records; want %d and none (or 0 and 50 if the indexer ran)", p.Pending, len(p.Records), n)
	}
	if got, err := db.IndexText(ctx); err != nil || got > n {
		t.Fatalf("IndexText = %d, %v; want at most %d", got, err, n)
	}
	p, err = db.SearchObjects(ctx, coll.ID, store.SearchQuery{Text: "backlog"})
	if err != nil || p.Pending != 0 || len(p.Records) != 50 || !p.More {
		t.Fatalf("search after IndexText: Pending %d, %d records, More %v, %v; want 0, 50, true", p.Pending, len(p.Records), p.More, err)
	}
	// The background indexer does the same once the store is idle.
	objs[0].Modified = objs[0].Modified.Add(time.Second)
	objs[0].Raw = []byte(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:01Z","name":"Renamed by the idle indexer","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}`, objs[0].ID))
	if _, err := db.Put(ctx, coll.ID, objs[:1]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		pending, err := db.pendingText(ctx, -1)
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the background indexer left %d versions pending for 60 s", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMigrateObjectRefs opens a store made before migration 0007: its
// relationships and sightings are found by Referencing, and its objects by
// a search once indexed.
func TestMigrateObjectRefs(t *testing.T) {
	ctx := context.Background()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range ms {
		if m.Version < 7 {
			before = append(before, m)
		}
	}
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", path+"?_txlock=immediate&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	if err := migrate(ctx, raw, before, time.Now); err != nil {
		t.Fatal(err)
	}
	const coll = "2e3f2a34-5b1c-4f4e-9d0e-000000000001"
	if _, err := raw.ExecContext(ctx, `INSERT INTO collections (pk, id, title, description, media_types, created) VALUES (1, ?, 'c', '', '[]', 0)`, coll); err != nil {
		t.Fatal(err)
	}
	const (
		apt  = "intrusion-set--00000000-0000-4000-8000-000000000001"
		mal  = "malware--00000000-0000-4000-8000-000000000002"
		org  = "identity--00000000-0000-4000-8000-000000000003"
		rel  = "relationship--00000000-0000-4000-8000-000000000004"
		sigh = "sighting--00000000-0000-4000-8000-000000000005"
	)
	rows := []struct{ id, typ, raw string }{
		{apt, "intrusion-set", `{"type":"intrusion-set","spec_version":"2.1","id":"` + apt + `","name":"Old Bear"}`},
		{rel, "relationship", `{"type":"relationship","spec_version":"2.1","id":"` + rel + `","relationship_type":"uses","source_ref":"` + apt + `","target_ref":"` + mal + `"}`},
		{sigh, "sighting", `{"type":"sighting","spec_version":"2.1","id":"` + sigh + `","sighting_of_ref":"` + mal + `","where_sighted_refs":["` + org + `"]}`},
	}
	for i, r := range rows {
		da := int64(1_600_000_000_000_000 + i)
		if _, err := raw.ExecContext(ctx, `INSERT INTO objects (date_added, coll, id, idh, type, spec_version, version, created, modified, revoked, is_latest, is_first, raw)
			VALUES (?, 1, ?, ?, ?, '2.1', ?, NULL, NULL, 0, 1, 1, ?)`, da, r.id, idHash(r.id), r.typ, da*1000, []byte(r.raw)); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO object_ids (coll, h, date_added) VALUES (1, ?, ?)`, keyHash(r.id), da); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.ExecContext(ctx, `UPDATE date_added_clock SET last = ?`, int64(1_600_000_000_000_000+len(rows))); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		id   string
		want []string
	}{{apt, []string{rel}}, {mal, []string{sigh, rel}}, {org, []string{sigh}}} {
		recs, _, err := db.Referencing(ctx, coll, c.id, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Object.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("Referencing(%s) after the migration = %v, want %v", c.id, got, c.want)
		}
	}
	p, err := db.SearchObjects(ctx, coll, store.SearchQuery{Text: "old bear"})
	if err != nil || len(p.Records) != 1 || p.Records[0].Object.ID != apt {
		t.Errorf("search of a migrated store's object: %+v, %v; want %s", p.Records, err, apt)
	}
}

// TestSearchScanBound: a type filter that rejects more than searchScan
// matches ends the page early, and the cursor continues to the match.
func TestSearchScanBound(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	coll, err := db.CreateCollection(ctx, store.Collection{Title: "c"})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mal := `{"type":"malware","spec_version":"2.1","id":"malware--00000000-1111-4111-8111-111111111111","created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","name":"Commonword RAT","is_family":true}`
	objs := []stix.Object{{ID: "malware--00000000-1111-4111-8111-111111111111", Type: "malware", SpecVersion: "2.1", Created: day, Modified: day, Raw: []byte(mal)}}
	for i := range searchScan + 100 {
		id := fmt.Sprintf("indicator--%08x-1111-4111-8111-111111111111", i+1)
		raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","name":"Commonword %d","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}`, id, i)
		objs = append(objs, stix.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: day, Modified: day, Raw: []byte(raw)})
	}
	if _, err := db.Put(ctx, coll.ID, objs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.IndexText(ctx); err != nil {
		t.Fatal(err)
	}
	q := store.SearchQuery{Text: "commonword", Types: []string{"malware"}}
	p, err := db.SearchObjects(ctx, coll.ID, q)
	if err != nil || len(p.Records) != 0 || !p.More || p.Next == "" {
		t.Fatalf("first page: %d records, More %v, Next %q, %v; want none, ended early with a cursor", len(p.Records), p.More, p.Next, err)
	}
	q.Next = p.Next
	if p, err = db.SearchObjects(ctx, coll.ID, q); err != nil || len(p.Records) != 1 || p.Records[0].Object.Type != "malware" || p.More {
		t.Fatalf("second page: %+v, More %v, %v; want the malware, and no more", p.Records, p.More, err)
	}
}
