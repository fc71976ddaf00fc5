package ioc

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP://Example.COM:80/a%7eb?q=%2f#frag", "http://example.com/a~b?q=%2F"},
		{"https://example.com:443", "https://example.com/"},
		{"https://example.com:8443/x", "https://example.com:8443/x"},
		{"http://example.com.:080?x=1", "http://example.com/?x=1"},
		{"http://user@Host.example/p a", "http://user@host.example/p%20a"},
		{"http://[2001:DB8::1]:80/", "http://[2001:db8::1]/"},
		{"http://h/%zz%41", "http://h/%25zzA"},
		{"ftp://h:21/f", "ftp://h/f"},
		{"HtTpS://EVIL.example/Path/Case", "https://evil.example/Path/Case"},
	}
	for _, tt := range tests {
		got, err := NormalizeURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeURL(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "example.com/x", "http://", "http://h:99999/", "http://h:x/", "http://[::1/", "http://a b/", "://h"} {
		if got, err := NormalizeURL(bad); err == nil {
			t.Errorf("NormalizeURL(%q) = %q, nil, want an error", bad, got)
		}
	}
}

func TestAddRefuses(t *testing.T) {
	tests := []struct {
		kind  Kind
		value string
	}{
		{IPv4, "1.2.3"}, {IPv4, "::1"}, {IPv6, "1.2.3.4"}, {IPv4, "10.0.0.0/33"}, {IPv6, "10.0.0.0/8"},
		{Domain, "a..b"}, {Domain, "exa mple.com"}, {Domain, strings.Repeat("a", 64) + ".com"},
		{URL, "not a url"}, {Email, "nobody"}, {Email, "@x.com"},
		{MD5, "abc"}, {SHA1, strings.Repeat("g", 40)}, {SHA256, strings.Repeat("a", 63)},
		{SHA512, ""}, {KindInvalid, "x"},
	}
	b := NewBuilder(0)
	for _, tt := range tests {
		err := b.Add(tt.kind, tt.value, Ref{ID: "x"})
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrEmpty) {
			t.Errorf("Add(%v, %q) = %v, want ErrInvalid or ErrEmpty", tt.kind, tt.value, err)
		}
	}
	if b.Len() != 0 {
		t.Errorf("Len() = %d after refused values, want 0", b.Len())
	}
}

func testIndex(t *testing.T) *Index {
	t.Helper()
	b := NewBuilder(0)
	adds := []struct {
		kind  Kind
		value string
		id    string
	}{
		{IPv4, "198.51.100.7", "indicator--1"},
		{IPv4, "203.0.113.0/24", "indicator--2"},
		{IPv6, "2001:db8::dead", "indicator--3"},
		{IPv6, "2001:db8:1::/48", "indicator--4"},
		{Domain, "Evil.COM.", "indicator--5"},
		{Domain, "evil.com", "indicator--6"}, // same value, second source
		{URL, "HTTP://Bad.example:80/x%2fy#f", "indicator--7"},
		{Email, "Phish@Bad.Example", "indicator--8"},
		{MD5, "D41D8CD98F00B204E9800998ECF8427E", "indicator--9"},
		{SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "indicator--10"},
		{SHA256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "indicator--11"},
		{SHA512, strings.Repeat("ab", 64), "indicator--12"},
		{IPv4, "198.51.100.7/32", "indicator--13"}, // a host route is an exact value
	}
	for _, a := range adds {
		if err := b.Add(a.kind, a.value, Ref{ID: a.id, Confidence: -1}); err != nil {
			t.Fatalf("Add(%v, %q) = %v", a.kind, a.value, err)
		}
	}
	ix, err := b.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	return ix
}

