package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shieldwall/shieldwall/internal/store/migrations"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change (read by package migrations).
type migration = migrations.Migration

// loadMigrations reads and checks the migrations of dir in fsys.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) { return migrations.Load(fsys, dir) }

// migrateLockSQL takes the session-level advisory lock that serialises
// migrations of the current schema: several processes starting at once on a
// new database wait for the first to finish, then find nothing to do. The
// key is derived from the schema name so that tests (or tenants) in other
// schemas of the same database do not wait for each other.
const (
	migrateLockSQL   = `SELECT pg_advisory_lock(hashtextextended('shieldwall.migrate.' || current_schema(), 0))`
	migrateUnlockSQL = `SELECT pg_advisory_unlock(hashtextextended('shieldwall.migrate.' || current_schema(), 0))`
)

// migrate applies, in order, each migration that schema_migrations does not
// list yet, each in its own transaction together with its
// schema_migrations row, all under the advisory lock held on one connection.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migration) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	defer conn.Release()
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("current schema: %w", err)
	}
	if schema == nil {
		return errors.New("no current schema: the search_path names no existing schema")
	}
	if _, err := conn.Exec(ctx, migrateLockSQL); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		// A failed unlock (the connection broke) drops the session, and
		// with it the lock; make sure the connection is not reused then.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), migrateUnlockSQL); uerr != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
			err = errors.Join(err, fmt.Errorf("migration unlock: %w", uerr))
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, conn.Conn(), m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *pgx.Conn, m migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.Name, err)
	}
	defer tx.Rollback(ctx)
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if n > 0 {
		return nil
	}
	// Exec without arguments uses the simple protocol: a file may hold
	// several statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return nil
}
