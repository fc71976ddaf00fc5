package pgstore

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

// pager follows a collection the way a TAXII poller does: it fetches pages
// with the cursor of the last one until told to stop, then drains what is
// left. It records every (id, date_added) it sees, in order.
type pager struct {
	db   *DB
	coll string
	seen []store.Record
}

func (p *pager) run(ctx context.Context, stop <-chan struct{}) error {
	f := store.Filter{Limit: 97, Versions: store.VersionMatch{All: true}}
	stopping := false
	for {
		page, err := p.db.Query(ctx, p.coll, f)
		if err != nil {
			return err
		}
		p.seen = append(p.seen, page.Records...)
		if page.Next != "" {
			f.Next = page.Next
		}
		if page.More {
			continue
		}
		if stopping {
			return nil
		}
		select {
		case <-stop:
			stopping = true // one more walk from the cursor after the writers ended
		default:
			time.Sleep(time.Millisecond)
		}
	}
}

// check fails unless the pager saw every one of want objects exactly once,
// in strictly increasing date_added order.
func (p *pager) check(t *testing.T, name string, want int) {
	t.Helper()
	ids := map[string]int{}
	for i, r := range p.seen {
		if i > 0 && !r.DateAdded.After(p.seen[i-1].DateAdded) {
			t.Errorf("%s: record %d DateAdded %v not after %v", name, i, r.DateAdded, p.seen[i-1].DateAdded)
		}
		ids[r.Object.ID]++
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s: %s seen %d times", name, id, n)
		}
	}
	if len(ids) != want {
		t.Errorf("%s: saw %d distinct objects, want %d (records seen %d)", name, len(ids), want, len(p.seen))
	}
}

// TestTwoHandlesPaging simulates two nodes on one database: two DBs, each
// with writers and a pager running at once. Every object must reach both
// pagers exactly once, which fails if a smaller date_added can become
// visible after a larger one was read.
func TestTwoHandlesPaging(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, dsn)
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
	const writersPerDB, batches, size = 3, 30, 17
	stop := make(chan struct{})
	pagers := []*pager{{db: dbs[0], coll: c.ID}, {db: dbs[1], coll: c.ID}}
	var pw sync.WaitGroup
	perrs := make([]error, len(pagers))
	for i, p := range pagers {
		pw.Go(func() { perrs[i] = p.run(ctx, stop) })
	}
	var ww sync.WaitGroup
	var werr atomic.Value
	for d, db := range dbs {
		for w := range writersPerDB {
			ww.Go(func() {
				for i := range batches {
					start := ((d*writersPerDB+w)*batches + i) * size
					if _, err := db.Put(ctx, c.ID, benchBatch(start, size)); err != nil {
						werr.Store(err)
						return
					}
				}
			})
		}
	}
	ww.Wait()
	close(stop)
	pw.Wait()
	if err, _ := werr.Load().(error); err != nil {
		t.Fatalf("Put: %v", err)
	}
	for i, err := range perrs {
		if err != nil {
			t.Fatalf("pager %d: %v", i, err)
		}
	}
	for i, p := range pagers {
		p.check(t, fmt.Sprintf("pager on handle %d", i), 2*writersPerDB*batches*size)
	}
}

// childEnv, when set, makes the test binary a writer child of
// TestTwoProcessesPaging: "dsn|collection|first object|batches|size".
const childEnv = "SHIELDWALL_PGSTORE_CHILD"

// TestMain runs the writer child when asked, else the tests.
func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		if err := runChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild(spec string) error {
	var (
		dsn, coll            string
		first, batches, size int
	)
	parts := strings.SplitN(spec, "|", 5)
	if len(parts) != 5 {
		return fmt.Errorf("bad %s %q", childEnv, spec)
	}
	dsn, coll = parts[0], parts[1]
	for i, dst := range []*int{&first, &batches, &size} {
		n, err := strconv.Atoi(parts[2+i])
		if err != nil {
			return fmt.Errorf("bad %s %q: %w", childEnv, spec, err)
		}
		*dst = n
	}
	ctx := context.Background()
	db, err := Open(ctx, dsn, WithMaxConns(2))
	if err != nil {
		return err
	}
	defer db.Close()
	for i := range batches {
		if _, err := db.Put(ctx, coll, benchBatch(first+i*size, size)); err != nil {
			return err
		}
	}
	return nil
}

// TestTwoProcessesPaging is TestTwoHandlesPaging with real processes: this
// test binary re-executed twice as writers (each opening the store itself,
// which also races their migrations against nothing: the parent migrated),
// while the parent pages through its own handle.
func TestTwoProcessesPaging(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := context.Background()
	dsn := newSchema(t)
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.CreateCollection(ctx, store.Collection{Title: "processes"})
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const children, batches, size = 2, 40, 25
	stop := make(chan struct{})
	p := &pager{db: db, coll: c.ID}
	var perr error
	var pw sync.WaitGroup
	pw.Go(func() { perr = p.run(ctx, stop) })
	var cmds []*exec.Cmd
	for i := range children {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%d|%d|%d", childEnv, dsn, c.ID, i*batches*size, batches, size))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child %d: %v", i, err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v", i, err)
		}
	}
	close(stop)
	pw.Wait()
	if perr != nil {
		t.Fatalf("pager: %v", perr)
	}
	p.check(t, "parent pager", children*batches*size)
}

// TestConcurrentOpen opens one new schema from several goroutines at once:
// the advisory lock makes exactly one of them apply each migration.
func TestConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(ctx, dsn, WithMaxConns(2))
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
		}
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var n, maxV int
	if err := db.pool.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != len(ms) {
		t.Errorf("schema_migrations has %d rows up to %d, want %d", n, maxV, len(ms))
	}
}
