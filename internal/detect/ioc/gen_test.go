package ioc

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
)

// Deterministic generators of distinct indicator values by index.

func mix(i int, salt uint64) uint64 {
	x := uint64(i)*0x9E3779B97F4A7C15 + salt
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return x
}

func genIPv4(i int) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(i)*2654435761+0x0b000000) // bijective on uint32
	return netip.AddrFrom4(b).String()
}

func genDomain(i int) string {
	return fmt.Sprintf("h%x.d%d.example", mix(i, 1)&0xffffff, i)
}

func genSHA256(i int) string {
	var b [32]byte
	for j := range 4 {
		binary.LittleEndian.PutUint64(b[j*8:], mix(i, uint64(j+7)))
	}
	binary.LittleEndian.PutUint32(b[28:], uint32(i))
	return hex.EncodeToString(b[:])
}

func genURL(i int) string {
	return fmt.Sprintf("http://s%d.example.net/p/%x/index.php?id=%d", i%9973, mix(i, 3)&0xffffffff, i)
}

// genMixed returns the i-th value of a mix of a quarter each of IPv4,
// domains, SHA-256 and URLs.
func genMixed(i int) (Kind, string) {
	switch i % 4 {
	case 0:
		return IPv4, genIPv4(i)
	case 1:
		return Domain, genDomain(i)
	case 2:
		return SHA256, genSHA256(i)
	}
	return URL, genURL(i)
}
