package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetest"
)

// dsnEnv names the environment variable holding the DSN of a PostgreSQL
// database the tests may create schemas in, for example
//
//	SHIELDWALL_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' go test ./internal/store/pgstore
const dsnEnv = "SHIELDWALL_TEST_POSTGRES"

// testDSN returns the base DSN, skipping the test when there is none.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skipf("%s is not set: PostgreSQL tests skipped (set it to a DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)", dsnEnv)
	}
	return dsn
}

// withSearchPath returns dsn with search_path set to schema.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("parse %s: %v", dsnEnv, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// newSchema creates a uniquely named, empty schema, drops it when the test
// ends, and returns a DSN whose connections use it.
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	var b [6]byte
	rand.Read(b[:])
	schema := "sw_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to %s: %v", dsnEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(tb, dsn, schema)
}

func openTest(tb testing.TB, opts ...Option) *DB {
	tb.Helper()
	db, err := Open(context.Background(), newSchema(tb), opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Backend { return openTest(t) })
}

func TestOpenBadDSN(t *testing.T) {
	for _, dsn := range []string{"postgres://u:secret@host:notaport/db", "host=a port=x"} {
		db, err := Open(context.Background(), dsn)
		if db != nil {
			db.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "bad DSN") || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) = %v, want a bad DSN error without the password", dsn, err)
		}
	}
}

// TestMaxPageSize checks WithMaxPageSize caps every page.
func TestMaxPageSize(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, WithMaxPageSize(5))
	defer db.Close()
	c, err := db.CreateCollection(ctx, store.Collection{Title: "pages"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, c.ID, benchBatch(0, 12)); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 6, 1000, -3} {
		p, err := db.Query(ctx, c.ID, store.Filter{Limit: limit})
		if err != nil || len(p.Records) != 5 || !p.More {
			t.Errorf("Query(limit %d) = %d records, more %v, %v; want 5, more", limit, len(p.Records), p.More, err)
		}
	}
}

// TestCopyPath puts one batch large enough for COPY, with versions of ids
// already stored, and checks the marks and idempotency.
func TestCopyPath(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	defer db.Close()
	c, err := db.CreateCollection(ctx, store.Collection{Title: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	old := benchBatch(0, 10)
	if _, err := db.Put(ctx, c.ID, old); err != nil {
		t.Fatal(err)
	}
	batch := benchBatch(10, 2*defaultCopyMin)
	for _, o := range old { // a newer version of each stored object
		o.Modified = o.Modified.Add(1e9)
		batch = append(batch, o)
	}
	batch = append(batch, old[0]) // and one already stored
	res, err := db.Put(ctx, c.ID, batch)
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, r := range res {
		if r.Added {
			added++
		}
	}
	if want := 2*defaultCopyMin + 10; added != want {
		t.Errorf("Put added %d, want %d", added, want)
	}
	latest := 0
	f := store.Filter{Limit: 100}
	for {
		p, err := db.Query(ctx, c.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if r.Object.Modified.Sub(r.Object.Created) == 0 && r.Object.ID == old[0].ID {
				t.Errorf("old version of %s still marked latest", r.Object.ID)
			}
		}
		latest += len(p.Records)
		if !p.More {
			break
		}
		f.Next = p.Next
	}
	if want := 2*defaultCopyMin + 10; latest != want {
		t.Errorf("%d latest versions, want %d", latest, want)
	}
	first, err := db.Query(ctx, c.ID, store.Filter{IDs: []string{old[3].ID}, Versions: store.VersionMatch{First: true}})
	if err != nil || len(first.Records) != 1 || !first.Records[0].Object.Modified.Equal(old[3].Modified) {
		t.Errorf("first version of %s = %+v, %v", old[3].ID, first.Records, err)
	}
	again, err := db.Put(ctx, c.ID, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Added || !r.DateAdded.Equal(res[i].DateAdded) {
			t.Fatalf("re-put [%d] = %+v, want a no-op at %v", i, r, res[i].DateAdded)
		}
	}
}

func ExampleOpen() {
	ctx := context.Background()
	db, err := Open(ctx, "postgres://shieldwall@db.example:5432/shieldwall?sslmode=verify-full&pool_max_conns=8")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
}

// TestBulkIntoEmpty puts a batch large enough to skip the probe of an empty
// collection, with a repeated object in it, then the batch again.
func TestBulkIntoEmpty(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	defer db.Close()
	c, err := db.CreateCollection(ctx, store.Collection{Title: "bulk"})
	if err != nil {
		t.Fatal(err)
	}
	batch := benchBatch(0, probeEmptyMin+10)
	batch = append(batch, batch[5])
	res, err := db.Put(ctx, c.ID, batch)
	if err != nil {
		t.Fatal(err)
	}
	last := res[len(res)-1]
	if last.Added || !last.DateAdded.Equal(res[5].DateAdded) {
		t.Errorf("repeated object in the batch = %+v, want a no-op at %v", last, res[5].DateAdded)
	}
	again, err := db.Put(ctx, c.ID, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Added || !r.DateAdded.Equal(res[i].DateAdded) {
			t.Fatalf("re-put [%d] = %+v, want a no-op at %v", i, r, res[i].DateAdded)
		}
	}
}

func TestFederationConformance(t *testing.T) {
	testDSN(t)
	storetest.RunFederation(t, func(t *testing.T) store.Backend { return openTest(t) })
}
