package ioc

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"runtime"
	"strings"
	"unsafe"
)

// scratch is a stack buffer large enough for nearly every canonical value.
type scratch [512]byte

// The look-up path allocates nothing on a miss: values already in
// canonical form (the common case) are hashed where they lie, others are
// rewritten into a stack buffer; the filter is probed before any record is
// touched, and a Ref is built only on a hit.

// find returns the offset in recs of the refs part of the canonical key
// (used by the slow paths, which have the canonical bytes but not the
// query text the fast paths hash).
func (ix *Index) find(k Kind, canon []byte) (uint32, bool) {
	h := ix.hk.keyHash(k, canon)
	if !ix.filter.Contains(h) {
		return 0, false
	}
	return ix.search(h, k, canon)
}

// search returns the offset in recs of the refs part of the canonical key
// with hash h, once the filter has let h through. It reads the bucket's
// tags eight at a time and goes straight to the record whose tag matches,
// summing the lengths of the records before it rather than reading them.
func (ix *Index) search(h uint64, k Kind, canon []byte) (uint32, bool) {
	nb := len(ix.buckets)
	bi := bucketOf(h, nb)
	at := ix.buckets[bi]
	recs := ix.recs
	// Touch every cache line of the bucket (up to six) before reading its
	// directory, so that they load from memory in parallel with it rather
	// than one after another: the record's line is then usually there when
	// the directory says where it is. The loads feed only a branch that is
	// never taken (recs[0], the empty bucket, is 0), so nothing waits for
	// them.
	end := uint32(len(recs))
	if bi+1 < nb {
		end = min(ix.buckets[bi+1], end)
	}
	var t byte
	for p := at&^63 + 64; p < end && p < at+6*64; p += 64 {
		t |= recs[p]
	}
	if t == 0xff && recs[0] != 0 {
		return 0, false
	}
	return ix.searchAt(at, tagOf(h, nb), k, canon)
}

// searchAt is search in the bucket at offset at in recs, for the tag of
// the key's hash.
func (ix *Index) searchAt(at uint32, tag byte, k Kind, canon []byte) (uint32, bool) {
	recs := ix.recs
	n := uint32(recs[at])
	if n >= 0x80 {
		return ix.searchLong(at, tag, k, canon)
	}
	tags, lens := at+1, at+1+n
	base := lens + n
	for j0 := uint32(0); j0 < n; j0 += 8 {
		m := zeroBytes(load8(recs, tags+j0) ^ uint64(tag)*0x0101010101010101)
		if r := n - j0; r < 8 {
			m &= 1<<(8*r) - 1
		}
		for ; m != 0; m &= m - 1 {
			j := j0 + uint32(bits.TrailingZeros64(m))/8
			off := base
			for l := lens; l < lens+j; l += 8 {
				w := load8(recs, l)
				if r := lens + j - l; r < 8 {
					w &= 1<<(8*r) - 1
				}
				off += sumBytes(w)
			}
			if v, ok := matchRecord(recs, off, k, canon); ok {
				return v, true
			}
		}
	}
	return 0, false
}

// searchLong is search in a long bucket.
func (ix *Index) searchLong(at uint32, tag byte, k Kind, canon []byte) (uint32, bool) {
	p := ix.recs[at+1:]
	n, p := uvarint(p)
	tags, p := p[:n], p[n:]
	lens := p
	for range n {
		lens = lens[uvarintLen(lens):]
	}
	off := uint32(len(ix.recs) - len(lens)) // the first record
	for _, t := range tags {
		var l uint64
		l, p = uvarint(p)
		if t == tag {
			if v, ok := matchRecord(ix.recs, off, k, canon); ok {
				return v, true
			}
		}
		off += uint32(l)
	}
	return 0, false
}

// matchRecord reports whether the record at off holds canon of kind k, and
// where its refs part starts.
func matchRecord(recs []byte, off uint32, k Kind, canon []byte) (uint32, bool) {
	r := recs[off:]
	if Kind(r[0]&15) != k {
		return 0, false
	}
	hl, cl := 1, k.fixedLen()
	if cl == 0 {
		kl, n := uint64(r[0]), 1
		if kl >= 0x80 {
			kl, n = binary.Uvarint(r)
		}
		hl, cl = n, int(kl>>4)
	}
	if len(r) < hl+cl || string(r[hl:hl+cl]) != string(canon) {
		return 0, false
	}
	return off + uint32(hl+cl), true
}

