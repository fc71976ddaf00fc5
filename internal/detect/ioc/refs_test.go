package ioc

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRefRoundTrip(t *testing.T) {
	day := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	refs := []Ref{
		{},
		{ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Name: "Evil C2", Confidence: 90,
			Labels: []string{"malicious-activity", "c2"}, ValidFrom: day, ValidUntil: day.AddDate(1, 0, 0)},
		{ID: "x509-certificate--00000000-0000-4000-8000-000000000000", Confidence: -1},
		{ID: "indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F", Confidence: 100}, // upper case: kept as a string
		{ID: "indicator--1", Confidence: 254, ValidFrom: day.Add(123 * time.Millisecond)},
		{ID: "x-custom--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Confidence: -2000, ValidUntil: day.Add(7)},
		{ID: "observed-data--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Confidence: 1 << 40,
			ValidFrom: time.Date(1970, 1, 1, 0, 0, 0, 1, time.UTC), ValidUntil: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3", Name: "short uuid", Labels: []string{"c2", "malicious-activity"}},
	}
	var tab strTable
	var data []byte
	offs := make([]int, len(refs))
	for i := range refs {
		offs[i] = len(data)
		data = tab.appendRef(data, &refs[i])
	}
	rr := refReader{strs: tab.strs, sets: tab.sets}
	for i, want := range refs {
		b := data[offs[i]:]
		if got := refsLen(b); i+1 < len(refs) && got != offs[i+1]-offs[i] || i+1 == len(refs) && got != len(b) {
			t.Errorf("refsLen(ref %d) = %d, want %d", i, got, len(b))
		}
		for _, idb := range []*idBuf{nil, new(idBuf)} {
			var got Ref
			rr.decode(b, &got, idb)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decode(appendRef(%+v)) differs (-want +got):\n%s", want, diff)
			}
		}
	}
	if len(tab.sets) != 2 {
		t.Errorf("%d label sets interned, want 2", len(tab.sets))
	}
	for _, typ := range stixTypes {
		if len(typ) > maxTypeLen {
			t.Errorf("STIX type %q is longer than maxTypeLen %d", typ, maxTypeLen)
		}
	}
}

// TestSharedRefs checks values with several sources and sources behind
// several values, networks included.
func TestSharedRefs(t *testing.T) {
	a := Ref{ID: "indicator--aaaaaaaa-0000-4000-8000-000000000000", Name: "A", Confidence: 50}
	b := Ref{ID: "indicator--bbbbbbbb-0000-4000-8000-000000000000", Name: "B", Confidence: 60}
	c := Ref{ID: "url--cccccccc-0000-5000-8000-000000000000", Confidence: -1}
	bld := NewBuilder(0)
	adds := []struct {
		k Kind
		v string
		r Ref
	}{
		{Domain, "one.example", a}, {Domain, "one.example", b}, {Domain, "two.example", a},
		{URL, "http://one.example/x", c}, {IPv4, "192.0.2.0/24", a}, {IPv4, "192.0.2.0/24", c},
		{IPv4, "198.51.100.0/24", b}, {Domain, "one.example", b},
	}
	for _, x := range adds {
		if err := bld.Add(x.k, x.v, x.r); err != nil {
			t.Fatalf("Add(%v, %q) = %v", x.k, x.v, err)
		}
	}
	ix, err := bld.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	tests := []struct {
		k    Kind
		v    string
		want []Ref
	}{
		{Domain, "www.one.example", []Ref{a, b}},
		{Domain, "two.example", []Ref{a}},
		{URL, "HTTP://ONE.example/x", []Ref{c}},
		{IPv4, "192.0.2.9", []Ref{a, c}},
		{IPv4, "198.51.100.9", []Ref{b}},
		{IPv4, "203.0.113.1", nil},
	}
	for _, tt := range tests {
		got, ok := ix.Lookup(tt.k, tt.v)
		if ok != (tt.want != nil) || !cmp.Equal(got, tt.want) {
			t.Errorf("Lookup(%v, %q) = %+v, %v, want %+v", tt.k, tt.v, got, ok, tt.want)
		}
		if c := ix.Contains(tt.k, tt.v); c != ok {
			t.Errorf("Contains(%v, %q) = %v, Lookup says %v", tt.k, tt.v, c, ok)
		}
	}
	if got := ix.Refs(); got != 3 {
		t.Errorf("Refs() = %d, want 3", got)
	}
}

// TestFastPaths checks that the shortcuts of the look-up path agree with
// the full normalisation.
func TestFastPaths(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
		"1..2.3", " 1.2.3.4", "1.2.3.4 ", "::ffff:1.2.3.4", "1.2.3.-4", "", "1.2.3.04"} {
		a, ok := parseIPv4(s)
		want, err := netip.ParseAddr(s)
		if ok && (err != nil || !want.Is4() || want.As4() != a) {
			t.Errorf("parseIPv4(%q) = %v, true, but netip.ParseAddr = %v, %v", s, a, want, err)
		}
		if !ok && s == "1.2.3.4" {
			t.Errorf("parseIPv4(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"1.2.3.4", "10.20.30.40", "100.200.100.200", "1.2.3.04", "1.2.3", "1.2.3.4.5", "1..2.3",
		"256.1.1.1", "1.2.3.4/8", "1.2.3.4 ", "12345678", "1.2.3.a", "1.2.3.\x00", "111.111.111.1111"} {
		checkIPv4Text(t, s)
	}
	checkFast(t, []string{"evil.com", "a.b-c.d_e.*.x", "Evil.com", "evil.com.", "a..b", ".a", "", "é.com", "a b.com",
		"a.b..", "..", ".", "a", "a.", "x" + strings.Repeat(".abcdefghij", 6), strings.Repeat("a", 64) + ".com"},
		[]string{"http://evil.com/", "https://a.b/c?d=e&f", "http://a.b/c#f", "http://a.b:80/", "http://A.b/",
			"HTTP://a.b/", "http://a.b?x", "http://a.b", "http://a.b./x", "http://u@a.b/", "http://a.b/%41",
			"http://a.b/ x", "http://[::1]/", "1http://a.b/", "http://a.b/é"})
}

// checkIPv4Text checks the premise of the IPv4 fast path: a value of
// digits and dots that is an IPv4 address at all is written as netip
// writes it, and parseIPv4 reads exactly those.
func checkIPv4Text(t *testing.T, s string) {
	t.Helper()
	if !ipv4Chars(s) {
		if len(s) >= 7 && len(s) <= 15 && strings.Trim(s, "0123456789.") == "" {
			t.Errorf("ipv4Chars(%q) = false for digits and dots", s)
		}
		return
	}
	if strings.Trim(s, "0123456789.") != "" {
		t.Errorf("ipv4Chars(%q) = true, but it has other bytes", s)
	}
	a, ok := parseIPv4(s)
	want, err := netip.ParseAddr(s)
	if ok != (err == nil && want.Is4()) || ok && want.As4() != a {
		t.Errorf("parseIPv4(%q) = %v, %v, but netip.ParseAddr = %v, %v", s, a, ok, want, err)
	}
	if err == nil && want.String() != s {
		t.Errorf("ipv4Chars(%q) = true, but the address is written %q", s, want.String())
	}
}

func checkFast(t *testing.T, domains, urls []string) {
	t.Helper()
	for _, s := range domains {
		labels, ok := plainDomain(s)
		if ok != canonicalDomain(s) {
			t.Errorf("plainDomain(%q) = %v, canonicalDomain says %v", s, ok, !ok)
		}
		if ok {
			if got, err := canonical(nil, Domain, s); err != nil || string(got) != s {
				t.Errorf("plainDomain(%q) = true, but canonical = %q, %v", s, got, err)
			}
			if want := strings.Count(s, ".") + 1; labels != want {
				t.Errorf("plainDomain(%q) = %d labels, want %d", s, labels, want)
			}
		}
	}
	for _, s := range urls {
		if canonicalURL(s) {
			if got, err := canonical(nil, URL, s); err != nil || string(got) != s {
				t.Errorf("canonicalURL(%q) = true, but canonical = %q, %v", s, got, err)
			}
		}
	}
}

func FuzzFastPaths(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s[1])
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, ok := parseIPv4(s); ok {
			if want, err := netip.ParseAddr(s); err != nil || !want.Is4() || want.As4() != a {
				t.Fatalf("parseIPv4(%q) = %v, true, but netip.ParseAddr = %v, %v", s, a, want, err)
			}
		}
		checkIPv4Text(t, s)
		checkFast(t, []string{s}, []string{s})
	})
}

