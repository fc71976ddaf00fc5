// Package sqlitestore is the embedded store.Backend: one SQLite file in WAL
// mode, reached through the pure-Go modernc.org/sqlite driver.
//
// Writes go through a single connection and every write transaction begins
// IMMEDIATE, so writers are serialised within a process and, through
// SQLite's file lock and busy_timeout, across processes sharing the file (a
// CLI import while the node serves). Reads use a small pool of query-only
// connections that never block the writer.
//
// Every version of every object is kept, keyed by (collection, id,
// version). date_added, in Unix microseconds, is the rowid of the objects
// table: each write transaction reads the highest value ever assigned once
// and gives each new record max(now, last+1), so date_added is unique and
// strictly increasing in commit order across the whole file and every
// process, and TAXII keyset pagination is a range scan.
//
// The schema lives in numbered, embedded migrations that Open applies.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/shieldwall/shieldwall/internal/store"
)

// DB is a store.Backend kept in one SQLite file. It is safe for concurrent
// use. Close it when done.
type DB struct {
	w       *sql.DB // one connection; transactions begin IMMEDIATE
	r       *sql.DB // query-only pool
	now     func() time.Time
	maxPage int

	// cp checkpoints the WAL into the database file on its own connection,
	// off the writer's path, whenever a commit signals kick.
	cp     *sql.DB
	kick   chan struct{} // never closed: a late commit may still signal
	cpStop chan struct{}
	cpDone chan struct{}
	stop   sync.Once

	mu    sync.Mutex
	colls map[string]int64     // collection id → pk; collections are never deleted
	stmts map[string]*sql.Stmt // reader statements by SQL text
	put   putStmts

	ix *textIndexer // the background indexer of object_text (search.go)
}

var _ store.Backend = (*DB)(nil)

// DefaultMaxPageSize is the page size Query uses for a zero Limit and the
// cap for larger ones, unless WithMaxPageSize says otherwise.
const DefaultMaxPageSize = 10000

type options struct {
	now         func() time.Time
	maxPage     int
	busyTimeout time.Duration
	readers     int
}

// Option changes how Open sets up a DB.
type Option func(*options)

// WithClock sets the clock that date_added and other stored times come from
// (time.Now by default). date_added stays strictly increasing whatever the
// clock does.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithMaxPageSize sets the largest page Query returns, and the page size for
// a zero Filter.Limit (DefaultMaxPageSize by default). n < 1 is ignored.
func WithMaxPageSize(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxPage = n
		}
	}
}

// WithBusyTimeout sets how long a statement waits for a lock held by another
// connection or process before failing (10s by default).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithReaders sets the number of reader connections (by default
// GOMAXPROCS, at least 2). n < 1 is ignored.
func WithReaders(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.readers = n
		}
	}
}

// Open opens the SQLite database file at path, creating it if needed, and
// brings its schema up to date by applying the embedded migrations it lacks.
// path is a file name (not a URI, no '?'); other processes may open the
// same file at once. Every connection runs in WAL mode with
// synchronous=NORMAL (a crash may lose the last commits, never corrupt),
// foreign keys on, the busy timeout and a 32 MiB page cache; WAL is
// checkpointed in the background after each commit. A new file gets 16 KiB
// pages; an existing one keeps its page size. Errors: store.ErrInvalid for a path that is
// not a plain file name; otherwise the file could not be opened or migrated.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	o := options{
		now:         time.Now,
		maxPage:     DefaultMaxPageSize,
		busyTimeout: 10 * time.Second,
		readers:     max(2, runtime.GOMAXPROCS(0)),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("sqlitestore: open %q: want a plain file path: %w", path, store.ErrInvalid)
	}
	if err := initFile(path, o.busyTimeout); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "cache_size(-32000)") // 32 MiB per connection
	q.Add("_pragma", "temp_store(MEMORY)")
	// Checkpoints run in the background after each commit (checkpointer);
	// the writer checkpoints itself only if the WAL reaches 256 MiB anyway.
	q.Add("_pragma", "wal_autocheckpoint(65536)")
	q.Add("_pragma", "journal_size_limit(67108864)") // at most 64 MiB of WAL kept after one
	wq := cloneValues(q)
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	db := &DB{w: w, now: o.now, maxPage: o.maxPage, colls: map[string]int64{}, stmts: map[string]*sql.Stmt{}}
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err == nil {
		err = migrate(ctx, w, ms, o.now)
	}
	if err == nil {
		err = db.preparePut(ctx)
	}
	if err != nil {
		db.put.close()
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}

	rq := cloneValues(q)
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		db.put.close()
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readers)
	r.SetMaxIdleConns(o.readers)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	db.r = r

	cp, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		db.put.close()
		return nil, errors.Join(fmt.Errorf("sqlitestore: open %s: %w", path, err), r.Close(), w.Close())
	}
	cp.SetMaxOpenConns(1)
	db.cp, db.kick, db.cpStop, db.cpDone = cp, make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go db.checkpointer()
	db.startIndexer()
	return db, nil
}

