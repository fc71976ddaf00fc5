package ioc

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// BenchmarkIOCMatcher1M is the end-to-end figure: Zeek events through the
// Matcher (DefaultConfig's Zeek fields) over an index of 1,000,000 mixed
// indicators, against the same matcher path (mapMatcher: the same field
// dispatch, kind selection, URL joining and alert building) backed by a
// plain map[string][]Ref of the same keys. It reports events per CPU
// second of each and look-ups per event.
//
//	go test -run '^$' -bench 'IOCMatcher1M' -benchtime 2s -v ./internal/detect/ioc/
//
// The events are half conn, a quarter dns, 15% http and 10% files records
// with their usual Zeek fields; 1% of them carry one indexed value (an
// address, a domain, a URL or a SHA-256), the rest match nothing. 2^17
// distinct events are generated; as the input's decoder would leave them,
// each batch of 256 is first copied (untimed) into a reused arena and
// reused Events, for both variants alike, then matched. The variants
// alternate in slices of 2,048 events and each keeps its best.
//
// Building 1M indicators takes tens of seconds on a loaded machine, so
// unless -bench names it, it runs with 50,000 indicators and 2^13 events
// (enough for CI to check that it works).
func BenchmarkIOCMatcher1M(b *testing.B) {
	n, nev := 1_000_000, 1<<17
	if f := flag.Lookup("test.bench"); f == nil || !strings.Contains(f.Value.String(), "IOCMatcher") {
		n, nev = 50_000, 1<<13
	}
	refs := benchRefs(n)
	bld := NewBuilder(n)
	m := make(map[string][]Ref, n)
	for i := range n {
		k, v := genMixed(i)
		if err := bld.Add(k, v, refs[i]); err != nil {
			b.Fatalf("Add(%v, %q) = %v", k, v, err)
		}
		m[v] = refs[i : i+1 : i+1]
	}
	ix, err := bld.Build()
	if err != nil {
		b.Fatalf("Build() = %v", err)
	}
	bld, refs = nil, nil
	evs := genZeekEvents(nev, n)
	ours := NewMatcher(ix, nil, nil)
	plain := newMapMatcher(m, nil)
	ctx := context.Background()
	var alerts [2]int
	emits := [2]detect.Emit{func(*detect.Alert) { alerts[0]++ }, func(*detect.Alert) { alerts[1]++ }}
	procs := [2]func(ev *event.Event){
		func(ev *event.Event) { _ = ours.Process(ctx, ev, emits[0]) },
		func(ev *event.Event) { plain.Process(ev, emits[1]) },
	}
	// Both must find the same alerts over all events.
	var st eventStager
	for at := 0; at < len(evs); at += zeekBatch {
		for _, ev := range st.stage(evs, at) {
			procs[0](ev)
			procs[1](ev)
		}
	}
	if alerts[0] != alerts[1] || alerts[0] == 0 {
		b.Fatalf("alerts: matcher %d, map matcher %d; want the same, not 0", alerts[0], alerts[1])
	}
	b.Logf("%d events, %d alerts, %.2f look-ups per event", len(evs), alerts[0], float64(plain.lookups)/float64(len(evs)))

	const slice = 8 * zeekBatch
	best := [2]float64{}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w := 0
	for b.Loop() {
		for range 24 {
			for vi, proc := range procs {
				var cpu time.Duration
				for j := 0; j < slice; j += zeekBatch {
					batch := st.stage(evs, w*slice+j)
					start := threadCPU()
					for _, ev := range batch {
						proc(ev)
					}
					cpu += threadCPU() - start
				}
				w++
				if eps := float64(slice) / cpu.Seconds(); eps > best[vi] {
					best[vi] = eps
				}
			}
		}
	}
	b.ReportMetric(best[0], "ours-events/cpu-s")
	b.ReportMetric(best[1], "map-events/cpu-s")
	b.ReportMetric(0, "ns/op")
	runtime.KeepAlive(ix)
}

const zeekBatch = 256

type zeekEvent struct {
	names  []string // static field names
	values []string
}

var (
	zeekConn  = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes", "resp_bytes", "conn_state"}
	zeekDNS   = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query", "qtype_name", "rcode_name"}
	zeekHTTP  = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "method", "host", "uri", "user_agent", "status_code"}
	zeekFiles = []string{"ts", "fuid", "source", "mime_type", "md5", "sha1", "sha256"}
)