// load8 reads the 8 bytes of b at i (little-endian).
func load8(b []byte, i uint32) uint64 { return binary.LittleEndian.Uint64(b[i : i+8]) }

// zeroBytes has the high bit of each zero byte of w set, and no other bit.
func zeroBytes(w uint64) uint64 {
	const highs = 0x8080808080808080
	return ^((w&^highs + ^uint64(highs)) | w) & highs
}

// sumBytes is the sum of the eight bytes of w.
func sumBytes(w uint64) uint32 {
	const lo = 0x00ff00ff00ff00ff
	w = w&lo + w>>8&lo
	return uint32(w * 0x0001000100010001 >> 48)
}

// eachRef calls f with every ref of the refs part at v (used on hits
// only). The Ref is reused between calls.
func (ix *Index) eachRef(v uint32, f func(r *Ref)) {
	var r Ref
	p := ix.recs[v:]
	if p[0]&refIDMask != refIDShared {
		ix.rr.decode(p, &r, nil)
		f(&r)
		return
	}
	n, p := uvarint(p[1:])
	for range n {
		var j uint64
		j, p = uvarint(p)
		ix.rr.decode(ix.shared[ix.sharedOff[j]:], &r, nil)
		f(&r)
	}
}

// appendRefs appends the refs of the refs part at v to dst.
func (ix *Index) appendRefs(dst []Ref, v uint32) []Ref {
	p := ix.recs[v:]
	if p[0]&refIDMask != refIDShared {
		dst = append(dst, Ref{})
		ix.rr.decode(p, &dst[len(dst)-1], nil)
		return dst
	}
	n, p := uvarint(p[1:])
	for range n {
		var j uint64
		j, p = uvarint(p)
		dst = append(dst, Ref{})
		ix.rr.decode(ix.shared[ix.sharedOff[j]:], &dst[len(dst)-1], nil)
	}
	return dst
}

// hit is the refs part of one match, with the indicator value that matched
// when it differs from the looked-up one (a parent domain or a network).
type hit struct {
	v       uint32
	matched string
}

// bytesOf views s as bytes without copying; the bytes must not be written.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// lookup appends the hits for value of kind k to dst. It does not allocate
// for values that miss. Queries in their usual form are hashed where they
// lie and the filter is asked before anything is parsed or decoded: a
// dotted quad as its text, a hex digest as its digits (in either case),
// a canonical domain or URL as it is. The others are rewritten in the slow*
// functions, which alone pay for a scratch buffer.
func (ix *Index) lookup(dst []hit, k Kind, value string) []hit {
	if ix == nil || ix.filter == nil && ix.nets == nil {
		return dst
	}
	switch k {
	case IPv4:
		if !ipv4Chars(value) {
			return ix.slowAddr(dst, k, value)
		}
		// Only digits and dots: if this is an address at all, it is
		// written as netip writes it (no leading zeros), so its text is
		// the hashed form.
		if h := ix.hk.sum(IPv4, value, 0); ix.filter != nil && ix.filter.Contains(h) {
			if a, ok := parseIPv4(value); ok {
				if v, ok := ix.search(h, IPv4, a[:]); ok {
					dst = append(dst, hit{v: v})
				}
			}
		}
		if ix.nets != nil {
			if a, ok := parseIPv4(value); ok {
				dst = ix.lookupNet(dst, netip.AddrFrom4(a))
			}
		}
		return dst
	case IPv6:
		return ix.slowAddr(dst, k, value)
	}
	if ix.filter == nil {
		return dst
	}
	switch k {
	case Domain:
		labels, ok := plainDomain(value)
		if !ok {
			return ix.slow(dst, k, value)
		}
		return ix.lookupDomain(dst, value, labels, value)
	case URL:
		if !canonicalURL(value) {
			return ix.slow(dst, k, value)
		}
		if h := ix.hk.sum(URL, value, 0); ix.filter.Contains(h) {
			if v, ok := ix.search(h, k, bytesOf(value)); ok {
				dst = append(dst, hit{v: v})
			}
		}
		return dst
	case MD5, SHA1, SHA256, SHA512:
		n := k.hashLen()
		if len(value) != 2*n {
			if value = strings.TrimSpace(value); len(value) != 2*n {
				return dst
			}
		}
		// The digits are hashed folded to lower case; a value that is
		// not hex is let through only by a false positive, and refused
		// by decodeHex.
		h := ix.hk.sum(k, value, hex8)
		if !ix.filter.Contains(h) {
			return dst
		}
		var d [64]byte
		if !decodeHex(d[:n], value) {
			return dst
		}
		if v, ok := ix.search(h, k, d[:n]); ok {
			dst = append(dst, hit{v: v})
		}
		return dst
	}
	return ix.slow(dst, k, value)
}

