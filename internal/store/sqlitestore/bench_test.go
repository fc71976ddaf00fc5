package sqlitestore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// benchSizeEnv sets the collection size of the query benchmarks; run them on
// a million objects with
//
//	SHIELDWALL_BENCH_OBJECTS=1000000 go test -run='^$' -bench=Query -benchtime=200x ./internal/store/sqlitestore
const benchSizeEnv = "SHIELDWALL_BENCH_OBJECTS"

var benchTypes = []string{"indicator", "indicator", "indicator", "malware", "ipv4-addr", "domain-name", "attack-pattern", "report"}

// benchObject is a small STIX object; n makes it unique. Three objects in
// eight are indicators, the rest spread over other types.
func benchObject(n int) stix.Object {
	typ := benchTypes[n%len(benchTypes)]
	// Ids look random, as UUIDv4 ids do, so that index inserts are too.
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

func benchOpen(tb testing.TB, path string) (*DB, string) {
	tb.Helper()
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	cs, err := db.Collections(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if len(cs) > 0 {
		return db, cs[0].ID
	}
	c, err := db.CreateCollection(ctx, store.Collection{Title: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	return db, c.ID
}

// BenchmarkPut stores batches of 1,000 new indicators into one collection
// that grows as it runs (-benchtime=1000x ends at a million objects). Real
// STIX ids are random (UUIDv4), which makes every batch touch about 1,000
// pages of the id index; "ordered-ids" shows the cost without that.
func BenchmarkPut(b *testing.B) {
	for _, bc := range []struct {
		name    string
		ordered bool
	}{{"random-ids", false}, {"ordered-ids", true}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			db, coll := benchOpen(b, filepath.Join(b.TempDir(), "bench.db"))
			const batch = 1000
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				b.StopTimer()
				objs := benchBatch(n, batch)
				if bc.ordered {
					for i := range objs {
						objs[i].ID = fmt.Sprintf("%s--00000000-0000-4000-8000-%012x", objs[i].Type, n+i)
					}
				}
				n += batch
				b.StartTimer()
				if _, err := db.Put(ctx, coll, objs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// largeDB returns a database holding size objects in one collection, built
// once per size and kept in the test cache directory (or a temp dir).
func largeDB(b *testing.B) (*DB, string, int) {
	size := 100000
	if s := os.Getenv(benchSizeEnv); s != "" {
		var err error
		if size, err = strconv.Atoi(s); err != nil || size < 1000 {
			b.Fatalf("%s=%q: want a number ≥ 1000", benchSizeEnv, s)
		}
	}
	dir := os.Getenv("SHIELDWALL_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("bench-%d.db", size))
	db, coll := benchOpen(b, path)
	ctx := context.Background()
	p, err := db.Query(ctx, coll, store.Filter{Versions: store.VersionMatch{All: true}, Limit: 1, Next: ""})
	if err != nil {
		b.Fatal(err)
	}
	if len(p.Records) == 0 {
		var spent time.Duration
		for n := 0; n < size; n += 1000 {
			objs := benchBatch(n, min(1000, size-n))
			start := time.Now()
			if _, err := db.Put(ctx, coll, objs); err != nil {
				b.Fatal(err)
			}
			spent += time.Since(start)
		}
		b.Logf("built %d objects in batches of 1,000 in %v: %.0f objects/s", size, spent, float64(size)/spent.Seconds())
	}
	return db, coll, size
}

// cursorAt returns the cursor that starts a default query at record i.
func cursorAt(b *testing.B, db *DB, coll string, i int) string {
	if i == 0 {
		return ""
	}
	var da int64
	err := db.r.QueryRow(`SELECT date_added FROM objects WHERE is_latest = 1 ORDER BY date_added LIMIT 1 OFFSET ?`, i-1).Scan(&da)
	if err != nil {
		b.Fatalf("cursorAt(%d): %v", i, err)
	}
	return encodeCursor(da)
}

func BenchmarkQuery(b *testing.B) {
	db, coll, size := largeDB(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		at   int
	}{{"start", 0}, {"middle", size / 2}, {"end", size - 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			next := cursorAt(b, db, coll, bc.at)
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

// benchAlert is an alert like the console scale test's (internal/web): a
// Sigma alert with its matched field and an event, about 800 bytes of JSON.
func benchAlert(n int) store.AlertRecord {
	words := []string{"powershell", "cmd.exe", "rundll32", "regsvr32", "mshta", "wmic", "certutil", "bitsadmin", "schtasks", "psexec"}
	w := words[n%len(words)]
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	js := fmt.Sprintf(`{"id":"bench-alert-%08d","engine":"sigma","rule_id":"bench-rule-%04d","rule_title":"Suspicious execution activity pattern %d",`+
		`"level":"high","tags":["attack.execution","attack.t1059.001"],"source":"host-%03d/Security.evtx","offset":%d,"time":%q,`+
		`"matches":[{"field":"CommandLine","value":"%s -nop -w hidden"}],"event":{"CommandLine":"%s -nop -w hidden %s",`+
		`"Computer":"host-%03d.corp.example","EventID":4688,"ParentImage":"C:\\Windows\\System32\\cmd.exe","User":"CORP\\user%04d"}}`,
		n, n%2000, n%2000, n%400, n, ts.Format(time.RFC3339Nano), w, w, strconv.Itoa(n*7919)+" "+fmt.Sprintf("%0300d", n), n%400, n%5000)
	return store.AlertRecord{ID: fmt.Sprintf("bench-alert-%08d", n), Time: ts, Engine: "sigma", RuleID: fmt.Sprintf("bench-rule-%04d", n%2000),
		Level: "high", Source: fmt.Sprintf("host-%03d/Security.evtx", n%400), JSON: []byte(js)}
}

// BenchmarkPutAlerts stores batches of 1,000 new alerts (as the node's
// detection sink does) into a store that grows as it runs; -benchtime=100x
// ends at 100,000 alerts, the console scale test's. It reports alerts/s and
// the file's bytes per alert (tables, indexes and the text index).
func BenchmarkPutAlerts(b *testing.B) {
	ctx := context.Background()
	db, _ := benchOpen(b, filepath.Join(b.TempDir(), "alerts.db"))
	const batch = 1000
	n := 0
	b.ResetTimer()
	for range b.N {
		as := make([]store.AlertRecord, batch)
		for i := range as {
			as[i] = benchAlert(n + i)
		}
		n += batch
		if k, err := db.PutAlerts(ctx, as); err != nil || k != batch {
			b.Fatalf("PutAlerts = %d, %v", k, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alerts/s")
	if _, err := db.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	var pages, size int64
	if err := db.w.QueryRowContext(ctx, `SELECT page_count, page_size FROM pragma_page_count, pragma_page_size`).Scan(&pages, &size); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(pages*size)/float64(n), "file-B/alert")
}
