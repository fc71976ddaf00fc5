package ioc

import (
	"math/bits"
	"unsafe"
)

// classTables are two byte classes in the form a vector shuffle reads: a
// byte b is in class i when lo_i[b&15] & hi_i[b>>4] != 0. Each class is
// the union of up to eight "rows" (a high nibble and the set of low
// nibbles allowed with it), one bit per distinct row, which holds every
// class the canonical-form checks use (nibbleClass builds them). Bytes of
// 0x80 and above are in no class. Read-only once built.
type classTables struct {
	lo1, hi1, lo2, hi2 [16]byte
}

// nibbleClass returns the tables of a class given by in, which must hold
// no byte of 0x80 or above and have at most eight distinct rows; it
// panics otherwise (a programming error, caught by the tests at init).
func nibbleClass(in func(c byte) bool) (lo, hi [16]byte) {
	var rows []uint16
	for h := range 16 {
		var row uint16
		for l := range 16 {
			if in(byte(h<<4 | l)) {
				if h >= 8 {
					panic("ioc: nibbleClass: a byte class above 0x7f")
				}
				row |= 1 << l
			}
		}
		if row == 0 {
			continue
		}
		bit := -1
		for i, r := range rows {
			if r == row {
				bit = i
			}
		}
		if bit < 0 {
			if len(rows) == 8 {
				panic("ioc: nibbleClass: more than eight rows")
			}
			bit = len(rows)
			rows = append(rows, row)
		}
		hi[h] |= 1 << bit
		for l := range 16 {
			if row&(1<<l) != 0 {
				lo[l] |= 1 << bit
			}
		}
	}
	return lo, hi
}

func newClassTables(c1, c2 func(c byte) bool) *classTables {
	t := new(classTables)
	t.lo1, t.hi1 = nibbleClass(c1)
	t.lo2, t.hi2 = nibbleClass(c2)
	return t
}

// domainClasses: class 1 the bytes of a canonical ASCII domain, dots
// included; class 2 unused. urlClasses: class 1 the bytes that stay as
// they are in a URL host, class 2 in a path or query. Read-only.
var (
	domainClasses = newClassTables(func(c byte) bool { return c == '.' || byteClass[c]&clsDomain != 0 },
		func(byte) bool { return false })
	urlClasses = newClassTables(func(c byte) bool { return byteClass[c]&clsHost != 0 },
		func(c byte) bool { return byteClass[c]&clsPath != 0 })
)

// classifyGo is classify64 without vector instructions: bit i of m1 (m2)
// is set when p[i] is in class 1 (2) of t, bit i of eq when p[i] == c.
func classifyGo(p *[64]byte, t *classTables, c byte) (m1, m2, eq uint64) {
	for i, b := range p {
		l, h := b&15, b>>4
		m1 |= uint64(b2i(t.lo1[l]&t.hi1[h] != 0)) << i
		m2 |= uint64(b2i(t.lo2[l]&t.hi2[h] != 0)) << i
		eq |= uint64(b2i(b == c)) << i
	}
	return m1, m2, eq
}

// classBlock is classify64 of the first 64 bytes at s; bits at and past
// len(s) mean nothing and the caller masks them off (lowBits). It reads
// past the end of a shorter s only within the page of its first byte,
// which is mapped; near a page end it copies s first.
//
// The checks of the usual forms (plainDomain, canonicalURL) do what it
// does themselves, calling classifyAVX2 directly: through classBlock and
// classify64 a URL's check took 23-29 ns here, with one call 15-22
// (BenchmarkCanonicalForm).
func classBlock(s string, t *classTables, c byte) (m1, m2, eq uint64) {
	if nearPageEnd(s) {
		return classCopy(s, t, c)
	}
	return classify64((*[64]byte)(unsafe.Pointer(unsafe.StringData(s))), t, c)
}

// blockOf is the 64 bytes from the start of s, which must not be
// nearPageEnd: they may run past s, but not past its page.
func blockOf(s string) *[64]byte { return (*[64]byte)(unsafe.Pointer(unsafe.StringData(s))) }

// classCopy is classify64 of s (shorter than 64 bytes) copied into a
// block: for a string that ends near a page end, whose block would read
// past the page.
func classCopy(s string, t *classTables, c byte) (m1, m2, eq uint64) {
	var buf [64]byte
	copy(buf[:], s)
	return classify64(&buf, t, c)
}

// nearPageEnd reports whether the 64 bytes from the start of s, shorter
// than 64, would run past the page of its first byte.
func nearPageEnd(s string) bool {
	return len(s) < 64 && uintptr(unsafe.Pointer(unsafe.StringData(s)))&4095 > 4096-64
}

// lowBits is a mask of the n low bits, 0 <= n <= 64.
func lowBits(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// canonicalURLBlocks is canonicalURL once the scheme and "://" are known
// to end at i <= 8: the host is the bytes up to the first '/', which must
// come in the first block, the path the rest, checked a block at a time
// (the last block overlapping the one before).
func canonicalURLBlocks(s string, i int) bool {
	n := len(s)
	host, path, slashes := classBlock(s, urlClasses, '/')
	if slashes&lowBits(n)&^lowBits(i) == 0 {
		return n > 64 && canonicalURLSlow(s, i) // no path, or a host past the block
	}
	if !urlBlock(s, i, host, path, slashes) {
		return false
	}
	for o := 64; o < n; o += 64 {
		_, path, _ := classBlock(s[min(o, n-64):], urlClasses, '/')
		if path != ^uint64(0) {
			return false
		}
	}
	return true
}

// urlBlock reports whether the first block of s, whose scheme and "://"
// end at i <= 8, holds a canonical host and the start of a canonical path,
// given the block's classes (urlClasses) and slashes; the path past the
// block is the caller's to check.
func urlBlock(s string, i int, host, path, slashes uint64) bool {
	n := len(s)
	slashes &= lowBits(n) &^ lowBits(i)
	if slashes == 0 {
		return false // no path, or a host past the block
	}
	slash := bits.TrailingZeros64(slashes)
	if slash == i || s[slash-1] == '.' {
		return false // no host, or a trailing dot
	}
	hostBits := lowBits(slash) &^ lowBits(i)
	pathBits := lowBits(n) &^ lowBits(slash)
	return host&hostBits == hostBits && path&pathBits == pathBits
}
