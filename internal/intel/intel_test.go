package intel

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/sqlitestore"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		want Format
	}{
		{`{"type":"bundle","id":"bundle--x","objects":[]}`, FormatSTIX},
		{"\ufeff  \n{\"objects\":[]}", FormatSTIX},
		{`{"Event":{"info":"x","Attribute":[]}}`, FormatMISP},
		{`{"type":"bundle","objects":[{"type":"x-misp-object","id":"x","x_misp":{"Event":1,"Attribute":2}}]}`, FormatSTIX},
		{`[{"Event":{}}]`, FormatMISP},
		{`{"response":[{"Event":{}}]}`, FormatMISP},
		{"type,value\nip-dst,1.2.3.4\n", FormatCSV},
		{"1.2.3.4\nevil.example\n", FormatIOC},
		{"http://a.example/x,y\n", FormatIOC},
		{"", FormatIOC},
	}
	for _, tt := range tests {
		if got := sniff(bufio.NewReader(strings.NewReader(tt.in))); got != tt.want {
			t.Errorf("sniff(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"auto", "", "STIX", "misp", "csv", "ioc"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q) = %v", s, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) succeeded")
	}
}

func openStore(t testing.TB) (*sqlitestore.DB, string) {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), t.TempDir()+"/x.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := db.CreateCollection(context.Background(), store.Collection{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return db, c.ID
}

// bundle builds a bundle of n indicators; bad lists the indexes to break.
func bundle(n int, bad map[int]string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if s, ok := bad[i]; ok {
			b.WriteString(s)
			continue
		}
		fmt.Fprintf(&b, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.%d.%d']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}`, i, i/256%256, i%256)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// TestImportRefusesAlone checks that bad objects of every kind are refused
// with their index and reason while the rest, across batches, is stored.
func TestImportRefusesAlone(t *testing.T) {
	db, coll := openStore(t)
	bad := map[int]string{
		3:   `{"type":"indicator","spec_version":"2.1","id":"indicator--bad"}`,
		10:  `"a string"`,
		11:  `{"type":"indicator",,}`,
		250: `{"type":"malware","spec_version":"2.1","id":"malware--2d2b0e4c-0d1b-4f5a-9a6c-111111111111","created":"2025-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"x","is_family":true}`,
	}
	im := &Importer{Store: db}
	rep, err := im.Import(context.Background(), coll, bytes.NewReader(bundle(300, bad)), Options{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 300 || rep.Stored != 296 || rep.Rejected != 4 {
		t.Fatalf("report = read %d stored %d rejected %d, want 300/296/4", rep.Read, rep.Stored, rep.Rejected)
	}
	got := map[int]string{}
	for _, rj := range rep.Rejections {
		got[rj.Index] = rj.Reason
	}
	for i := range bad {
		if got[i] == "" {
			t.Errorf("object %d not reported as rejected (rejections %v)", i, rep.Rejections)
		}
	}
	if !strings.Contains(got[250], "modified") {
		t.Errorf("reason for modified < created = %q", got[250])
	}
	page, err := db.Query(context.Background(), coll, store.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 296 {
		t.Errorf("store holds %d objects, want 296", len(page.Records))
	}
	// Stored in input order: date_added follows the file.
	for i := 1; i < len(page.Records); i++ {
		if page.Records[i-1].Object.ID >= page.Records[i].Object.ID {
			t.Fatalf("records out of input order at %d: %s then %s", i, page.Records[i-1].Object.ID, page.Records[i].Object.ID)
		}
	}
}

func TestImportBrokenFraming(t *testing.T) {
	db, coll := openStore(t)
	in := bundle(100, nil)
	in = in[:len(in)/2] // truncated mid-bundle
	rep, err := (&Importer{Store: db}).Import(context.Background(), coll, bytes.NewReader(in), Options{BatchSize: 10, Format: FormatSTIX})
	if err == nil || !strings.Contains(err.Error(), "unexpected end of input") {
		t.Fatalf("Import of a truncated bundle: err = %v", err)
	}
	if rep.Stored == 0 {
		t.Error("objects before the break were not stored")
	}
}

type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

// TestImportStopsCleanly checks that failed and cancelled imports of every
// streaming format leave no goroutine behind.
func TestImportStopsCleanly(t *testing.T) {
	db, coll := openStore(t)
	im := &Importer{Store: db}
	inputs := map[Format]string{
		FormatIOC:  strings.Repeat("10.1.2.3\n", 100),
		FormatCSV:  "value\n" + strings.Repeat("evil.example\n", 100),
		FormatMISP: `[{"Event":{"uuid":"5e1a3b6c-0000-4000-8000-000000000001","info":"x","date":"2025-01-01","timestamp":"1735689600","Attribute":[]}}`,
		FormatSTIX: string(bundle(50, nil)),
	}
	runtime.GC()
	before := runtime.NumGoroutine()
	for range 5 {
		for f, in := range inputs {
			rep, err := im.Import(context.Background(), coll, &failingReader{strings.NewReader(in)}, Options{Format: f, BatchSize: 7})
			if err == nil && rep.Rejected == 0 {
				t.Errorf("%s: a failing reader went unnoticed: %+v", f, rep)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := im.Import(ctx, coll, strings.NewReader(in), Options{Format: f}); !errors.Is(err, context.Canceled) {
				t.Errorf("%s: cancelled import: err = %v", f, err)
			}
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after 40 stopped imports", before, n)
	}
}

func TestExport(t *testing.T) {
	db, coll := openStore(t)
	if _, err := (&Importer{Store: db}).Import(context.Background(), coll, bytes.NewReader(bundle(7000, nil)), Options{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := Export(context.Background(), db, coll, store.Filter{}, &out)
	if err != nil || n != 7000 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	br := stix.NewBundleReader(&out)
	count := 0
	for {
		raw, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := stix.Decode(raw); err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != 7000 {
		t.Errorf("exported bundle holds %d objects, want 7000", count)
	}
}

// BenchmarkImport measures the whole import path (framing, validation,
// storage) on 10,000-indicator bundles into a growing store.
func BenchmarkImport(b *testing.B) {
	db, coll := openStore(b)
	im := &Importer{Store: db}
	const n = 10000
	b.ReportAllocs()
	var total int
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		in := bytes.ReplaceAll(bundle(n, nil), []byte("-0000-4000-"), fmt.Appendf(nil, "-%04x-4000-", i%65536))
		b.StartTimer()
		rep, err := im.Import(context.Background(), coll, bytes.NewReader(in), Options{})
		if err != nil || rep.Stored != n {
			b.Fatalf("import: stored %d, %v", rep.Stored, err)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "objects/s")
}

// TestImportSingleObject checks that a file holding one STIX object, not a
// bundle, imports as that object.
func TestImportSingleObject(t *testing.T) {
	db, coll := openStore(t)
	obj := `{"type":"campaign","spec_version":"2.1","id":"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"Green Group Attacks Against Finance"}`
	rep, err := (&Importer{Store: db}).Import(context.Background(), coll, strings.NewReader(" \n"+obj), Options{})
	if err != nil || rep.Stored != 1 || rep.Format != FormatSTIX {
		t.Fatalf("Import = %+v, %v; want one STIX object stored", rep, err)
	}
	page, err := db.Query(context.Background(), coll, store.Filter{})
	if err != nil || len(page.Records) != 1 || string(page.Records[0].Object.Raw) != obj {
		t.Fatalf("stored %v, %v", page.Records, err)
	}
}
