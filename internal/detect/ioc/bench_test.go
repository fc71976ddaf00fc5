package ioc

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
)

// The comparison benchmarks: our Index against a plain map[string][]Ref
// holding the same keys, the raw indicator strings, so that the map gets
// exact-match semantics for free (no subdomain walk, no parsing, no
// normalisation) and is looked up with exactly the query strings ours is.
//
//	go test -run '^$' -bench 'IOC1M' -benchtime 2s ./internal/detect/ioc/
//	SHIELDWALL_BENCH_10M=1 go test -run '^$' -bench 'IOC10M' ./internal/detect/ioc/
//
// The indicators are a quarter each of IPv4 addresses, domains, SHA-256
// digests and URLs (genMixed). Hits are drawn at random from the indexed
// values, misses from values of the same generator past the indexed ones,
// so both have the same mix of kinds; 2^20 distinct queries of each, so that
// the queries do not stay in cache either.
//
// Every indicator has its own source, as when each comes from its own STIX
// indicator: a "indicator--<uuid>" id, a name from a pool of 1,024 (feed and
// campaign names repeat), one of 8 label sets, a confidence and a
// valid_from with millisecond precision. Both sides hold the same Refs;
// ours stores them compactly and builds a Ref on a hit, the map holds them
// as they are.
//
// Variants: "ours" is Index.Lookup, which builds the Ref of a hit (one
// allocation); "contains" is Index.Contains, the same look-up without
// building Refs (the Matcher's path: it builds them only for alerts); "map"
// is the plain map; "floor" (interleaved only) reads and hashes the query
// string and nothing else, the least any hashed structure must do.
//
// Sub-benchmarks report thread CPU ns per look-up and look-ups per CPU
// second (one goroutine; wall-clock ns/op is also printed but means little
// on a loaded machine), and B/indicator: the heap growth (runtime.ReadMemStats,
// after GC) from building the structure, refs included. "interleaved"
// times each variant in short alternating slices and keeps its best, which
// compares them under the same load.

func BenchmarkIOC1M(b *testing.B) { benchCompare(b, 1_000_000) }

// BenchmarkIOC10M needs several GB; it runs only when -bench names it
// explicitly, or when SHIELDWALL_BENCH_10M=1 and not -short.
func BenchmarkIOC10M(b *testing.B) {
	named := false
	if f := flag.Lookup("test.bench"); f != nil {
		named = strings.Contains(f.Value.String(), "10M")
	}
	if !named && (testing.Short() || os.Getenv("SHIELDWALL_BENCH_10M") != "1") {
		b.Skip("10M indicators need GBs: name it in -bench, or set SHIELDWALL_BENCH_10M=1 without -short")
	}
	benchCompare(b, 10_000_000)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// query is a look-up of the benchmarks: the batch look-up's own type, so
// that both paths read the same staged queries.
type query = Query

var benchLabelSets = [][]string{
	{"malicious-activity"}, {"malicious-activity", "c2"}, {"phishing"}, {"malware", "dropper"},
	{"anonymization"}, {"compromised"}, {"attribution", "apt"}, {"benign"},
}

// benchRefs returns one source per indicator.
func benchRefs(n int) []Ref {
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprintf("Feed %d: campaign %d infrastructure", i%17, i)
	}
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	refs := make([]Ref, n)
	for i := range refs {
		x := mix(i, 99)
		refs[i] = Ref{
			ID:         fmt.Sprintf("indicator--%08x-%04x-4%03x-8%03x-%012x", uint32(x), uint16(x>>32), x>>48&0xfff, i&0xfff, uint64(i)),
			Name:       names[x%1024],
			Confidence: int(x>>20) % 101,
			Labels:     benchLabelSets[x>>40%8],
			ValidFrom:  base.Add(time.Duration(i)*7*time.Second + time.Duration(x%1000)*time.Millisecond),
		}
	}
	return refs
}

