package ioc

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

func TestClassTables(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		l, h := b&15, b>>4
		for _, tc := range []struct {
			name string
			got  bool
			want bool
		}{
			{"domain", domainClasses.lo1[l]&domainClasses.hi1[h] != 0, b == '.' || byteClass[b]&clsDomain != 0},
			{"domain class 2", domainClasses.lo2[l]&domainClasses.hi2[h] != 0, false},
			{"host", urlClasses.lo1[l]&urlClasses.hi1[h] != 0, byteClass[b]&clsHost != 0},
			{"path", urlClasses.lo2[l]&urlClasses.hi2[h] != 0, byteClass[b]&clsPath != 0},
		} {
			if tc.got != tc.want {
				t.Errorf("%s class of %#02x = %v, want %v", tc.name, b, tc.got, tc.want)
			}
		}
	}
}

// TestClassify checks classify64 (vector instructions where the machine
// has them) against classifyGo: every byte value at every position, and
// random blocks.
func TestClassify(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var p [64]byte
	check := func() {
		t.Helper()
		for _, tc := range []struct {
			tab *classTables
			c   byte
		}{{domainClasses, '.'}, {urlClasses, '/'}, {urlClasses, 0x80}} {
			a1, a2, a3 := classify64(&p, tc.tab, tc.c)
			w1, w2, w3 := classifyGo(&p, tc.tab, tc.c)
			if a1 != w1 || a2 != w2 || a3 != w3 {
				t.Fatalf("classify64(%q, %q) = %#x %#x %#x, classifyGo %#x %#x %#x", p, tc.c, a1, a2, a3, w1, w2, w3)
			}
		}
	}
	for c := range 256 {
		for i := range p {
			p[i] = byte(c)
		}
		check()
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		p[c%64] = byte(c)
		check()
	}
	t.Logf("vector instructions: %v", hasAVX2)
}

// TestClassBlockPageEnd checks strings ending right at a page end, where
// classBlock copies them rather than read past them.
func TestClassBlockPageEnd(t *testing.T) {
	buf := make([]byte, 3*4096)
	end := 4096 - int(uintptr(unsafe.Pointer(&buf[0]))&4095) + 4096
	for _, s := range []string{"a.example", "h1f2e3.d17.example", "http://a.example/x?y=1", "ab..c", "x.y."} {
		copy(buf[end-len(s):], s)
		at := stringOf(buf[end-len(s) : end])
		for _, tc := range []struct {
			tab *classTables
			c   byte
		}{{domainClasses, '.'}, {urlClasses, '/'}} {
			a1, a2, a3 := classBlock(at, tc.tab, tc.c)
			var p [64]byte
			copy(p[:], s)
			w1, w2, w3 := classifyGo(&p, tc.tab, tc.c)
			m := lowBits(len(s))
			if (a1^w1)&m != 0 || (a2^w2)&m != 0 || (a3^w3)&m != 0 {
				t.Errorf("classBlock(%q) at a page end = %#x %#x %#x, want %#x %#x %#x", s, a1&m, a2&m, a3&m, w1&m, w2&m, w3&m)
			}
		}
		l1, ok1 := plainDomain(at)
		l2, ok2 := plainDomain(strings.Clone(s))
		if l1 != l2 || ok1 != ok2 {
			t.Errorf("plainDomain(%q) at a page end = %d, %v; elsewhere %d, %v", s, l1, ok1, l2, ok2)
		}
	}
}

// canonicalURLRef is canonicalURL a byte at a time throughout.
func canonicalURLRef(s string) bool {
	if len(s) > maxValueLen {
		return false
	}
	i := 0
	for i < len(s) && byteClass[s[i]]&clsScheme != 0 {
		i++
	}
	if i == 0 || s[0] < 'a' || !strings.HasPrefix(s[i:], "://") {
		return false
	}
	return canonicalURLSlow(s, i+3)
}

func checkBlocks(t *testing.T, s string) {
	t.Helper()
	if got, want := canonicalURL(s), canonicalURLRef(s); got != want {
		t.Errorf("canonicalURL(%q) = %v, a byte at a time %v", s, got, want)
	}
	labels, ok := plainDomain(s)
	if want := canonicalDomain(s); ok != want {
		t.Errorf("plainDomain(%q) = %v, canonicalDomain %v", s, ok, want)
	}
	if want := strings.Count(s, ".") + 1; ok && labels != want {
		t.Errorf("plainDomain(%q) = %d labels, want %d", s, labels, want)
	}
}

func TestCanonicalBlocks(t *testing.T) {
	long := strings.Repeat("abcdefgh", 9)
	for _, s := range []string{
		"", ".", "a", "a.", ".a", "a..b", "a.b", "A.b", "a_b*.c-d", "h1f2e3.d17.example", "a.b\x80", "a b.c",
		long[:63], long[:64], long[:62] + ".", "a." + long[:61], long[:30] + ".." + long[:20],
		"http://a.b/", "https://a.b/x?y", "http://a./", "http:///", "http://", "https://", "ftp://x/y", "http://A/",
		"http://a/%", "http://a/#", "http://a:80/", "http://a@b/", "http://s1234.example.net/p/89abcdef/index.php?id=1",
		"http://" + long[:56] + "/", "http://" + long[:57] + "/", "http://" + long + "/x", "https://h/" + long + long,
		"https://h/" + long + long + "%", "https://h/" + long + "{" + long, "http://h" + long[:50] + "/" + long,
		"git+ssh://h/x", "hTTP://h/x",
	} {
		checkBlocks(t, s)
	}
}

func FuzzCanonicalBlocks(f *testing.F) {
	for _, s := range []string{"a.b", "h1f2e3.d17.example", "http://a.b/", "https://a.b/x?y", "http://a./", "ftp://x/y",
		"http://s1234.example.net/p/89abcdef/index.php?id=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkBlocks(t, s) })
}