// pageSize is the page size of a new file. Rows (about 800 bytes for an
// indicator) fill a 16 KiB page to within 3%, where a 4 KiB page left 17%
// of the table unused, and each page is one write to the WAL and one to
// the file at checkpoint.
const pageSize = 16384

// initFile gives a new (absent or empty) database file its page size and WAL
// mode. It has to run before any other pragma: the driver applies a DSN's
// pragmas in alphabetical order, so journal_mode would fix the page size at
// the default before page_size is seen. An existing file is left as it is.
func initFile(path string, busy time.Duration) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	}
	db, err := sql.Open("sqlite", path+"?"+url.Values{"_pragma": {fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds())}}.Encode())
	if err != nil {
		return err
	}
	_, err = db.Exec(fmt.Sprintf(`PRAGMA page_size = %d`, pageSize))
	if err == nil {
		_, err = db.Exec(`PRAGMA journal_mode = WAL`)
	}
	return errors.Join(err, db.Close())
}

// checkpointer copies committed WAL pages into the database file while the
// writer goes on: a PASSIVE checkpoint never blocks writers or readers, and
// running it here takes it off the writer's critical path (it was 13% of a
// large import's CPU). Errors are left for the next round: the writer's
// own autocheckpoint bounds the WAL if this falls behind.
func (db *DB) checkpointer() {
	defer close(db.cpDone)
	for {
		select {
		case <-db.kick:
			_, _ = db.cp.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		case <-db.cpStop:
			return
		}
	}
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Close stops the checkpointer, runs PRAGMA optimize and closes every
// connection. Calling it again is harmless.
func (db *DB) Close() error {
	db.stopIndexer()
	db.mu.Lock()
	for _, s := range db.stmts {
		s.Close()
	}
	db.stmts = nil
	db.mu.Unlock()
	db.put.close()
	db.stop.Do(func() { close(db.cpStop) })
	<-db.cpDone
	_, optErr := db.w.Exec(`PRAGMA optimize`)
	return errors.Join(optErr, db.cp.Close(), db.r.Close(), db.w.Close())
}

// readStmt returns the reader-pool statement for query, prepared once.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if s, ok := db.stmts[query]; ok {
		return s, nil
	}
	if db.stmts == nil {
		return nil, errors.New("sqlitestore: closed")
	}
	s, err := db.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(db.stmts) >= 256 { // the filters make few shapes; keep it bounded all the same
		for k, old := range db.stmts {
			old.Close()
			delete(db.stmts, k)
		}
	}
	db.stmts[query] = s
	return s, nil
}

// writeTx runs fn in one IMMEDIATE transaction on the writer connection and
// commits when fn returns nil.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	select {
	case db.kick <- struct{}{}:
	default: // a checkpoint is already due
	}
	return nil
}

// collPK returns the internal key of the collection with this id (not
// alias), wrapping store.ErrNotFound when there is none. q is a Tx or a DB.
func (db *DB) collPK(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (int64, error) {
	db.mu.Lock()
	pk, ok := db.colls[id]
	db.mu.Unlock()
	if ok {
		return pk, nil
	}
	err := q.QueryRowContext(ctx, `SELECT pk FROM collections WHERE id = ?`, id).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
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