func benchCompare(b *testing.B, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	const nq = 1 << 20
	hits, misses := make([]query, nq), make([]query, nq)
	for i := range nq {
		k, v := genMixed(rng.IntN(n))
		hits[i] = query{k, v}
		k, v = genMixed(n + rng.IntN(n))
		misses[i] = query{k, v}
	}

	var ix *Index
	var oursBytes float64
	{
		before := heapInUse()
		refs := benchRefs(n)
		bld := NewBuilder(n)
		for i := range n {
			k, v := genMixed(i)
			if err := bld.Add(k, v, refs[i]); err != nil {
				b.Fatalf("Add(%v, %q) = %v", k, v, err)
			}
		}
		refs = nil
		var err error
		if ix, err = bld.Build(); err != nil {
			b.Fatalf("Build() = %v", err)
		}
		bld = nil
		// The filter, bucket table and records of a large index are
		// mapped outside the heap (Index.place): count the mapping.
		oursBytes = float64(heapInUse()-before+uint64(ix.mapped)) / float64(n)
		b.Logf("ours: %d indicators, %d sources, Bytes() %.1f B/indicator, heap + mapped %.1f B/indicator (mapped %d B)",
			ix.Len(), ix.Refs(), float64(ix.Bytes())/float64(n), oursBytes, ix.mapped)
	}
	b.Run("ours/hit", func(b *testing.B) { benchOurs(b, ix, hits, true, oursBytes) })
	b.Run("ours/miss", func(b *testing.B) { benchOurs(b, ix, misses, false, oursBytes) })
	b.Run("contains/hit", func(b *testing.B) { benchContains(b, ix, hits, true, oursBytes) })
	b.Run("contains/miss", func(b *testing.B) { benchContains(b, ix, misses, false, oursBytes) })

	var m map[string][]Ref
	var mapBytes float64
	{
		before := heapInUse()
		refs := benchRefs(n)
		m = make(map[string][]Ref)
		for i := range n {
			_, v := genMixed(i)
			m[v] = refs[i : i+1 : i+1]
		}
		refs = nil
		mapBytes = float64(heapInUse()-before) / float64(n)
		b.Logf("map: %d keys, heap %.1f B/indicator", len(m), mapBytes)
	}
	b.Run("map/hit", func(b *testing.B) { benchMap(b, m, hits, true, mapBytes) })
	b.Run("map/miss", func(b *testing.B) { benchMap(b, m, misses, false, mapBytes) })
	b.Run("interleaved", func(b *testing.B) { benchInterleaved(b, ix, m, hits, misses, false) })
	b.Run("interleaved-hot", func(b *testing.B) { benchInterleaved(b, ix, m, hits, misses, true) })
	runtime.KeepAlive(ix)
	runtime.KeepAlive(m)
}

