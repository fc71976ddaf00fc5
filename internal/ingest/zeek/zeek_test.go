package zeek

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shieldwall/shieldwall/internal/event"
)

const corpus = "../../../../shared/corpora/otrf/zeek"

const dnsTSV = "#separator \\x09\n" +
	"#set_separator\t,\n" +
	"#empty_field\t(empty)\n" +
	"#unset_field\t-\n" +
	"#path\tdns\n" +
	"#open\t2023-08-16-01-28-55\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tquery\trcode\tAA\tanswers\tTTLs\tnote\n" +
	"#types\ttime\tstring\taddr\tport\tstring\tcount\tbool\tvector[string]\tvector[interval]\tstring\n" +
	"1692161622.036086\tCnsu5m\t192.168.1.41\t52605\tevil.example\t0\tT\t1.2.3.4,5.6.7.8\t60.0,60.0\t(empty)\n" +
	"1692161629.312072\tCgOrga\t192.168.1.41\t49556\t-\t2\tF\t(empty)\t-\ta\\x09b\n" +
	"#close\t2023-08-16-01-38-55\n"

func parseAll(t *testing.T, p *Parser, text string) ([]*event.Event, []error) {
	t.Helper()
	var evs []*event.Event
	var errs []error
	for i, line := range strings.SplitAfter(text, "\n") {
		ev, err := p.Parse("test", int64(i), []byte(line))
		if err != nil {
			errs = append(errs, err)
		}
		if ev != nil {
			evs = append(evs, ev)
		}
	}
	return evs, errs
}

func TestTSV(t *testing.T) {
	type F = event.Field
	evs, errs := parseAll(t, NewParser(""), dnsTSV)
	if len(errs) > 0 || len(evs) != 2 {
		t.Fatalf("Parse: %d events, errors %v; want 2 events, no error", len(evs), errs)
	}
	want := [][]F{{
		{Name: "ts", Value: "1692161622.036086", Kind: event.Number},
		{Name: "uid", Value: "Cnsu5m"},
		{Name: "id.orig_h", Value: "192.168.1.41"},
		{Name: "id.orig_p", Value: "52605", Kind: event.Number},
		{Name: "query", Value: "evil.example"},
		{Name: "rcode", Value: "0", Kind: event.Number},
		{Name: "AA", Value: "true", Kind: event.Bool},
		{Name: "answers", Value: "1.2.3.4"}, {Name: "answers", Value: "5.6.7.8"},
		{Name: "TTLs", Value: "60.0", Kind: event.Number}, {Name: "TTLs", Value: "60.0", Kind: event.Number},
		{Name: "note", Value: ""},
		{Name: "_path", Value: "dns"},
	}, {
		{Name: "ts", Value: "1692161629.312072", Kind: event.Number},
		{Name: "uid", Value: "CgOrga"},
		{Name: "id.orig_h", Value: "192.168.1.41"},
		{Name: "id.orig_p", Value: "49556", Kind: event.Number},
		{Name: "query", Kind: event.Null},
		{Name: "rcode", Value: "2", Kind: event.Number},
		{Name: "AA", Value: "false", Kind: event.Bool},
		{Name: "TTLs", Kind: event.Null},
		{Name: "note", Value: "a\tb"},
		{Name: "_path", Value: "dns"},
	}}
	for i, ev := range evs {
		if diff := cmp.Diff(want[i], ev.Fields()); diff != "" {
			t.Errorf("record %d fields (-want +got):\n%s", i, diff)
		}
		if ev.Format != "zeek" {
			t.Errorf("record %d Format = %q, want zeek", i, ev.Format)
		}
	}
	if want := time.Unix(1692161622, 36086000).UTC(); !evs[0].Time.Equal(want) {
		t.Errorf("Time = %v, want %v", evs[0].Time, want)
	}
}

func TestBadRecords(t *testing.T) {
	text := "1.0\tx\n" + dnsTSV +
		"1692161622.1\ttoo\tfew\n" +
		"1692161622.2\tC\t1.1.1.1\t1\tq\xff\t0\tT\t-\t-\t-\n" +
		strings.Repeat("x", 100) + "\n" +
		"1692161622.3\tC\t1.1.1.1\t1\tq\t0\tT\t-\t-\t-\n" +
		"{\"ts\":1,\"a\":\n"
	evs, errs := parseAll(t, NewParser(""), text)
	if len(evs) != 3 {
		t.Errorf("got %d events, want 3 (the good ones)", len(evs))
	}
	for _, want := range []error{ErrNoHeader, ErrFieldCount, ErrInvalidUTF8} {
		found := false
		for _, e := range errs {
			found = found || errors.Is(e, want)
		}
		if !found {
			t.Errorf("errors %v, want one matching %v", errs, want)
		}
	}
	if len(errs) != 5 {
		t.Errorf("got %d errors %v, want 5", len(errs), errs)
	}
}

