package ioc

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"unsafe"
)

// hashKeys are the random keys of an index's hash, drawn when its builder
// takes its first value, so that values cannot be crafted to collide.
type hashKeys struct {
	kind       [numKinds]uint64 // seed per kind
	k1, k2, k3 uint64
}

func newHashKeys() hashKeys {
	var hk hashKeys
	for i := range hk.kind {
		hk.kind[i] = rand.Uint64()
	}
	hk.k1, hk.k2, hk.k3 = rand.Uint64()|1, rand.Uint64()|1, rand.Uint64()|1
	return hk
}

const (
	wyp0 = 0xa0761d6478bd642f
	wyp5 = 0x1d8e4e27c47d124f
)

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hex8 is ORed into every byte of a hex digest's text before it is hashed:
// it maps 'A'-'F' to 'a'-'f' and leaves digits and 'a'-'f' alone, so that
// a digest hashes the same in either case without being decoded first.
const hex8 = 0x2020202020202020

// sum is the 64-bit hash of s as a key of kind k, with fold ORed into every
// byte (0, or hex8 for hex digests). It is wyhash's core (as in the Go
// runtime where AES is missing): 8-byte words, one 128-bit multiply per 16
// bytes, and it takes a string so that a query is hashed where it lies.
func (hk *hashKeys) sum(k Kind, s string, fold uint64) uint64 {
	seed := hk.kind[k%numKinds]
	n := len(s)
	var a, b uint64
	switch {
	case n == 0:
	case n < 4:
		f := uint64(byte(fold))
		a = (uint64(s[0])|f)<<16 | (uint64(s[n>>1])|f)<<8 | uint64(s[n-1]) | f
	case n <= 8:
		f := uint64(uint32(fold))
		a = uint64(binary.LittleEndian.Uint32(bytesOf(s))) | f
		b = uint64(binary.LittleEndian.Uint32(bytesOf(s[n-4:]))) | f
	case n <= 16:
		a = binary.LittleEndian.Uint64(bytesOf(s)) | fold
		b = binary.LittleEndian.Uint64(bytesOf(s[n-8:])) | fold
	default:
		p := bytesOf(s)
		if len(p) > 48 {
			s1, s2 := seed, seed
			for len(p) > 48 {
				seed = mum(binary.LittleEndian.Uint64(p)|fold^hk.k1, binary.LittleEndian.Uint64(p[8:])|fold^seed)
				s1 = mum(binary.LittleEndian.Uint64(p[16:])|fold^hk.k2, binary.LittleEndian.Uint64(p[24:])|fold^s1)
				s2 = mum(binary.LittleEndian.Uint64(p[32:])|fold^hk.k3, binary.LittleEndian.Uint64(p[40:])|fold^s2)
				p = p[48:]
			}
			seed ^= s1 ^ s2
		}
		for len(p) > 16 {
			seed = mum(binary.LittleEndian.Uint64(p)|fold^hk.k1, binary.LittleEndian.Uint64(p[8:])|fold^seed)
			p = p[16:]
		}
		// the last 16 bytes, overlapping what came before
		t := bytesOf(s[n-16:])
		a = binary.LittleEndian.Uint64(t) | fold
		b = binary.LittleEndian.Uint64(t[8:]) | fold
	}
	return mum(wyp5^uint64(n), mum(a^hk.k1, b^seed)^wyp0)
}

// keyHash is the hash of a canonical key of kind k, as look-ups compute it
// from the query text: an IPv4 address is hashed as its dotted quad, a
// digest as its lower-case hex digits, anything else as its canonical
// bytes. Look-ups of queries already in that form (nearly all of them)
// hash them where they lie, before parsing or decoding anything.
func (hk *hashKeys) keyHash(k Kind, canon []byte) uint64 {
	var buf [128]byte
	switch {
	case k == IPv4 && len(canon) == 4:
		return hk.sum(k, stringOf(netip.AddrFrom4([4]byte(canon)).AppendTo(buf[:0])), 0)
	case k.hashLen() > 0 && len(canon) <= 64:
		return hk.sum(k, stringOf(hex.AppendEncode(buf[:0], canon)), hex8)
	}
	return hk.sum(k, stringOf(canon), 0)
}

// stringOf views b as a string without copying; b must not change while
// the string is used.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