func TestDecodeHex(t *testing.T) {
	for _, s := range []string{"0123456789abcdefABCDEF0011223344", "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427g",
		"d41d8cd98f00b204e9800998ecf8427/", "d41d8cd98f00b204e9800998ecf8427:", "d41d8cd98f00b204e9800998ecf8427@",
		"d41d8cd98f00b204e9800998ecf8427`", "d41d8cd98f00b204e9800998ecf8427G", "d41d8cd98f00b204e9800998ecf8427\xe4",
		"d41d8cd98f00b204e9800998ecf8427 "} {
		got := make([]byte, len(s)/2)
		ok := decodeHex(got, s)
		want, err := appendHex(nil, s, len(s)/2)
		if ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Errorf("decodeHex(%q) = %x, %v, want %x, %v", s, got, ok, want, err)
		}
	}
}

func FuzzDecodeHex(f *testing.F) {
	f.Add("d41d8cd98f00b204e9800998ecf8427e")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s)%8 != 0 {
			return
		}
		got := make([]byte, len(s)/2)
		ok := decodeHex(got, s)
		want, err := appendHex(nil, s, len(s)/2)
		if ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Fatalf("decodeHex(%q) = %x, %v, want %x, %v", s, got, ok, want, err)
		}
	})
}

// TestLookupHitAllocatesOnce checks that the usual hit (one source with a
// STIX id) costs one allocation: the Ref and its id together.
func TestLookupHitAllocatesOnce(t *testing.T) {
	b := NewBuilder(0)
	r := Ref{ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Name: "Evil", Labels: []string{"c2"}, Confidence: 70,
		ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 5e6, time.UTC)}
	if err := b.Add(Domain, "evil.example", r); err != nil {
		t.Fatalf("Add() = %v", err)
	}
	ix, err := b.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	if got, ok := ix.Lookup(Domain, "evil.example"); !ok || len(got) != 1 || !cmp.Equal(got[0], r) {
		t.Fatalf("Lookup(evil.example) = %+v, %v, want [%+v]", got, ok, r)
	}
	if n := testing.AllocsPerRun(100, func() { ix.Lookup(Domain, "evil.example") }); n != 1 {
		t.Errorf("Lookup hit allocates %v times, want 1", n)
	}
}

func TestBlockFilter(t *testing.T) {
	const n = 200000
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = mix(i, 5) * 0x9E3779B97F4A7C15
	}
	f := newBlockFilter(make([]uint64, filterWords(n)), keys)
	for _, k := range keys {
		if !f.Contains(k) {
			t.Fatalf("Contains(%#x) = false for an added key", k)
		}
	}
	fp := 0
	for i := n; i < 2*n; i++ {
		if f.Contains(mix(i, 5) * 0x9E3779B97F4A7C15) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.007 {
		t.Errorf("false-positive rate %.4f at %d bits per key, want at most 0.007", rate, bitsPerKey)
	} else {
		t.Logf("false-positive rate %.4f at %d bits per key", rate, bitsPerKey)
	}
}
