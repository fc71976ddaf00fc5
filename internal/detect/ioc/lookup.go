package ioc

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
)

// scratch is a stack buffer large enough for nearly every canonical value.
type scratch [512]byte

// find returns the value index of the canonical key.
func (ix *Index) find(k Kind, canon []byte) (uint32, bool) {
	if ix.filter == nil {
		return 0, false
	}
	h := keyHash(k, canon)
	if !ix.filter.Contains(h) {
		return 0, false
	}
	b := h >> ix.shift
	recs := ix.recs[ix.buckets[b]:ix.buckets[b+1]]
	for len(recs) >= recHeader {
		rh := binary.LittleEndian.Uint64(recs)
		n := recHeader + int(binary.LittleEndian.Uint16(recs[12:]))
		if rh > h {
			return 0, false
		}
		if rh == h && bytes.Equal(recs[recHeader:n], canon) {
			return binary.LittleEndian.Uint32(recs[8:]), true
		}
		recs = recs[n:]
	}
	return 0, false
}

// refsOf returns the refs behind a value index, without allocating when
// there is one.
func (ix *Index) refsOf(v uint32) []Ref {
	if v&multiRef == 0 {
		return ix.refs[v : v+1 : v+1]
	}
	m := ix.multi[v&^multiRef:]
	out := make([]Ref, m[0])
	for i, r := range m[1 : 1+m[0]] {
		out[i] = ix.refs[r]
	}
	return out
}

// eachRef calls f with the index of every ref behind v.
func (ix *Index) eachRef(v uint32, f func(r *Ref)) {
	if v&multiRef == 0 {
		f(&ix.refs[v])
		return
	}
	m := ix.multi[v&^multiRef:]
	for _, r := range m[1 : 1+m[0]] {
		f(&ix.refs[r])
	}
}

// hit is the value index of one match, with the indicator value that
// matched when it differs from the looked-up one (a parent domain or a
// network).
type hit struct {
	v       uint32
	matched string
}

// lookup appends the hits for value of kind k to dst. It does not allocate
// for ordinary values that miss.
func (ix *Index) lookup(dst []hit, k Kind, value string) []hit {
	if ix == nil {
		return dst
	}
	var buf scratch
	switch k {
	case IPv4, IPv6:
		a, err := netip.ParseAddr(strings.TrimSpace(value))
		if err != nil {
			return dst
		}
		a = a.WithZone("").Unmap()
		if a.Is4() != (k == IPv4) {
			return dst
		}
		return ix.lookupAddr(dst, a, buf[:0])
	case Domain:
		canon, err := appendDomain(buf[:0], strings.TrimSpace(value))
		if err != nil {
			return dst
		}
		for s := canon; len(s) > 0; {
			if v, ok := ix.find(Domain, s); ok {
				m := ""
				if len(s) != len(canon) {
					m = string(s)
				}
				dst = append(dst, hit{v: v, matched: m})
			}
			i := bytes.IndexByte(s, '.')
			if i < 0 {
				break
			}
			s = s[i+1:]
		}
		return dst
	}
	canon, err := canonical(buf[:0], k, value)
	if err != nil {
		return dst
	}
	if v, ok := ix.find(k, canon); ok {
		dst = append(dst, hit{v: v})
	}
	return dst
}

func (ix *Index) lookupAddr(dst []hit, a netip.Addr, buf []byte) []hit {
	k := IPv6
	if a.Is4() {
		k = IPv4
		b := a.As4()
		buf = append(buf, b[:]...)
	} else {
		b := a.As16()
		buf = append(buf, b[:]...)
	}
	if v, ok := ix.find(k, buf); ok {
		dst = append(dst, hit{v: v})
	}
	if ix.nets != nil {
		if pfx, v, ok := ix.nets.LookupPrefixLPM(netip.PrefixFrom(a, a.BitLen())); ok {
			dst = append(dst, hit{v: v, matched: pfx.String()})
		}
	}
	return dst
}

// Lookup returns the sources of value of kind k: the exact value, for a
// domain also every parent domain indexed, and for an address the longest
// network holding it. It returns false when nothing matches or value cannot
// be read as kind k. The slice must not be modified.
func (ix *Index) Lookup(k Kind, value string) ([]Ref, bool) {
	var hb [4]hit
	hits := ix.lookup(hb[:0], k, value)
	switch len(hits) {
	case 0:
		return nil, false
	case 1:
		return ix.refsOf(hits[0].v), true
	}
	var out []Ref
	for _, h := range hits {
		out = append(out, ix.refsOf(h.v)...)
	}
	return out, true
}
