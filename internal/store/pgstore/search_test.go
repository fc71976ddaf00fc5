package pgstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetest"
)

func TestSearchConformance(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) store.Backend { return openTest(t) })
}

// TestMigrateObjectSearch opens a database made before migration 0006: its
// objects are found by a search, and its relationships and sightings by
// Referencing.
func TestMigrateObjectSearch(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range ms {
		if m.Version < 6 {
			before = append(before, m)
		}
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, pool, before); err != nil {
		t.Fatal(err)
	}
	const coll = "2e3f2a34-5b1c-4f4e-9d0e-000000000001"
	var pk int64
	if err := pool.QueryRow(ctx, `INSERT INTO collections (id, title, description, media_types, created) VALUES ($1, 'c', '', '{}', 0) RETURNING pk`, coll).Scan(&pk); err != nil {
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
		{apt, "intrusion-set", `{"type":"intrusion-set","spec_version":"2.1","id":"` + apt + `","name":"Old Bear","aliases":["Sofacy"],"external_references":[{"source_name":"mitre-attack","external_id":"G0007"}],"description":"Zürich «x»"}`},
		{rel, "relationship", `{"type":"relationship","spec_version":"2.1","id":"` + rel + `","relationship_type":"uses","source_ref":"` + apt + `","target_ref":"` + mal + `"}`},
		{sigh, "sighting", `{"type":"sighting","spec_version":"2.1","id":"` + sigh + `","sighting_of_ref":"` + mal + `","where_sighted_refs":["` + org + `"]}`},
	}
	for i, r := range rows {
		da := int64(1_600_000_000_000_000 + i)
		if _, err := pool.Exec(ctx, `INSERT INTO objects (date_added, coll, id, type, spec_version, version, created, modified, revoked, is_latest, is_first, raw)
			VALUES ($1, $2, $3, $4, '2.1', $5, NULL, NULL, false, true, true, $6)`, da, pk, r.id, r.typ, da*1000, []byte(r.raw)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE date_added_clock SET last = $1`, int64(1_600_000_000_000_000+len(rows))); err != nil {
		t.Fatal(err)
	}
	pool.Close()

	db, err := Open(ctx, dsn)
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
	var trgm, idx int
	if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'),
		(SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('object_text_name', 'object_text_all'))`).Scan(&trgm, &idx); err != nil {
		t.Fatal(err)
	}
	if trgm == 1 && idx != 2 {
		t.Errorf("pg_trgm is installed but the migration made %d of the 2 trigram indexes", idx)
	}
	if trgm == 0 {
		t.Log("pg_trgm is not available on this server: searches read the whole object_text table")
	}
	for _, text := range []string{"old bear", "ofac", "G0007", "zürich"} {
		p, err := db.SearchObjects(ctx, coll, store.SearchQuery{Text: text})
		if err != nil || len(p.Records) != 1 || p.Records[0].Object.ID != apt {
			t.Errorf("search %q in a migrated database: %+v, %v; want %s", text, p.Records, err, apt)
		}
	}
}