// slowAddr looks up an address that is not a plain dotted quad.
func (ix *Index) slowAddr(dst []hit, k Kind, value string) []hit {
	a, err := netip.ParseAddr(strings.TrimSpace(value))
	if err != nil {
		return dst
	}
	a = a.WithZone("").Unmap()
	if a.Is4() != (k == IPv4) {
		return dst
	}
	if ix.filter != nil {
		var canon []byte
		if a.Is4() {
			b := a.As4()
			canon = b[:]
		} else {
			b := a.As16()
			canon = b[:]
		}
		if v, ok := ix.find(k, canon); ok {
			dst = append(dst, hit{v: v})
		}
	}
	if ix.nets != nil {
		dst = ix.lookupNet(dst, a)
	}
	return dst
}

// slow normalises value into a scratch buffer before looking it up.
func (ix *Index) slow(dst []hit, k Kind, value string) []hit {
	var buf scratch
	canon, err := canonical(buf[:0], k, value)
	if err != nil {
		return dst
	}
	if k == Domain {
		return ix.lookupDomain(dst, stringOf(canon), labelCount(canon), "")
	}
	if v, ok := ix.find(k, canon); ok {
		dst = append(dst, hit{v: v})
	}
	return dst
}

// lookupDomain probes canon, a canonical domain of that many labels, and
// each of its parent domains with as many labels as some indicator domain
// has. A parent domain that matches is reported as a piece of value, the
// caller's string equal to canon, without allocating; when value is empty
// (canon is a scratch buffer) it is copied.
func (ix *Index) lookupDomain(dst []hit, canon string, labels int, value string) []hit {
	for s := canon; ; labels-- {
		if ix.domainLabels&(1<<min(labels, 63)) != 0 {
			if h := ix.hk.sum(Domain, s, 0); ix.filter.Contains(h) {
				if v, ok := ix.search(h, Domain, bytesOf(s)); ok {
					m := ""
					if len(s) != len(canon) {
						if value != "" {
							m = value[len(value)-len(s):]
						} else {
							m = strings.Clone(s)
						}
					}
					dst = append(dst, hit{v: v, matched: m})
				}
			}
		}
		if ix.domainLabels&(1<<min(labels, 63)-1) == 0 {
			return dst // no indicator domain has fewer labels
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return dst
		}
		s = s[i+1:]
	}
}

func labelCount(s []byte) int {
	n := 1
	for _, c := range s {
		if c == '.' {
			n++
		}
	}
	return n
}

func (ix *Index) lookupNet(dst []hit, a netip.Addr) []hit {
	if _, ok := ix.nets.Lookup(a); !ok {
		return dst
	}
	if pfx, v, ok := ix.nets.LookupPrefixLPM(netip.PrefixFrom(a, a.BitLen())); ok {
		dst = append(dst, hit{v: v, matched: pfx.String()})
	}
	return dst
}

// parseIPv4 reads a dotted quad in its usual form (no leading zeros, no
// spaces); anything else is left to netip.
func parseIPv4(s string) (a [4]byte, ok bool) {
	field, digits, dots := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			if digits == 1 && field == 0 {
				return a, false // leading zero
			}
			field = field*10 + int(c-'0')
			digits++
			if field > 255 {
				return a, false
			}
		case c == '.' && digits > 0 && dots < 3:
			a[dots] = byte(field)
			dots++
			field, digits = 0, 0
		default:
			return a, false
		}
	}
	if dots != 3 || digits == 0 {
		return a, false
	}
	a[3] = byte(field)
	return a, true
}

// Byte classes for the canonical-form checks.
const (
	clsDomain = 1 << iota // lower-case letter, digit, '-', '_', '*'
	clsHost               // may stay as is in a URL host
	clsPath               // may stay as is in a URL path or query
	clsScheme             // lower-case letter, digit, '+', '-', '.'
)