func TestLookup(t *testing.T) {
	ix := testIndex(t)
	tests := []struct {
		kind  Kind
		value string
		want  []string // ids, nil for a miss
	}{
		{IPv4, "198.51.100.7", []string{"indicator--1", "indicator--13"}},
		{IPv4, "198.51.100.8", nil},
		{IPv4, "203.0.113.200", []string{"indicator--2"}},
		{IPv4, "203.0.114.1", nil},
		{IPv6, "2001:DB8::DEAD", []string{"indicator--3"}},
		{IPv6, "2001:db8:1:ffff::1", []string{"indicator--4"}},
		{IPv6, "2001:db8:2::1", nil},
		{IPv4, "::ffff:198.51.100.7", []string{"indicator--1", "indicator--13"}}, // v4-mapped is unmapped
		{Domain, "evil.com", []string{"indicator--5", "indicator--6"}},
		{Domain, "A.B.EVIL.com", []string{"indicator--5", "indicator--6"}},
		{Domain, "notevil.com", nil},
		{Domain, "com", nil},
		{URL, "http://bad.example/x%2Fy", []string{"indicator--7"}},
		{URL, "http://bad.example/x/y", nil},
		{Email, "phish@bad.example", []string{"indicator--8"}},
		{MD5, "d41d8cd98f00b204e9800998ecf8427e", []string{"indicator--9"}},
		{SHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", []string{"indicator--10"}},
		{SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", []string{"indicator--11"}},
		{SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856", nil},
		{SHA512, strings.Repeat("AB", 64), []string{"indicator--12"}},
		{MD5, "not hex", nil},
	}
	for _, tt := range tests {
		refs, ok := ix.Lookup(tt.kind, tt.value)
		var got []string
		for _, r := range refs {
			got = append(got, r.ID)
		}
		if ok != (tt.want != nil) || !cmp.Equal(got, tt.want) {
			t.Errorf("Lookup(%v, %q) = %v, %v, want %v", tt.kind, tt.value, got, ok, tt.want)
		}
	}
	if got, want := ix.Len(), 11; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if ix.Bytes() <= 0 {
		t.Errorf("Bytes() = %d, want > 0", ix.Bytes())
	}
}

func TestLookupEmptyIndex(t *testing.T) {
	ix, err := NewBuilder(0).Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	if refs, ok := ix.Lookup(Domain, "evil.com"); ok {
		t.Errorf("Lookup on empty index = %v, true, want a miss", refs)
	}
	var nilIx *Index
	if hits := nilIx.lookup(nil, Domain, "x.com"); len(hits) != 0 {
		t.Errorf("lookup on nil index = %v, want none", hits)
	}
}

func TestLookupMissesDoNotAllocate(t *testing.T) {
	ix := testIndex(t)
	values := []struct {
		kind  Kind
		value string
	}{
		{IPv4, "192.0.2.1"}, {Domain, "www.example.org"}, {SHA256, strings.Repeat("0", 64)},
		{URL, "http://example.org/some/path?q=1"},
		// not in canonical form: normalised on the stack
		{IPv4, " 192.0.2.1"}, {IPv4, "::ffff:192.0.2.1"}, {IPv6, "2001:db8::beef"}, {Domain, "WWW.Example.ORG."},
		{URL, "HTTP://Example.org:80/some/%7epath#x"}, {MD5, " D41D8CD98F00B204E9800998ECF8427F "},
		{Email, "Someone@Example.org"},
		// hits: Contains builds no Ref
		{IPv4, "198.51.100.7"}, {Domain, "evil.com"}, {SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{Domain, "a.b.evil.com"}, // a parent domain
	}
	for _, v := range values {
		n := testing.AllocsPerRun(100, func() {
			_ = ix.Contains(v.kind, v.value)
		})
		if n != 0 {
			t.Errorf("Contains(%v, %q) allocates %v times, want 0", v.kind, v.value, n)
		}
	}
}

// TestManyKeys checks every key of a larger index is found and others are
// not, across many buckets.
func TestManyKeys(t *testing.T) {
	const n = 50000
	b := NewBuilder(n)
	for i := range n {
		if err := b.Add(Domain, genDomain(i), Ref{ID: "indicator--many"}); err != nil {
			t.Fatalf("Add(%q) = %v", genDomain(i), err)
		}
	}
	ix, err := b.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	for i := range n {
		if _, ok := ix.Lookup(Domain, genDomain(i)); !ok {
			t.Fatalf("Lookup(%q) missed an indexed domain", genDomain(i))
		}
	}
	for i := n; i < 2*n; i++ {
		if refs, ok := ix.Lookup(Domain, genDomain(i)); ok {
			t.Fatalf("Lookup(%q) = %v, want a miss", genDomain(i), refs)
		}
	}
}

// TestLookupHexFolding checks that digests match in either case but that
// bytes which fold onto hex digits (as the filter's hash folds them) do not.
func TestLookupHexFolding(t *testing.T) {
	const d = "d41d8cd98f00b204e9800998ecf8427e"
	b := NewBuilder(0)
	if err := b.Add(MD5, d, Ref{ID: "indicator--md5"}); err != nil {
		t.Fatalf("Add() = %v", err)
	}
	ix, err := b.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	for _, q := range []string{d, strings.ToUpper(d), " " + d + " ", "D41d8Cd98f00b204e9800998ecf8427E"} {
		if !ix.Contains(MD5, q) {
			t.Errorf("Contains(MD5, %q) = false, want true", q)
		}
	}
	bad := []byte(d)
	bad[1] = '4' &^ 0x20 // 0x14 folds onto '4'
	for _, q := range []string{string(bad), d[:31] + "g", d[:31] + "\x05"} {
		if ix.Contains(MD5, q) {
			t.Errorf("Contains(MD5, %q) = true, want false", q)
		}
	}
}

// TestLongRecords checks buckets holding records longer than 255 bytes
// (written in the long form) beside short ones.
func TestLongRecords(t *testing.T) {
	const n = 4000
	b := NewBuilder(n)
	val := func(i int) (Kind, string) {
		if i%3 == 0 {
			return URL, fmt.Sprintf("http://long.example/%d/%s", i, strings.Repeat("x", 200+i%300))
		}
		return genMixed(i)
	}
	for i := range n {
		k, v := val(i)
		if err := b.Add(k, v, Ref{ID: fmt.Sprintf("indicator--%d", i), Name: strings.Repeat("n", i%200)}); err != nil {
			t.Fatalf("Add(%v, %q) = %v", k, v, err)
		}
	}
	ix, err := b.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	for i := range n {
		k, v := val(i)
		refs, ok := ix.Lookup(k, v)
		if !ok || len(refs) != 1 || refs[0].ID != fmt.Sprintf("indicator--%d", i) {
			t.Fatalf("Lookup(%v, %q) = %v, %v, want indicator--%d", k, v, refs, ok, i)
		}
	}
	for i := n; i < 2*n; i++ {
		if k, v := val(i); ix.Contains(k, v) {
			t.Fatalf("Contains(%v, %q) = true, want a miss", k, v)
		}
	}
}

// TestParentDomainMatched checks the indicator value reported for a
// parent-domain hit, from the fast path and from the normalising one.
func TestParentDomainMatched(t *testing.T) {
	ix := testIndex(t)
	for _, q := range []string{"a.b.evil.com", "A.B.Evil.COM."} {
		hits := ix.lookup(nil, Domain, q)
		if len(hits) != 1 || hits[0].matched != "evil.com" {
			t.Errorf("lookup(Domain, %q) = %+v, want one hit matching evil.com", q, hits)
		}
	}
	if hits := ix.lookup(nil, Domain, "evil.com"); len(hits) != 1 || hits[0].matched != "" {
		t.Errorf("lookup(Domain, evil.com) = %+v, want one exact hit", hits)
	}
}

// TestMappedIndex checks an index whose arrays are mapped with huge pages
// outside the heap (as large ones are; this one is mapped however small),
// while indexes are swapped and collected under concurrent look-ups (the
// mapping of one is released only once no look-up can read it).
func TestMappedIndex(t *testing.T) {
	const n = 20_000
	refs := benchRefs(n)
	build := func() *Index {
		b := NewBuilder(n)
		b.minMapped = 1
		for i := range n {
			k, v := genMixed(i)
			if err := b.Add(k, v, refs[i]); err != nil {
				t.Fatalf("Add(%v, %q) = %v", k, v, err)
			}
		}
		ix, err := b.Build()
		if err != nil {
			t.Fatalf("Build() = %v", err)
		}
		return ix
	}
	ix := build()
	if runtime.GOOS == "linux" && ix.mapped == 0 {
		t.Fatalf("an index of %d bytes was not mapped", ix.Bytes())
	}
	for i := range n {
		k, v := genMixed(i)
		got, ok := ix.Lookup(k, v)
		if !ok || len(got) != 1 || got[0].ID != refs[i].ID || !got[0].ValidFrom.Equal(refs[i].ValidFrom) {
			t.Fatalf("Lookup(%v, %q) = %v, %v, want %v", k, v, got, ok, refs[i])
		}
		if k, v := genMixed(n + i); ix.Contains(k, v) {
			t.Fatalf("Contains(%v, %q) = true for a value not indexed", k, v)
		}
	}
	m := NewMatcher(ix, nil, nil)
	ix = nil
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		found := 0
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- found
				return
			default:
			}
			k, v := genMixed(i % n)
			if m.Index().Contains(k, v) {
				found++
			}
		}
	}()
	for range 2 {
		m.Swap(build()) // the one before is now unreachable but for look-ups in flight
		runtime.GC()
		runtime.GC()
	}
	close(stop)
	if found := <-done; found == 0 {
		t.Fatal("no look-up found an indexed value while indexes were swapped")
	}
}
