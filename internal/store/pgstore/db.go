// Package pgstore is the store.Backend for a PostgreSQL database shared by
// several Shieldwall nodes (scale-out), reached through pgx's pool.
//
// It keeps what sqlitestore keeps, with the same rules: every version of
// every object keyed by (collection, id, version), is_latest / is_first
// marks, date_added in Unix microseconds as the keyset pagination key.
//
// date_added comes from the database clock, never a node's, and must be
// strictly increasing in commit order as readers see it, even while several
// processes write: a reader paging with added_after must never find, later,
// a record below a cursor it already passed. A sequence does not give that
// (a transaction may take value 10, another 11 and commit first; a reader
// then sees 11, moves its cursor past 10, and misses 10 when it commits).
// So every write transaction on objects first locks the single row of
// date_added_clock (SELECT ... FOR UPDATE) and keeps the lock until it
// commits; see put.go for why this was chosen over the alternatives.
//
// The schema lives in numbered, embedded migrations that Open applies under
// a PostgreSQL advisory lock, so nodes starting at once migrate once.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shieldwall/shieldwall/internal/store"
)

// DB is a store.Backend kept in a PostgreSQL database (in the schema that
// the connection's search_path names first). It is safe for concurrent use,
// and any number of DBs, in any number of processes, may share a database.
type DB struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	maxPage int
	copyMin int // see defaultCopyMin; tests change it

	mu    sync.Mutex
	colls map[string]int64 // collection id → pk; collections are never deleted
}

var (
	_ store.Backend = (*DB)(nil)
	_ store.Alerts  = (*DB)(nil)
)

// DefaultMaxPageSize is the page size Query uses for a zero Limit and the
// cap for larger ones, unless WithMaxPageSize says otherwise.
const DefaultMaxPageSize = 10000

type options struct {
	now      func() time.Time
	maxPage  int
	maxConns int32
	log      *slog.Logger
}

// Option changes how Open sets up a DB.
type Option func(*options)

// WithClock sets the clock that the Created times of collections and tokens
// come from when the caller leaves them zero (time.Now by default).
// date_added never comes from it: it is the database's clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets where Open reports what it found wanting but could work
// around (a missing text index); nothing is logged by default.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithMaxPageSize sets the largest page Query returns, and the page size for
// a zero Filter.Limit (DefaultMaxPageSize by default). n < 1 is ignored.
func WithMaxPageSize(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxPage = n
		}
	}
}

// WithMaxConns sets the size of the connection pool (by default pgxpool's,
// max(4, NumCPU), or pool_max_conns from the DSN). n < 1 is ignored. Writers
// wait for the date_added clock lock holding a connection, so a node that
// writes from many goroutines at once should leave room for its readers.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxConns = int32(n)
		}
	}
}

// Open connects to the database that dsn names (a postgres:// URL or a
// key=value string, as pgx parses it; pool_* parameters configure the pool,
// and other unknown parameters such as search_path are sent as run-time
// parameters) and brings the schema up to date by applying the embedded
// migrations it lacks. Errors: store.ErrInvalid for a DSN that does not
// parse; otherwise the database could not be reached or migrated.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	o := options{now: time.Now, maxPage: DefaultMaxPageSize, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, password included: keep it out.
		return nil, fmt.Errorf("pgstore: open: bad DSN: %w", store.ErrInvalid)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err == nil {
		err = migrate(ctx, pool, ms)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	var textIndex bool
	if err := pool.QueryRow(ctx, textIndexSQL).Scan(&textIndex); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open: look for the alert text index: %w", err)
	}
	if !textIndex {
		o.log.Warn("pgstore: no trigram index on the alerts (the pg_trgm extension could not be created): the console's alert text search reads every alert; CREATE EXTENSION pg_trgm SCHEMA public, then CREATE INDEX alerts_text_trgm ON alerts USING gin (alert_search_text(rule_id, source, json) gin_trgm_ops)")
	}
	return &DB{pool: pool, now: o.now, maxPage: o.maxPage, copyMin: defaultCopyMin, colls: map[string]int64{}}, nil
}

// textIndexSQL tells whether migration 0007 could create the trigram index
// of the alert text search, which needs the pg_trgm extension.
const textIndexSQL = `SELECT to_regclass('alerts_text_trgm') IS NOT NULL`

// Close closes every connection of the pool, waiting for those in use to
// be released. Calling it again is harmless.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// writeTx runs fn in one READ COMMITTED transaction and commits when fn
// returns nil.
func (db *DB) writeTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// querier is what pool, conn and tx have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// collPK returns the internal key of the collection with this id (not
// alias), wrapping store.ErrNotFound when there is none.
func (db *DB) collPK(ctx context.Context, q querier, id string) (int64, error) {
	db.mu.Lock()
	pk, ok := db.colls[id]
	db.mu.Unlock()
	if ok {
		return pk, nil
	}
	err := q.QueryRow(ctx, `SELECT pk FROM collections WHERE id = $1`, id).Scan(&pk)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("collection %q: %w", id, err)
	}
	db.mu.Lock()
	db.colls[id] = pk
	db.mu.Unlock()
	return pk, nil
}

// isUniqueViolation reports whether err is a PostgreSQL unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