// byteClass is read-only.
var byteClass = func() (t [256]byte) {
	for c := 0x21; c < 0x7f; c++ {
		if !strings.ContainsRune("\"<>\\^`{|}%", rune(c)) {
			t[c] |= clsPath
		}
		if !strings.ContainsRune("\"<>\\^`{|}%[]@:/?#", rune(c)) && !('A' <= c && c <= 'Z') {
			t[c] |= clsHost
		}
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			t[c] |= clsDomain | clsScheme
		}
	}
	for _, c := range "-_*" {
		t[c] |= clsDomain
	}
	for _, c := range "+-." {
		t[c] |= clsScheme
	}
	t['#'] &^= clsPath
	return t
}()

// plainDomain reports whether s is already a canonical ASCII domain (what
// appendDomain would return unchanged) and how many labels it has. Domains
// up to 63 bytes, nearly all, are checked in one block (classBlock).
func plainDomain(s string) (labels int, ok bool) {
	n := len(s)
	if n == 0 || n > 63 {
		if !canonicalDomain(s) {
			return 0, false
		}
		return strings.Count(s, ".") + 1, true
	}
	// one block, the dots located and counted from their mask
	var in, dots uint64
	switch {
	case nearPageEnd(s):
		in, _, dots = classCopy(s, domainClasses, '.')
	case hasAVX2: // classBlock, two calls less
		in, _, dots = classifyAVX2(blockOf(s), domainClasses, '.')
	default:
		in, _, dots = classifyGo(blockOf(s), domainClasses, '.')
	}
	all := lowBits(n)
	dots &= all
	// a bad byte, a leading or trailing dot, or two in a row
	if in&all != all || dots&(1|1<<(n-1)|dots>>1) != 0 {
		return 0, false
	}
	return bits.OnesCount64(dots) + 1, true
}

// canonicalDomain reports whether s is already a canonical ASCII domain:
// what appendDomain would return unchanged.
func canonicalDomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if label == 0 {
				return false
			}
			label = 0
			continue
		}
		if byteClass[c]&clsDomain == 0 {
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return label > 0
}

// ipv4Chars reports whether s has 7 to 15 bytes, all digits and dots,
// testing eight bytes at a time.
func ipv4Chars(s string) bool {
	n := len(s)
	if n < 7 || n > 15 {
		return false
	}
	if n == 7 { // two overlapping halves
		return digitsOrDots(uint64(binary.LittleEndian.Uint32(bytesOf(s))) | uint64(binary.LittleEndian.Uint32(bytesOf(s[3:])))<<32)
	}
	// the first and last eight bytes, overlapping when n < 16
	return digitsOrDots(binary.LittleEndian.Uint64(bytesOf(s))) && digitsOrDots(binary.LittleEndian.Uint64(bytesOf(s[n-8:])))
}

// digitsOrDots reports whether each byte of w is an ASCII digit or a dot.
func digitsOrDots(w uint64) bool {
	const ones, highs uint64 = 0x0101010101010101, 0x8080808080808080
	if w&highs != 0 {
		return false
	}
	digit := (w + (0x80-'0')*ones) &^ (w + (0x7f-'9')*ones) // high bit: '0' <= b <= '9'
	d := w ^ '.'*ones
	dot := ^((d&^highs + ^highs) | d) // high bit: b == '.'
	return (digit|dot)&highs == highs
}

