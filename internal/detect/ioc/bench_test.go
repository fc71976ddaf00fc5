package ioc

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

// The comparison benchmarks: our Index against a plain map[string][]Ref
// holding the same keys (the normalised text, so the map gets exact-match
// semantics for free: no subdomain walk, no parsing, no verification).
//
//	go test -run '^$' -bench 'IOC1M' -benchtime 2s ./internal/detect/ioc/
//	SHIELDWALL_BENCH_10M=1 go test -run '^$' -bench 'IOC10M' ./internal/detect/ioc/
//
// Sub-benchmarks report thread CPU ns per look-up and look-ups per CPU
// second (one goroutine; wall-clock ns/op is also printed but means little on
// a loaded machine), and B/indicator: the heap
// growth (runtime.ReadMemStats, after GC) from building the structure,
// refs included. Values are shared 16 to a ref (as an indicator's IN list
// would); see the report for the cost of one ref per value.

const valuesPerRef = 16

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

type query struct {
	kind  Kind
	value string
}

func benchRefs(n int) []Ref {
	refs := make([]Ref, (n+valuesPerRef-1)/valuesPerRef)
	for i := range refs {
		refs[i] = Ref{ID: fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", i, i), Name: fmt.Sprintf("feed entry %d", i), Confidence: 80}
	}
	return refs
}

func benchCompare(b *testing.B, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Many distinct queries, so that the hot set does not stay in cache.
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
			if err := bld.Add(k, v, refs[i/valuesPerRef]); err != nil {
				b.Fatalf("Add(%v, %q) = %v", k, v, err)
			}
		}
		refs = nil
		var err error
		if ix, err = bld.Build(); err != nil {
			b.Fatalf("Build() = %v", err)
		}
		bld = nil
		oursBytes = float64(heapInUse()-before) / float64(n)
		b.Logf("ours: %d indicators, Bytes() %.1f B/indicator, heap %.1f B/indicator", ix.Len(), float64(ix.Bytes())/float64(n), oursBytes)
	}
	b.Run("ours/hit", func(b *testing.B) { benchOurs(b, ix, hits, true, oursBytes) })
	b.Run("ours/miss", func(b *testing.B) { benchOurs(b, ix, misses, false, oursBytes) })

	var m, mn map[string][]Ref
	var mapBytes, mnBytes float64
	{
		before := heapInUse()
		refs := benchRefs(n)
		m = make(map[string][]Ref)
		for i := range n {
			k, v := genMixed(i)
			if k == SHA256 {
				v = strings.ToLower(v)
			}
			m[v] = refs[i/valuesPerRef : i/valuesPerRef+1]
		}
		refs = nil
		mapBytes = float64(heapInUse()-before) / float64(n)
		b.Logf("map: %d keys, heap %.1f B/indicator", len(m), mapBytes)
	}
	b.Run("map/hit", func(b *testing.B) { benchMap(b, m, hits, true, mapBytes) })
	b.Run("map/miss", func(b *testing.B) { benchMap(b, m, misses, false, mapBytes) })

	// The same map keyed by kind and canonical bytes, looked up after the
	// same normalisation and subdomain walk as ours: the data structures
	// alone compared.
	{
		before := heapInUse()
		refs := benchRefs(n)
		mn = make(map[string][]Ref)
		for i := range n {
			k, v := genMixed(i)
			key, err := canonical([]byte{byte(k)}, k, v)
			if err != nil {
				b.Fatal(err)
			}
			mn[string(key)] = refs[i/valuesPerRef : i/valuesPerRef+1]
		}
		refs = nil
		mnBytes = float64(heapInUse()-before) / float64(n)
		b.Logf("canonical map: %d keys, heap %.1f B/indicator", len(mn), mnBytes)
	}
	b.Run("mapnorm/hit", func(b *testing.B) { benchMapNorm(b, mn, hits, true, mnBytes) })
	b.Run("mapnorm/miss", func(b *testing.B) { benchMapNorm(b, mn, misses, false, mnBytes) })
	b.Run("interleaved", func(b *testing.B) { benchInterleaved(b, ix, m, mn, hits, misses) })
	runtime.KeepAlive(ix)
	runtime.KeepAlive(m)
	runtime.KeepAlive(mn)
}

// benchInterleaved times every variant in short alternating slices and
// keeps each one's best (thread CPU ns per look-up): on a shared, loaded
// machine this compares them under the same conditions.
func benchInterleaved(b *testing.B, ix *Index, m, mn map[string][]Ref, hits, misses []query) {
	type variant struct {
		name string
		qs   []query
		f    func(q query) bool
	}
	ours := func(q query) bool { _, ok := ix.Lookup(q.kind, q.value); return ok }
	plain := func(q query) bool { _, ok := m[q.value]; return ok }
	norm := func(q query) bool { return mapNormLookup(mn, q.kind, q.value) }
	vs := []variant{
		{"ours-hit-ns", hits, ours}, {"ours-miss-ns", misses, ours},
		{"map-hit-ns", hits, plain}, {"map-miss-ns", misses, plain},
		{"mapnorm-hit-ns", hits, norm}, {"mapnorm-miss-ns", misses, norm},
	}
	best := make([]float64, len(vs))
	const slice = 8192
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for b.Loop() {
		for round := range 24 {
			for vi, v := range vs {
				start := threadCPU()
				for i := range slice {
					v.f(v.qs[(round*slice+i)&(len(v.qs)-1)])
				}
				ns := float64((threadCPU() - start).Nanoseconds()) / slice
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

func mapNormLookup(m map[string][]Ref, k Kind, v string) bool {
	var buf scratch
	key, err := canonical(append(buf[:0], byte(k)), k, v)
	if err != nil {
		return false
	}
	if k != Domain {
		_, ok := m[string(key)]
		return ok
	}
	found := false
	for s := key[1:]; len(s) > 0; {
		copy(key[1:], s)
		if _, ok := m[string(key[:1+len(s)])]; ok {
			found = true
		}
		i := strings.IndexByte(string(s), '.')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	return found
}

func benchMapNorm(b *testing.B, m map[string][]Ref, qs []query, wantHit bool, bytesPer float64) {
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	i := 0
	for b.Loop() {
		q := qs[i&(len(qs)-1)]
		if ok := mapNormLookup(m, q.kind, q.value); ok != wantHit {
			b.Fatalf("mapNormLookup(%v, %q) = %v, want %v", q.kind, q.value, ok, wantHit)
		}
		i++
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/lookup")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
	b.ReportMetric(bytesPer, "B/indicator")
}

func benchOurs(b *testing.B, ix *Index, qs []query, wantHit bool, bytesPer float64) {
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	i := 0
	for b.Loop() {
		q := qs[i&(len(qs)-1)]
		if _, ok := ix.Lookup(q.kind, q.value); ok != wantHit {
			b.Fatalf("Lookup(%v, %q) = %v, want %v", q.kind, q.value, ok, wantHit)
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
		if _, ok := m[q.value]; ok != wantHit {
			b.Fatalf("map[%q] = %v, want %v", q.value, ok, wantHit)
		}
		i++
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/lookup")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
	b.ReportMetric(bytesPer, "B/indicator")
}

// BenchmarkLookupKinds times look-ups per kind in a small (cache-resident)
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
				i := 0
				for b.Loop() {
					if _, ok := ix.Lookup(k, qs[i&1023]); ok != hit {
						b.Fatalf("Lookup(%v, %q) = %v, want %v", k, qs[i&1023], ok, hit)
					}
					i++
				}
			})
		}
	}
}
