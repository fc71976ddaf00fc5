package pgstore

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

var benchTypes = []string{"indicator", "indicator", "indicator", "malware", "ipv4-addr", "domain-name", "attack-pattern", "report"}

// benchObject is sqlitestore's benchmark object, so that figures compare:
// a small STIX object with a random-looking id; n makes it unique.
func benchObject(n int) stix.Object {
	typ := benchTypes[n%len(benchTypes)]
	h := uint64(n)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	h ^= h >> 29
	id := fmt.Sprintf("%s--%08x-%04x-4%03x-8%03x-%012x", typ, uint32(h>>32), uint16(h>>16), h&0xfff, n>>36&0xfff, n&0xffffffffffff)
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
	tss := stix.FormatTime(ts, 3)
	raw := fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"created":%q,"modified":%q,`+
		`"name":"bench %d","pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix",`+
		`"valid_from":%q,"labels":["malicious-activity"]}`,
		typ, id, tss, tss, n, n>>16&255, n>>8&255, n&255, tss)
	return stix.Object{ID: id, Type: typ, SpecVersion: "2.1", Created: ts, Modified: ts, Raw: []byte(raw)}
}

func benchBatch(start, n int) []stix.Object {
	objs := make([]stix.Object, n)
	for i := range objs {
		objs[i] = benchObject(start + i)
	}
	return objs
}

// benchSizeEnv sets the collection size of the query benchmarks (100,000 by
// default). The collection is built once per size in the schema
// sw_bench_<size> of the SHIELDWALL_TEST_POSTGRES database, which is kept
// for later runs (drop it with DROP SCHEMA sw_bench_<size> CASCADE):
//
//	SHIELDWALL_BENCH_OBJECTS=1000000 go test -run='^$' -bench=Query -benchtime=200x ./internal/store/pgstore
const benchSizeEnv = "SHIELDWALL_BENCH_OBJECTS"

func benchCollection(b *testing.B, db *DB, title string) string {
	b.Helper()
	c, err := db.CreateCollection(context.Background(), store.Collection{Title: title})
	if err != nil {
		b.Fatal(err)
	}
	return c.ID
}

// BenchmarkPut stores batches of new indicators into one collection that
// grows as it runs (-benchtime=100x with batch=1000 makes 100k objects), by
// COPY and by one INSERT of arrays.
func BenchmarkPut(b *testing.B) {
	for _, bc := range []struct {
		name    string
		batch   int
		copyMin int
	}{
		{"batch=1000/copy", 1000, 1},
		{"batch=1000/unnest", 1000, 1 << 30},
		{"batch=100/unnest", 100, 1 << 30},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			db := openTest(b)
			defer db.Close()
			db.copyMin = bc.copyMin
			coll := benchCollection(b, db, "bench")
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				b.StopTimer()
				objs := benchBatch(n, bc.batch)
				n += bc.batch
				b.StartTimer()
				if _, err := db.Put(ctx, coll, objs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkPutBulk imports 100,000 generated indicators in one Put (one
// transaction: probe, COPY), into a new collection each time, as a bundle
// import does; and the same 100,000 in Puts of 10,000.
func BenchmarkPutBulk(b *testing.B) {
	const total = 100000
	objs := benchBatch(0, total)
	for _, batch := range []int{total, 10000} {
		b.Run(fmt.Sprintf("100k/batch=%d", batch), func(b *testing.B) {
			ctx := context.Background()
			db := openTest(b)
			defer db.Close()
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				coll := benchCollection(b, db, "bulk")
				b.StartTimer()
				for i := 0; i < total; i += batch {
					if _, err := db.Put(ctx, coll, objs[i:i+batch]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// largeDB returns a DB holding size objects in one collection, in a kept
// schema built on first use.
func largeDB(b *testing.B) (*DB, string, int) {
	size := 100000
	if s := os.Getenv(benchSizeEnv); s != "" {
		var err error
		if size, err = strconv.Atoi(s); err != nil || size < 1000 {
			b.Fatalf("%s=%q: want a number ≥ 1000", benchSizeEnv, s)
		}
	}
	dsn := testDSN(b)
	ctx := context.Background()
	schema := fmt.Sprintf("sw_bench_%d", size)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema)
	conn.Close(ctx)
	if err != nil {
		b.Fatal(err)
	}
	db, err := Open(ctx, withSearchPath(b, dsn, schema))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cs, err := db.Collections(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var coll string
	if len(cs) > 0 {
		coll = cs[0].ID
	} else {
		coll = benchCollection(b, db, "bench")
	}
	var have int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM objects`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have < size {
		start := time.Now()
		for n := have; n < size; n += 10000 {
			if _, err := db.Put(ctx, coll, benchBatch(n, min(10000, size-n))); err != nil {
				b.Fatal(err)
			}
		}
		spent := time.Since(start)
		if _, err := db.pool.Exec(ctx, `ANALYZE objects`); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %d objects in batches of 10,000 in %v: %.0f objects/s", size-have, spent, float64(size-have)/spent.Seconds())
	}
	return db, coll, size
}