// canonicalURL reports whether s is already what appendURL would return:
// lower-case scheme and host, no user, port, fragment or percent-escape,
// a path present and nothing to escape. http and https, nearly every URL,
// are recognised with one compare, the rest a byte at a time.
func canonicalURL(s string) bool {
	n := len(s)
	if n > maxValueLen {
		return false
	}
	i := 0
	if n >= 9 {
		switch w := binary.LittleEndian.Uint64(bytesOf(s)); {
		case w&0x00ffffffffffffff == 0x002f2f3a70747468: // "http://"
			i = 7
		case w == 0x2f2f3a7370747468: // "https://"
			i = 8
		}
	}
	if i == 0 {
		for i < n && byteClass[s[i]]&clsScheme != 0 {
			i++
		}
		if i == 0 || s[0] < 'a' || !strings.HasPrefix(s[i:], "://") {
			return false
		}
		i += 3
	}
	if i <= 8 {
		if n <= 64 && !nearPageEnd(s) {
			// one block, read in place: nearly every URL
			var host, path, slashes uint64
			if hasAVX2 {
				host, path, slashes = classifyAVX2(blockOf(s), urlClasses, '/')
			} else {
				host, path, slashes = classifyGo(blockOf(s), urlClasses, '/')
			}
			// urlBlock, written out: a call more cost several ns here
			// (BenchmarkCanonicalForm)
			slashes &= lowBits(n) &^ lowBits(i)
			if slashes == 0 {
				return false // no path
			}
			slash := bits.TrailingZeros64(slashes)
			if slash == i || s[slash-1] == '.' {
				return false // no host, or a trailing dot
			}
			hostBits := lowBits(slash) &^ lowBits(i)
			pathBits := lowBits(n) &^ lowBits(slash)
			return host&hostBits == hostBits && path&pathBits == pathBits
		}
		return canonicalURLBlocks(s, i)
	}
	return canonicalURLSlow(s, i)
}

// canonicalURLSlow is canonicalURL once the scheme and "://" end at i, a
// byte at a time.
func canonicalURLSlow(s string, i int) bool {
	host := i
	for i < len(s) && byteClass[s[i]]&clsHost != 0 {
		i++
	}
	if i == host || i == len(s) || s[i] != '/' || s[i-1] == '.' {
		return false
	}
	for ; i < len(s); i++ {
		if byteClass[s[i]]&clsPath == 0 {
			return false
		}
	}
	return true
}

// Lookup returns the sources of value of kind k: the exact value, for a
// domain also every parent domain indexed, and for an address the longest
// network holding it. It returns false when nothing matches or value cannot
// be read as kind k. The Refs are built for the caller; their Labels slices
// are shared and must not be modified.
func (ix *Index) Lookup(k Kind, value string) ([]Ref, bool) {
	refs, ok := ix.lookupRefs(k, value)
	runtime.KeepAlive(ix) // its arrays may be mapped outside the heap (Index.place)
	return refs, ok
}

func (ix *Index) lookupRefs(k Kind, value string) ([]Ref, bool) {
	var hb [4]hit
	hits := ix.lookup(hb[:0], k, value)
	switch {
	case len(hits) == 0:
		return nil, false
	case len(hits) == 1 && ix.recs[hits[0].v]&refIDMask != refIDShared:
		// the usual hit: one allocation for the Ref and its id
		box := new(struct {
			ref Ref
			id  idBuf
		})
		ix.rr.decode(ix.recs[hits[0].v:], &box.ref, &box.id)
		return unsafe.Slice(&box.ref, 1), true
	}
	var out []Ref
	for _, h := range hits {
		out = ix.appendRefs(out, h.v)
	}
	return out, true
}

// Contains reports whether value of kind k matches (as Lookup would)
// without building its Refs: the look-up path of the Matcher, which builds
// them only for alerts. It does not allocate.
func (ix *Index) Contains(k Kind, value string) bool {
	var hb [4]hit
	ok := len(ix.lookup(hb[:0], k, value)) > 0
	runtime.KeepAlive(ix) // its arrays may be mapped outside the heap (Index.place)
	return ok
}

// decodeHex decodes the hex digits of s (2*len(dst) of them) into dst,
// eight digits at a time, and reports whether all were hex digits.
func decodeHex(dst []byte, s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	if len(s) != 2*len(dst) || len(s)%8 != 0 {
		return false
	}
	for i := 0; i < len(s); i += 8 {
		x := binary.LittleEndian.Uint64(bytesOf(s[i : i+8]))
		if x&highs != 0 {
			return false
		}
		digit := (x + (0x80-'0')*ones) &^ (x + (0x7f-'9')*ones)
		y := x | 0x20*ones
		letter := (y + (0x80-'a')*ones) &^ (y + (0x7f-'f')*ones)
		if (digit|letter)&highs != highs {
			return false
		}
		v := x&(0x0f*ones) + (x>>6&ones)*9
		w := (v&0x0f000f000f000f00)>>8 | (v&0x000f000f000f000f)<<4
		j := i / 2
		dst[j], dst[j+1], dst[j+2], dst[j+3] = byte(w), byte(w>>16), byte(w>>32), byte(w>>48)
	}
	return true
}