// benchInterleaved times every variant in short alternating slices and
// keeps each one's best (thread CPU ns per look-up): on a shared, loaded
// machine this compares them under the same conditions.
//
// With hot false ("interleaved") each look-up reads its query string where
// the generator left it, scattered over the heap: a cold DRAM read before
// any structure is probed, and 2^20 such strings streamed through the
// cache evict the filter as well. With hot true ("interleaved-hot") the
// queries of each slice are first copied, untimed, into a small reused
// arena (hotBatch queries, about 40 KB), as an input's decoder leaves the
// field values of the event it just decoded: every variant, the map and
// the floor included, then reads its query from L1/L2. The queries are
// still drawn at random from the same 2^20 (no query is repeated within a
// window, nothing about a result is cached), so the structure's own reads
// are as cold as before; only the query strings are not.
func benchInterleaved(b *testing.B, ix *Index, m map[string][]Ref, hits, misses []query, hot bool) {
	type variant struct {
		name string
		qs   []query
		run  func(qs []query) // looks every query of qs up
	}
	each := func(f func(q query) bool) func([]query) {
		return func(qs []query) {
			for _, q := range qs {
				f(q)
			}
		}
	}
	ours := each(func(q query) bool { _, ok := ix.Lookup(q.Kind, q.Value); return ok })
	contains := each(func(q query) bool { return ix.Contains(q.Kind, q.Value) })
	plain := each(func(q query) bool { _, ok := m[q.Value]; return ok })
	// floor: read and hash the query string, the least any hashed
	// structure must do.
	floor := each(func(q query) bool { return xxhash.Sum64String(q.Value) == 0 })
	// batch: ContainsBatch over the queries an input hands over at once
	// (the Matcher's batch path); the map has no such API, a Go map
	// looks one key up at a time.
	out := make([]bool, hotBatch)
	batch := func(qs []query) {
		for len(qs) > 0 {
			n := min(len(qs), len(out))
			ix.ContainsBatch(qs[:n], out)
			qs = qs[n:]
		}
	}
	vs := []variant{
		{"ours-hit-ns", hits, ours}, {"ours-miss-ns", misses, ours},
		{"contains-hit-ns", hits, contains}, {"contains-miss-ns", misses, contains},
		{"batch-hit-ns", hits, batch}, {"batch-miss-ns", misses, batch},
		{"map-hit-ns", hits, plain}, {"map-miss-ns", misses, plain},
		{"floor-ns", misses, floor},
	}
	best := make([]float64, len(vs))
	// IOC_SLICE=N sets the look-ups per slice (a power of two) and
	// IOC_ONLY=s[,s...] keeps only the variants whose name holds one of
	// the s, to study some variants alone.
	slice := 8192
	if v, err := strconv.Atoi(os.Getenv("IOC_SLICE")); err == nil && v > 0 && v&(v-1) == 0 && v <= len(hits) {
		slice = v
	}
	if f := os.Getenv("IOC_ONLY"); f != "" {
		keep := strings.Split(f, ",")
		vs = slices.DeleteFunc(vs, func(v variant) bool {
			return !slices.ContainsFunc(keep, func(s string) bool { return strings.Contains(v.name, s) })
		})
		best = best[:len(vs)]
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var st stager
	// The timer's own cost, subtracted from each hot measurement (which
	// reads it slice/hotBatch times).
	var timerNs time.Duration
	if hot {
		t0 := threadCPU()
		for range 1024 {
			threadCPU()
		}
		timerNs = (threadCPU() - t0) / 1024
	}
	// Each slice reads its own window of queries: were the variants to
	// share one, all but the first would find the query strings (and the
	// lines of the index the one before touched) already in cache. The
	// cold variant reads the window where it lies (a contiguous run of
	// the 2^20 queries, whose strings are scattered over the heap).
	w := 0
	for b.Loop() {
		for range 24 {
			for vi, v := range vs {
				var cpu time.Duration
				if hot {
					for j := 0; j < slice; j += hotBatch {
						qs := st.stage(v.qs, w*slice+j)
						start := threadCPU()
						v.run(qs)
						cpu += threadCPU() - start - timerNs
					}
				} else {
					at := (w * slice) & (len(v.qs) - 1)
					start := threadCPU()
					v.run(v.qs[at : at+slice])
					cpu = threadCPU() - start
				}
				ns := float64(cpu.Nanoseconds()) / float64(slice)
				w++
				if best[vi] == 0 || ns < best[vi] {
					best[vi] = ns
				}
			}
		}
	}
	for vi, v := range vs {
		b.ReportMetric(best[vi], v.name)
	}
	b.ReportMetric(0, "ns/op")
}

// hotBatch is the number of queries staged at a time in the hot variant.
const hotBatch = 1024

// stager copies batches of queries into one reused arena.
type stager struct {
	arena []byte
	qs    []query
}

// stage copies the hotBatch queries of qs from index at (wrapping) into the
// arena and returns them.
func (s *stager) stage(qs []query, at int) []query {
	if s.arena == nil {
		s.arena = make([]byte, 0, hotBatch*160)
		s.qs = make([]query, hotBatch)
	}
	s.arena = s.arena[:0]
	for i := range hotBatch {
		q := qs[(at+i)&(len(qs)-1)]
		if len(s.arena)+len(q.Value) > cap(s.arena) {
			panic("stager: arena too small")
		}
		off := len(s.arena)
		s.arena = append(s.arena, q.Value...)
		s.qs[i] = query{q.Kind, stringOf(s.arena[off:])}
	}
	return s.qs
}

func benchOurs(b *testing.B, ix *Index, qs []query, wantHit bool, bytesPer float64) {
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	i := 0
	for b.Loop() {
		q := qs[i&(len(qs)-1)]
		if _, ok := ix.Lookup(q.Kind, q.Value); ok != wantHit {
			b.Fatalf("Lookup(%v, %q) = %v, want %v", q.Kind, q.Value, ok, wantHit)
		}
		i++
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/lookup")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
	b.ReportMetric(bytesPer, "B/indicator")
}

func benchMap(b *testing.B, m map[string][]Ref, qs []query, wantHit bool, bytesPer float64) {
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	i := 0
	for b.Loop() {
		q := qs[i&(len(qs)-1)]
		if _, ok := m[q.Value]; ok != wantHit {
			b.Fatalf("map[%q] = %v, want %v", q.Value, ok, wantHit)
		}
		i++
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/lookup")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
	b.ReportMetric(bytesPer, "B/indicator")
}

// BenchmarkLookupKinds times Contains per kind in a small (cache-resident)
// index: the cost of normalisation and probing without memory stalls.
func BenchmarkLookupKinds(b *testing.B) {
	const n = 1 << 14
	bld := NewBuilder(n)
	for i := range n {
		k, v := genMixed(i)
		if err := bld.Add(k, v, Ref{ID: "indicator--x"}); err != nil {
			b.Fatal(err)
		}
	}
	ix, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	for kind := range 4 {
		for _, hit := range []bool{true, false} {
			k, _ := genMixed(kind)
			name := fmt.Sprintf("%v/hit=%v", k, hit)
			b.Run(name, func(b *testing.B) {
				var qs []string
				for i := kind; len(qs) < 1024; i += 4 {
					j := i
					if !hit {
						j += n
					}
					_, v := genMixed(j)
					qs = append(qs, v)
				}
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := threadCPU()
				i := 0
				for b.Loop() {
					if ok := ix.Contains(k, qs[i&1023]); ok != hit {
						b.Fatalf("Contains(%v, %q) = %v, want %v", k, qs[i&1023], ok, hit)
					}
					i++
				}
				b.ReportMetric(float64((threadCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/lookup")
			})
		}
	}
}

// BenchmarkCanonicalForm times the checks that a query is already in
// canonical form (so that it is hashed where it lies), per kind, on the
// benchmark's generated values: 1,024 of each, in cache.
func BenchmarkCanonicalForm(b *testing.B) {
	for kind := range 4 {
		k, _ := genMixed(kind)
		var qs []string
		for i := kind; len(qs) < 1024; i += 4 {
			_, v := genMixed(i)
			qs = append(qs, v)
		}
		b.Run(k.String(), func(b *testing.B) {
			n := 0
			for b.Loop() {
				for _, q := range qs {
					switch k {
					case IPv4:
						n += b2i(ipv4Chars(q))
					case Domain:
						_, ok := plainDomain(q)
						n += b2i(ok)
					case URL:
						n += b2i(canonicalURL(q))
					default:
						n += b2i(len(q) == 2*k.hashLen())
					}
				}
			}
			if n != b.N*len(qs) {
				b.Fatalf("%d of %d %v values found canonical, want all", n, b.N*len(qs), k)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(qs)), "ns/value")
		})
	}
}

func benchContains(b *testing.B, ix *Index, qs []query, wantHit bool, bytesPer float64) {
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	i := 0
	for b.Loop() {
		q := qs[i&(len(qs)-1)]
		if ok := ix.Contains(q.Kind, q.Value); ok != wantHit {
			b.Fatalf("Contains(%v, %q) = %v, want %v", q.Kind, q.Value, ok, wantHit)
		}
		i++
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/lookup")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
	b.ReportMetric(bytesPer, "B/indicator")
}