// cursorAt returns the cursor that starts a default query at record i.
func cursorAt(b *testing.B, db *DB, i int) string {
	if i == 0 {
		return ""
	}
	var da int64
	err := db.pool.QueryRow(context.Background(), `SELECT date_added FROM objects WHERE is_latest ORDER BY date_added LIMIT 1 OFFSET $1`, i-1).Scan(&da)
	if err != nil {
		b.Fatalf("cursorAt(%d): %v", i, err)
	}
	return encodeCursor(da)
}

// BenchmarkQuery fetches pages of 1,000 at the start, middle and end of the
// large collection, and the first page of type and id filters.
func BenchmarkQuery(b *testing.B) {
	db, coll, size := largeDB(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		at   int
	}{{"start", 0}, {"middle", size / 2}, {"end", size - 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			next := cursorAt(b, db, bc.at)
			b.ReportAllocs()
			for b.Loop() {
				p, err := db.Query(ctx, coll, store.Filter{Limit: 1000, Next: next})
				if err != nil || len(p.Records) != 1000 {
					b.Fatalf("Query: %d records, %v", len(p.Records), err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
		})
	}
	for _, typ := range []string{"indicator", "report"} {
		b.Run("type="+typ, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := db.Query(ctx, coll, store.Filter{Limit: 1000, Types: []string{typ}})
				if err != nil || len(p.Records) != 1000 {
					b.Fatalf("Query: %d records, %v", len(p.Records), err)
				}
			}
		})
	}
	b.Run("id", func(b *testing.B) {
		o := benchObject(size / 3)
		b.ReportAllocs()
		for b.Loop() {
			p, err := db.Query(ctx, coll, store.Filter{IDs: []string{o.ID}, Versions: store.VersionMatch{All: true}})
			if err != nil || len(p.Records) != 1 {
				b.Fatalf("Query: %d records, %v", len(p.Records), err)
			}
		}
	})
}

// BenchmarkQueryWalk pages through the whole large collection, 1,000 records
// a page, and reports the median and 99th percentile page time.
func BenchmarkQueryWalk(b *testing.B) {
	db, coll, _ := largeDB(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		f    store.Filter
	}{
		{"latest", store.Filter{}},
		{"all", store.Filter{Versions: store.VersionMatch{All: true}}},
		{"type=report", store.Filter{Types: []string{"report"}}},
		{"types=malware,report", store.Filter{Types: []string{"malware", "report"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var times []time.Duration
			records := 0
			for b.Loop() {
				f := bc.f
				f.Limit = 1000
				for {
					start := time.Now()
					p, err := db.Query(ctx, coll, f)
					times = append(times, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
					records += len(p.Records)
					if !p.More {
						break
					}
					f.Next = p.Next
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms/page")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms/page")
			b.ReportMetric(float64(len(times))/float64(b.N), "pages/walk")
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
