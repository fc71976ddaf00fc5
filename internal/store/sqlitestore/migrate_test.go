package sqlitestore

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
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