// genZeekEvents returns count events; 1% carry one of the n indexed values
// of genMixed, the others values of the same generators past them.
func genZeekEvents(count, n int) []zeekEvent {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]zeekEvent, count)
	for i := range out {
		hit := rng.IntN(100) == 0
		j := rng.IntN(n / 4) // indexed: genMixed(4j + kind)
		x := 4*n + rng.IntN(1<<30)
		ts := fmt.Sprintf("%d.%06d", 1764633600+i, rng.IntN(1e6))
		uid := fmt.Sprintf("C%016x", rng.Uint64())
		orig := fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
		resp := genIPv4(x)
		switch r := rng.IntN(100); {
		case r < 50:
			if hit {
				resp = genIPv4(4 * j)
			}
			out[i] = zeekEvent{zeekConn, []string{ts, uid, orig, fmt.Sprint(1024 + rng.IntN(60000)), resp, "443", "tcp", "ssl",
				fmt.Sprintf("%.6f", rng.Float64()*10), fmt.Sprint(rng.IntN(1e5)), fmt.Sprint(rng.IntN(1e6)), "SF"}}
		case r < 75:
			q := genDomain(x + 1)
			if hit {
				q = genDomain(4*j + 1)
			}
			out[i] = zeekEvent{zeekDNS, []string{ts, uid, orig, fmt.Sprint(1024 + rng.IntN(60000)), resp, "53", "udp", q, "A", "NOERROR"}}
		case r < 90:
			host, uri := fmt.Sprintf("www.site%d.example.com", rng.IntN(1e6)), fmt.Sprintf("/static/%x/app.js?v=%d", rng.Uint32(), rng.IntN(100))
			if hit {
				u := strings.TrimPrefix(genURL(4*j+3), "http://")
				k := strings.IndexByte(u, '/')
				host, uri = u[:k], u[k:]
			}
			out[i] = zeekEvent{zeekHTTP, []string{ts, uid, orig, fmt.Sprint(1024 + rng.IntN(60000)), resp, "80", "GET", host, uri,
				"Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "200"}}
		default:
			sha := genSHA256(x + 2)
			if hit {
				sha = genSHA256(4*j + 2)
			}
			out[i] = zeekEvent{zeekFiles, []string{ts, fmt.Sprintf("F%016x", rng.Uint64()), "HTTP", "application/x-dosexec",
				fmt.Sprintf("%032x", rng.Uint64()), fmt.Sprintf("%040x", rng.Uint64()), sha}}
		}
	}
	return out
}

// eventStager copies batches of events into one reused arena and reused
// Events, as an input decodes into its buffers.
type eventStager struct {
	arena  []byte
	evs    []*event.Event
	fields [][]event.Field
}

var zeekTime = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func (s *eventStager) stage(evs []zeekEvent, at int) []*event.Event {
	if s.evs == nil {
		s.arena = make([]byte, 0, zeekBatch*512)
		for range zeekBatch {
			s.evs = append(s.evs, &event.Event{})
			s.fields = append(s.fields, make([]event.Field, 0, 16))
		}
	}
	s.arena = s.arena[:0]
	for i := range zeekBatch {
		ze := evs[(at+i)%len(evs)]
		f := s.fields[i][:0]
		for k, v := range ze.values {
			if len(s.arena)+len(v) > cap(s.arena) {
				panic("eventStager: arena too small")
			}
			off := len(s.arena)
			s.arena = append(s.arena, v...)
			f = append(f, event.Field{Name: ze.names[k], Value: stringOf(s.arena[off:]), Kind: event.String})
		}
		s.fields[i] = f
		s.evs[i].Reset("bench.log", "zeek", int64(at+i), zeekTime, nil, nil)
		s.evs[i].SetFields(f)
	}
	return s.evs
}

// mapMatcher is Matcher's path (Process, check, lookup) with the index
// replaced by a plain map of the raw indicator strings: exact match only,
// no normalisation, parent domains or networks.
type mapMatcher struct {
	m       map[string][]Ref
	fields  compiled
	lookups int
}

func newMapMatcher(m map[string][]Ref, cfg Config) *mapMatcher {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	return &mapMatcher{m: m, fields: compile(cfg)}
}

func (mm *mapMatcher) Process(ev *event.Event, emit detect.Emit) {
	specs, ok := mm.fields[ev.Format]
	if !ok {
		if specs, ok = mm.fields["*"]; !ok {
			return
		}
	}
	var alerts []*detect.Alert
	for _, f := range ev.Fields() {
		for _, spec := range specs[f.Name] {
			alerts = mm.check(ev, spec, f, alerts)
		}
	}
	for _, a := range alerts {
		emit(a)
	}
}

func (mm *mapMatcher) check(ev *event.Event, spec FieldSpec, f event.Field, alerts []*detect.Alert) []*detect.Alert {
	if f.Kind != event.String || f.Value == "" {
		return alerts
	}
	value := f.Value
	if spec.Kind == Hashes {
		for part := range strings.SplitSeq(value, ",") {
			alg, h, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			if k, ok := hashKinds[strings.ToUpper(strings.TrimSpace(alg))]; ok {
				alerts = mm.lookup(ev, f.Name, k, strings.TrimSpace(h), alerts)
			}
		}
		return alerts
	}
	k := spec.Kind
	switch spec.Kind {
	case IP, Host:
		k = IPv4
		if strings.IndexByte(value, ':') >= 0 {
			k = IPv6
		} else if spec.Kind == Host && !looksIPv4(value) {
			k = Domain
		}
	case URL:
		if spec.HostField != "" && strings.HasPrefix(value, "/") {
			host, ok := ev.Value(spec.HostField)
			if !ok || host == "" {
				return alerts
			}
			value = "http://" + host + value
		}
	}
	return mm.lookup(ev, f.Name, k, value, alerts)
}

func (mm *mapMatcher) lookup(ev *event.Event, field string, k Kind, value string, alerts []*detect.Alert) []*detect.Alert {
	mm.lookups++
	refs, ok := mm.m[value]
	if !ok {
		return alerts
	}
	t := ev.Time
	for i := range refs {
		r := &refs[i]
		if !r.ValidAt(t) {
			continue
		}
		match := detect.Match{Field: field, Value: value}
		alerts = append(alerts, newAlert(ev, r, k, value, "", match))
	}
	return alerts
}
