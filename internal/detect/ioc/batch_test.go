package ioc

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// batchHit is one hit of a query, as the batch and the single look-up
// report it.
type batchHit struct {
	q       int
	v       uint32
	matched string
}

// agree checks that lookupBatch and ContainsBatch report for qs exactly
// what lookup and Contains report one query at a time.
func agree(t *testing.T, ix *Index, qs []Query) {
	t.Helper()
	var want []batchHit
	for i, q := range qs {
		for _, h := range ix.lookup(nil, q.Kind, q.Value) {
			want = append(want, batchHit{i, h.v, h.matched})
		}
	}
	var got []batchHit
	var b batcher
	ix.lookupBatch(&b, qs, func(q int, h hit) { got = append(got, batchHit{q, h.v, h.matched}) }, nil)
	order := func(x, y batchHit) int {
		return cmp.Or(cmp.Compare(x.q, y.q), cmp.Compare(x.v, y.v), strings.Compare(x.matched, y.matched))
	}
	slices.SortFunc(want, order)
	slices.SortFunc(got, order)
	if !slices.Equal(got, want) {
		t.Fatalf("lookupBatch hits differ from lookup's:\n got %v\nwant %v", got, want)
	}
	out := make([]bool, len(qs))
	ix.ContainsBatch(qs, out)
	for i, q := range qs {
		if single := ix.Contains(q.Kind, q.Value); out[i] != single {
			t.Fatalf("ContainsBatch: query %d (%v %q) = %v, Contains = %v", i, q.Kind, q.Value, out[i], single)
		}
	}
}

// TestBatchAgreesWithSingle runs every query of TestLookup, the slow-path
// forms (upper case, zones, non-canonical URLs, deep domains) and 20,000
// hits and misses of a mapped index through the batch look-up, in batches
// of every size, and compares each answer with the single look-up's.
func TestBatchAgreesWithSingle(t *testing.T) {
	ix := testIndex(t)
	qs := []Query{
		{IPv4, "198.51.100.7"}, {IPv4, "198.51.100.8"}, {IPv4, "203.0.113.200"}, {IPv4, "203.0.114.1"},
		{IPv4, "198.051.100.7"}, {IPv4, " 198.51.100.7"}, {IPv4, "::ffff:198.51.100.7"}, {IPv4, "300.1.1.1"},
		{IPv6, "2001:DB8::DEAD"}, {IPv6, "2001:db8:1:ffff::1"}, {IPv6, "2001:db8:2::1"},
		{Domain, "evil.com"}, {Domain, "A.B.EVIL.com"}, {Domain, "a.b.evil.com"}, {Domain, "notevil.com"},
		{Domain, "com"}, {Domain, "evil.com."}, {Domain, strings.Repeat("x.", 40) + "evil.com"},
		{URL, "http://bad.example/x%2Fy"}, {URL, "http://bad.example/x/y"}, {URL, "HTTP://BAD.example/x%2fy"},
		{Email, "phish@bad.example"}, {Email, "Phish@Bad.Example"},
		{MD5, "d41d8cd98f00b204e9800998ecf8427e"}, {MD5, "D41D8CD98F00B204E9800998ECF8427E"},
		{MD5, " d41d8cd98f00b204e9800998ecf8427e "}, {MD5, "not hex"}, {MD5, strings.Repeat("zz", 16)},
		{SHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"},
		{SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856"},
		{SHA512, strings.Repeat("AB", 64)}, {Kind(0), "x"}, {Kind(99), "x"}, {Domain, ""},
	}
	found := make([]bool, len(qs))
	ix.ContainsBatch(qs, found)
	if hits := len(found) - len(slices.DeleteFunc(found, func(h bool) bool { return h })); hits < 15 {
		t.Fatalf("ContainsBatch found %d of the queries that should hit, want at least 15", hits)
	}
	for n := 1; n <= len(qs); n++ {
		for i := 0; i+n <= len(qs); i += n {
			agree(t, ix, qs[i:i+n])
		}
	}

	const n = 20_000
	b := NewBuilder(n)
	b.minMapped = 1
	refs := benchRefs(n)
	for i := range n {
		k, v := genMixed(i)
		if err := b.Add(k, v, refs[i]); err != nil {
			t.Fatalf("Add(%v, %q) = %v", k, v, err)
		}
	}
	// a network and parent domains, so that batches mix every path
	for _, v := range []string{"10.0.0.0/8", "192.0.2.0/24"} {
		if err := b.Add(IPv4, v, Ref{ID: "indicator--net"}); err != nil {
			t.Fatal(err)
		}
	}
	big, err := b.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	var mixed []Query
	for i := range n {
		k, v := genMixed(i)
		mixed = append(mixed, Query{k, v})
		k, v = genMixed(n + i)
		mixed = append(mixed, Query{k, v})
		if i%97 == 0 {
			mixed = append(mixed, Query{IPv4, fmt.Sprintf("10.%d.%d.1", i%256, i/256%256)}, Query{Domain, "www." + genDomain(i+1)})
		}
	}
	agree(t, big, mixed)
	// and every indexed value is found (agree alone would pass were both
	// paths to miss)
	var indexed []Query
	for i := range n {
		k, v := genMixed(i)
		indexed = append(indexed, Query{k, v})
	}
	out := make([]bool, n)
	big.ContainsBatch(indexed, out)
	if i := slices.Index(out, false); i >= 0 {
		t.Fatalf("ContainsBatch missed indexed value %v %q", indexed[i].Kind, indexed[i].Value)
	}
}

// TestBatchDoesNotAllocate checks that a batch of misses and hits costs no
// allocation.
func TestBatchDoesNotAllocate(t *testing.T) {
	ix := testIndex(t)
	qs := []Query{{IPv4, "198.51.100.8"}, {Domain, "a.b.evil.com"}, {SHA256, strings.Repeat("0", 64)}, {URL, "http://x.example/"}}
	out := make([]bool, len(qs))
	if n := testing.AllocsPerRun(100, func() { ix.ContainsBatch(qs, out) }); n != 0 {
		t.Errorf("ContainsBatch allocates %v times a call, want 0", n)
	}
}

func FuzzLookupBatch(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s[0], s[1], s[1])
	}
	f.Fuzz(func(t *testing.T, kindName, value, query string) {
		k, err := ParseKind(kindName)
		if err != nil {
			k = Kind(len(kindName) % int(numKinds))
		}
		b := NewBuilder(0)
		_ = b.Add(k, value, Ref{ID: "indicator--fuzz"})
		_ = b.Add(Domain, "evil.com", Ref{ID: "indicator--d"})
		_ = b.Add(IPv4, "10.0.0.0/8", Ref{ID: "indicator--n"})
		ix, err := b.Build()
		if err != nil {
			t.Fatalf("Build() = %v", err)
		}
		agree(t, ix, []Query{{k, value}, {k, query}, {Domain, query}, {IPv4, query}, {k, strings.ToUpper(query)}})
	})
}
