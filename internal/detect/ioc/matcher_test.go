package ioc

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

func matcherIndex(t testing.TB) *Index {
	t.Helper()
	b := NewBuilder(0)
	add := func(k Kind, v string, r Ref) {
		if err := b.Add(k, v, r); err != nil {
			t.Fatalf("Add(%v, %q) = %v", k, v, err)
		}
	}
	c2 := Ref{ID: "indicator--c2", Name: "C2 server", Confidence: 90}
	add(IPv4, "198.51.100.7", c2)
	add(Domain, "evil.example", c2)
	add(SHA256, "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", Ref{ID: "indicator--drop", Confidence: 60})
	add(MD5, "8d1f0a2d5c7b3e4f6a9b0c1d2e3f4a5b", Ref{ID: "indicator--md5", Confidence: 10})
	add(URL, "http://dl.example/payload.bin", Ref{ID: "url--u", Confidence: -1})
	add(Email, "ceo@phish.example", Ref{ID: "indicator--mail", Confidence: -1})
	add(IPv4, "8.8.8.0/24", Ref{ID: "indicator--dns", Confidence: -1})
	add(Domain, "old.example", Ref{ID: "indicator--old", Confidence: -1,
		ValidUntil: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	ix, err := b.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	return ix
}

func fields(kv ...string) []event.Field {
	var out []event.Field
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, event.Field{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func mt(field, value string) detect.Match { return detect.Match{Field: field, Value: value} }

type brief struct {
	RuleID, Title, Level string
	Matches              []detect.Match
}

func TestMatcherFormats(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	sup := NewSuppressor()
	if err := sup.Add(WarningList{Name: "public-dns", Type: "cidr", List: []string{"8.8.8.8/32"}}); err != nil {
		t.Fatal(err)
	}
	m := NewMatcher(matcherIndex(t), nil, sup)
	tests := []struct {
		name   string
		format string
		fields []event.Field
		want   []brief
	}{
		{"sysmon network", "evtx", fields("DestinationIp", "198.51.100.7", "DestinationHostname", "www.evil.example", "SourceIp", "10.0.0.1"),
			[]brief{{"indicator--c2", "C2 server", "high", []detect.Match{mt("DestinationIp", "198.51.100.7"), mt("DestinationHostname", "www.evil.example")}}}},
		{"sysmon hashes", "evtx", fields("Hashes", "SHA1=2AAE6C35C94FCFB415DBE95F408B9CE91EE846ED,MD5=8D1F0A2D5C7B3E4F6A9B0C1D2E3F4A5B,SHA256=AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F,IMPHASH=8D1F0A2D5C7B3E4F6A9B0C1D2E3F4A5B"),
			[]brief{
				{"indicator--md5", "IOC 8D1F0A2D5C7B3E4F6A9B0C1D2E3F4A5B", "low", []detect.Match{mt("Hashes", "8D1F0A2D5C7B3E4F6A9B0C1D2E3F4A5B")}},
				{"indicator--drop", "IOC AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F", "medium", []detect.Match{mt("Hashes", "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F")}},
			}},
		{"sysmon target filename ignored", "evtx", fields("TargetFilename", "evil.example"), nil},
		{"eve dns", "eve", fields("src_ip", "10.1.1.1", "dns.rrname", "a.evil.example"),
			[]brief{{"indicator--c2", "C2 server", "high", []detect.Match{mt("dns.rrname", "a.evil.example")}}}},
		{"eve http url joined with host", "eve", fields("http.hostname", "DL.example", "http.url", "/payload.bin"),
			[]brief{{"url--u", "IOC http://DL.example/payload.bin", "high", []detect.Match{mt("http.url", "http://DL.example/payload.bin")}}}},
		{"zeek conn", "zeek", fields("id.orig_h", "192.0.2.1", "id.resp_h", "198.51.100.7"),
			[]brief{{"indicator--c2", "C2 server", "high", []detect.Match{mt("id.resp_h", "198.51.100.7")}}}},
		{"zeek files", "zeek", fields("sha256", "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"),
			[]brief{{"indicator--drop", "IOC aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", "medium", []detect.Match{mt("sha256", "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f")}}}},
		{"ecs email and url", "jsonl", fields("email.from.address", "CEO@phish.example", "url.full", "HTTP://dl.example:80/payload.bin#x"),
			[]brief{
				{"indicator--mail", "IOC CEO@phish.example", "high", []detect.Match{mt("email.from.address", "CEO@phish.example")}},
				{"url--u", "IOC HTTP://dl.example:80/payload.bin#x", "high", []detect.Match{mt("url.full", "HTTP://dl.example:80/payload.bin#x")}},
			}},
		{"network hit names the network", "ecs", fields("destination.ip", "8.8.8.9"),
			[]brief{{"indicator--dns", "IOC 8.8.8.0/24", "high", nil}}},
		{"suppressed hit", "ecs", fields("destination.ip", "8.8.8.8"), nil},
		{"expired indicator", "ecs", fields("dns.question.name", "old.example"), nil},
		{"no such field", "ecs", fields("source.port", "198.51.100.7"), nil},
	}
	for _, tt := range tests {
		ev := event.New("test", tt.format, 1, now, []byte(`{"x":1}`), tt.fields)
		var got []brief
		err := m.Process(context.Background(), ev, func(a *detect.Alert) {
			if a.Engine != "ioc" || a.Indicator != a.RuleID || a.Source != "test" || string(a.Event) != `{"x":1}` {
				t.Errorf("%s: alert %+v lacks engine, indicator, source or event", tt.name, a)
			}
			ms := a.Matches
			if tt.name == "network hit names the network" {
				ms = nil
			}
			got = append(got, brief{a.RuleID, a.RuleTitle, a.Level, ms})
		})
		if err != nil {
			t.Errorf("%s: Process() = %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Process alerts (-want +got):\n%s", tt.name, diff)
		}
	}
	if s := m.Stats(); s.Suppressed != 1 || s.Expired != 1 {
		t.Errorf("Stats() = %+v, want Suppressed 1, Expired 1", s)
	}
}

// TestMatcherSwap processes events on one goroutine while another swaps
// indexes; run with -race. Every event must be matched against one whole
// index: the indicator of index i is only ever seen with i's key.
func TestMatcherSwap(t *testing.T) {
	const nIdx = 4
	idx := make([]*Index, nIdx)
	for i := range idx {
		b := NewBuilder(0)
		for j := range 200 {
			if err := b.Add(IPv4, genIPv4(j), Ref{ID: fmt.Sprintf("indicator--%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if idx[i], err = b.Build(); err != nil {
			t.Fatal(err)
		}
	}
	m := NewMatcher(idx[0], nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			m.Swap(idx[i%nIdx])
			time.Sleep(50 * time.Microsecond)
		}
	})
	const events = 20000
	alerts := 0
	for i := range events {
		ev := event.New("t", "ecs", int64(i), time.Time{}, nil, fields("source.ip", genIPv4(i%200)))
		if err := m.Process(ctx, ev, func(*detect.Alert) { alerts++ }); err != nil {
			t.Fatalf("Process() = %v", err)
		}
	}
	cancel()
	wg.Wait()
	if alerts != events {
		t.Errorf("alerts = %d over %d events while swapping, want one per event", alerts, events)
	}
}

// TestMatcherManyFields checks an event with more look-ups than one
// batch round holds (batchSize, and domains probed at several depths):
// every hit is found, each indicator gives one alert, and its matches and
// the alerts come in the order of the event's fields.
func TestMatcherManyFields(t *testing.T) {
	var cfg Config = map[string][]FieldSpec{}
	var fs []event.Field
	var wantC2, wantDNS []detect.Match
	for i := range 3 * batchSize {
		name := fmt.Sprintf("f%03d", i)
		cfg["*"] = append(cfg["*"], FieldSpec{Field: name, Kind: Host})
		var v string
		switch i % 4 {
		case 0:
			v = fmt.Sprintf("a%d.b.c.d.e.f.g.h.evil.example", i) // a parent hits
			wantC2 = append(wantC2, mt(name, v))
		case 1:
			v = fmt.Sprintf("8.8.8.%d", 100+i%100) // the network hits
			wantDNS = append(wantDNS, mt(name, v))
		case 2:
			v = "198.51.100.7"
			wantC2 = append(wantC2, mt(name, v))
		default:
			v = fmt.Sprintf("miss%d.example.org", i)
		}
		fs = append(fs, event.Field{Name: name, Value: v})
	}
	m := NewMatcher(matcherIndex(t), cfg, nil)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for range 3 { // the matcher's buffers are reused between events
		var got []brief
		err := m.Process(context.Background(), event.New("t", "x", 1, now, nil, fs), func(a *detect.Alert) {
			got = append(got, brief{a.RuleID, "", "", a.Matches})
		})
		if err != nil {
			t.Fatalf("Process() = %v", err)
		}
		want := []brief{{"indicator--c2", "", "", wantC2}, {"indicator--dns", "", "", wantDNS}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Process alerts (-want +got):\n%s", diff)
		}
	}
}

func TestMatcherNilIndexAndCancel(t *testing.T) {
	m := NewMatcher(nil, nil, nil)
	ev := event.New("t", "ecs", 0, time.Time{}, nil, fields("source.ip", "198.51.100.7"))
	if err := m.Process(context.Background(), ev, func(a *detect.Alert) { t.Errorf("alert %+v from nil index", a) }); err != nil {
		t.Errorf("Process() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Process(ctx, ev, func(*detect.Alert) {}); err == nil {
		t.Errorf("Process(cancelled) = nil, want an error")
	}
}

func BenchmarkMatcherMiss(b *testing.B) {
	m := NewMatcher(matcherIndex(b), nil, nil)
	ev := event.New("t", "evtx", 0, time.Now(), nil, fields("DestinationIp", "192.0.2.1", "SourceIp", "10.0.0.1",
		"QueryName", "www.example.org", "Hashes", "SHA256=0000000000000000000000000000000000000000000000000000000000000000,MD5=00000000000000000000000000000000,IMPHASH=00000000000000000000000000000000",
		"Image", `C:\Windows\System32\svchost.exe`, "User", "NT AUTHORITY\\SYSTEM"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Process(ctx, ev, func(*detect.Alert) { b.Fatal("unexpected alert") }); err != nil {
			b.Fatal(err)
		}
	}
}