func TestJSON(t *testing.T) {
	p := NewParser(PathFromFile("/var/log/zeek/http.00:00:00-01:00:00.log"))
	ev, err := p.Parse("f", 0, []byte(`{"ts":"2020-04-30T00:06:39.824370Z","uid":"C1","id.orig_h":"10.0.1.6","host":"a.example"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 4, 30, 0, 6, 39, 824370e3, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("Time = %v, want %v", ev.Time, want)
	}
	if v, _ := ev.Value("_path"); v != "http" {
		t.Errorf("_path = %q, want http", v)
	}
	if v, _ := ev.Value("id.orig_h"); v != "10.0.1.6" {
		t.Errorf("id.orig_h = %q", v)
	}
	ev, _ = p.Parse("f", 0, []byte(`{"@stream":"conn","_path":"x","ts":1}`))
	if got := ev.All("_path"); len(got) != 1 || got[0].Value != "x" {
		t.Errorf("_path = %v, want only the record's own x", got)
	}
	ev, _ = p.Parse("f", 0, []byte(`{"@stream":"conn","ts":1}`))
	if v, _ := ev.Value("_path"); v != "conn" {
		t.Errorf("_path = %q, want conn from @stream", v)
	}
}

// TestCorpus reads every real Zeek log of the otrf corpus, TSV and JSON:
// every data line must give one event with a time and a _path.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("otrf Zeek corpus not found at %s: %v", corpus, err)
	}
	var tsv, js int
	err := filepath.WalkDir(corpus, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		p := NewParser(PathFromFile(path))
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 16<<20)
		for n := int64(0); sc.Scan(); n++ {
			line := sc.Bytes()
			ev, err := p.Parse(path, n, line)
			if err != nil {
				t.Errorf("%s:%d: Parse error %v", path, n+1, err)
				continue
			}
			if len(line) == 0 || line[0] == '#' {
				if ev != nil {
					t.Errorf("%s:%d: header gave an event", path, n+1)
				}
				continue
			}
			if ev == nil {
				t.Errorf("%s:%d: no event for a data line", path, n+1)
				continue
			}
			if ev.Err() != nil {
				t.Errorf("%s:%d: decode error %v", path, n+1, ev.Err())
			}
			if _, hasTS := ev.Value("ts"); hasTS && ev.Time.Year() < 2015 {
				t.Errorf("%s:%d: Time = %v", path, n+1, ev.Time)
			}
			if v, _ := ev.Value("_path"); v == "" {
				t.Errorf("%s:%d: no _path", path, n+1)
			}
			if line[0] == '{' {
				js++
			} else {
				tsv++
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if tsv == 0 || js == 0 {
		t.Errorf("read %d TSV and %d JSON records; want both", tsv, js)
	}
	t.Logf("%d TSV and %d JSON records", tsv, js)
}

func BenchmarkTSV(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpus, "LSASS_campaign_01/conn.log"))
	if err != nil {
		b.Skipf("corpus: %v", err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p := NewParser("")
		for _, l := range lines {
			if ev, err := p.Parse("b", 0, l); err != nil {
				b.Fatal(err)
			} else if ev != nil {
				_ = ev.Fields()
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(lines))/b.Elapsed().Seconds(), "lines/s")
}

func FuzzZeekTSV(f *testing.F) {
	f.Add([]byte(dnsTSV))
	f.Add([]byte("#separator ,\n#fields,a,b\n#types,set[count],bool\n1,2,T\n"))
	if data, err := os.ReadFile(filepath.Join(corpus, "LSASS_campaign_01/dns.log")); err == nil {
		f.Add(data[:min(len(data), 4096)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := NewParser("x")
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			ev, err := p.Parse("fuzz", 0, line)
			if err != nil && ev != nil {
				t.Fatalf("Parse(%q) returned both an event and %v", line, err)
			}
			if ev != nil && len(line) > 0 && line[0] != '{' && len(ev.Fields()) == 0 {
				t.Fatalf("Parse(%q) gave a TSV event with no field", line)
			}
		}
	})
}
