package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// TestMigrations checks that Open records every embedded migration once and
// that reopening applies none again.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	if len(ms) == 0 {
		t.Fatal("no embedded migrations")
	}
	path := filepath.Join(t.TempDir(), "m.db")
	for range 2 {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.r.QueryContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var v int
			var name string
			if err := rows.Scan(&v, &name); err != nil {
				t.Fatal(err)
			}
			got = append(got, name)
		}
		rows.Close()
		if len(got) != len(ms) {
			t.Fatalf("schema_migrations = %v, want the %d embedded migrations", got, len(ms))
		}
		for i, m := range ms {
			if got[i] != m.Name {
				t.Errorf("schema_migrations[%d] = %q, want %q", i, got[i], m.Name)
			}
		}
		db.Close()
	}
}

func rawDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "raw.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrateInOrderAndAtomic applies numbered migrations in order, each in
// its own transaction: a failing one leaves the earlier ones applied and
// none of its own statements, and a later run resumes from it.
func TestMigrateInOrderAndAtomic(t *testing.T) {
	ctx := context.Background()
	db := rawDB(t)
	fsys := fstest.MapFS{
		"m/0002_second.sql": {Data: []byte(`CREATE TABLE b (x); INSERT INTO a VALUES (2);`)},
		"m/0001_first.sql":  {Data: []byte(`CREATE TABLE a (x); INSERT INTO a VALUES (1);`)},
		"m/0003_broken.sql": {Data: []byte(`CREATE TABLE c (x); INSERT INTO nowhere VALUES (3);`)},
		"m/README":          {Data: []byte(`not a migration`)},
	}
	ms, err := loadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	err = migrate(ctx, db, ms, time.Now)
	if err == nil || !strings.Contains(err.Error(), "0003_broken.sql") {
		t.Fatalf("migrate with a broken migration = %v, want an error naming it", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 2 {
		t.Errorf("schema_migrations rows = %d, %v; want 2", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'c'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table of the failed migration exists (%d, %v)", n, err)
	}
	var sum int
	if err := db.QueryRow(`SELECT sum(x) FROM a`).Scan(&sum); err != nil || sum != 3 {
		t.Errorf("sum(a.x) = %d, %v; want 3 (both migrations once, in order)", sum, err)
	}

	fsys["m/0003_broken.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE c (x); INSERT INTO a VALUES (3);`)}
	ms, err = loadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, ms, time.Now); err != nil {
		t.Fatalf("migrate after the fix: %v", err)
	}
	if err := db.QueryRow(`SELECT sum(x) FROM a`).Scan(&sum); err != nil || sum != 6 {
		t.Errorf("sum(a.x) = %d, %v; want 6 (only the fixed migration ran again)", sum, err)
	}
}

func TestLoadMigrationsRejects(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"repeat":    {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
		"no number": {"m/init.sql": {}},
		"zero":      {"m/0000_a.sql": {}},
	} {
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("loadMigrations(%s) succeeded, want an error", name)
		}
	}
}

// TestMigrateObjectIDs opens a file whose objects were stored before
// migration 0005 (the id index on objects) and checks that the keys it
// moves into object_ids are the ones Put computes: stored versions are found
// again (Put is a no-op for them), by id queries and by Delete.
func TestMigrateObjectIDs(t *testing.T) {
	ctx := context.Background()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range ms {
		if m.Version < 5 {
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
	if _, err := raw.ExecContext(ctx, `INSERT INTO collections (pk, id, title, description, media_types, created)
		VALUES (1, '2e3f2a34-5b1c-4f4e-9d0e-000000000001', 'c', '', '[]', 0)`); err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	// Ids chosen so that their hashes fall on both sides of zero.
	var objs []struct {
		id string
		da int64
	}
	for i := range 64 {
		id := fmt.Sprintf("malware--%08x-1111-4111-8111-111111111111", i*0x03f0f0f1)
		da := int64(1_600_000_000_000_000 + i)
		objs = append(objs, struct {
			id string
			da int64
		}{id, da})
		m := malware(id, t1)
		if _, err := raw.ExecContext(ctx, `INSERT INTO objects (date_added, coll, id, idh, type, spec_version, version, created, modified, revoked, is_latest, is_first, raw)
			VALUES (?, 1, ?, ?, 'malware', '2.1', ?, ?, ?, 0, 1, 1, ?)`, da, id, idHash(id), t1.UnixNano(), m.Created.UnixNano(), t1.UnixNano(), m.Raw); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.ExecContext(ctx, `UPDATE date_added_clock SET last = ?`, objs[len(objs)-1].da); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const coll = "2e3f2a34-5b1c-4f4e-9d0e-000000000001"
	var neg, pos bool
	for _, o := range objs {
		neg, pos = neg || keyHash(o.id) < 0, pos || keyHash(o.id) >= 0
		res, err := db.Put(ctx, coll, []stix.Object{malware(o.id, t1)})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Added || res[0].DateAdded.UnixMicro() != o.da {
			t.Fatalf("Put(%s) after the migration = %+v, want the stored version (date_added %d)", o.id, res[0], o.da)
		}
		page, err := db.Query(ctx, coll, store.Filter{IDs: []string{o.id}})
		if err != nil || len(page.Records) != 1 {
			t.Fatalf("Query(%s) = %d records, %v; want 1", o.id, len(page.Records), err)
		}
	}
	if !neg || !pos {
		t.Fatalf("the ids' keys are not of both signs (neg %v, pos %v): pick others", neg, pos)
	}
	if n, err := db.Delete(ctx, coll, objs[0].id, store.VersionMatch{}); err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v; want 1", n, err)
	}
	var keys int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM object_ids`).Scan(&keys); err != nil || keys != len(objs)-1 {
		t.Fatalf("object_ids holds %d keys (%v), want %d", keys, err, len(objs)-1)
	}
}

// TestMigrateAlertText opens a file whose alerts were stored before the
// migration that adds the alert text index, and checks that the migration
// indexes them: a text search finds them, and alerts stored afterwards too
// (the triggers), while a deleted one is gone from the index.
func TestMigrateAlertText(t *testing.T) {
	ctx := context.Background()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range ms {
		if strings.HasSuffix(m.Name, "_alerts_text.sql") {
			break
		}
		before = append(before, m)
	}
	if len(before) == len(ms) {
		t.Fatal("no *_alerts_text.sql migration")
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
	for i := range 30 {
		if _, err := raw.ExecContext(ctx, `INSERT INTO alerts (id, time, engine, rule_id, level, source, json) VALUES (?, ?, 'sigma', ?, 'high', ?, ?)`,
			fmt.Sprintf("old-%02d", i), i+1, fmt.Sprintf("rule-%d", i%3), fmt.Sprintf("host-%02d.evtx", i),
			fmt.Appendf(nil, `{"rule_title":"Old alert %02d","event":{"CommandLine":"Mimikatz sekurlsa %02d"}}`, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.PutAlerts(ctx, []store.AlertRecord{{ID: "new-1", Engine: "ioc", RuleID: "rule-new", Level: "low", Source: "net",
		JSON: []byte(`{"rule_title":"New alert","event":{"CommandLine":"mimikatz again"}}`)}}); err != nil {
		t.Fatal(err)
	}
	search := func(text string) []string {
		t.Helper()
		as, err := db.QueryAlerts(ctx, store.AlertQuery{Text: text, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		return ids
	}
	if got := search("MIMIKATZ"); len(got) != 31 || got[0] != "new-1" || got[30] != "old-00" {
		t.Errorf("search MIMIKATZ after the migration = %v, want new-1 and the 30 old alerts", got)
	}
	if got := search("sekurlsa 17"); len(got) != 1 || got[0] != "old-17" {
		t.Errorf("search \"sekurlsa 17\" = %v, want old-17", got)
	}
	if got := search("host-05.evtx"); len(got) != 1 || got[0] != "old-05" {
		t.Errorf("search by source = %v, want old-05", got)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM alerts_text WHERE alerts_text MATCH '"mimikatz"'`).Scan(&n); err != nil || n != 31 {
		t.Fatalf("alerts_text rows matching mimikatz = %d, %v; want 31 (the index, not a scan)", n, err)
	}
	// No code deletes or rewrites alerts today; the triggers keep the
	// index right if some day does.
	if _, err := db.w.ExecContext(ctx, `DELETE FROM alerts WHERE id = 'old-17'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE alerts SET json = CAST('{"rule_title":"rewritten"}' AS BLOB) WHERE id = 'old-18'`); err != nil {
		t.Fatal(err)
	}
	if got := search("sekurlsa 1"); len(got) != 8 {
		t.Errorf("search \"sekurlsa 1\" after deleting old-17 and rewriting old-18 = %v, want the other 8 of old-10 to old-19", got)
	}
	if got := search("rewritten"); len(got) != 1 || got[0] != "old-18" {
		t.Errorf("search rewritten = %v, want old-18", got)
	}
}

// TestPageSize checks that a new file gets pageSize and WAL mode, and that a
// file made with another page size keeps it.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	raw, err := sql.Open("sqlite", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`PRAGMA page_size = 4096; CREATE TABLE x (y)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for path, want := range map[string]int{filepath.Join(dir, "new.db"): pageSize, old: 4096} {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		var size int
		var mode string
		if err := db.r.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if err := db.r.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if size != want || mode != "wal" {
			t.Errorf("%s: page size %d, journal mode %s; want %d and wal", filepath.Base(path), size, mode, want)
		}
		db.Close()
	}
}
