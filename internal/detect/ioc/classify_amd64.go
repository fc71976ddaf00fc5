package ioc

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasAVX2 selects classifyAVX2; read-only.
var hasAVX2 = cpu.X86.HasAVX2

// classBlock is classify64 of the first 64 bytes at s; bits at and past
// len(s) mean nothing and the caller masks them off (lowBits). It reads
// past the end of a shorter s only within the page of its first byte,
// which is mapped; near a page end it copies s first.
func classBlock(s string, t *classTables, c byte) (m1, m2, eq uint64) {
	if !hasAVX2 || nearPageEnd(s) {
		return classCopy(s, t, c)
	}
	return classifyAVX2((*[64]byte)(unsafe.Pointer(unsafe.StringData(s))), t, c)
}

// classify64 sets bit i of m1 (m2) when p[i] is in class 1 (2) of t and
// bit i of eq when p[i] == c, for the 64 bytes of p.
func classify64(p *[64]byte, t *classTables, c byte) (m1, m2, eq uint64) {
	if hasAVX2 {
		return classifyAVX2(p, t, c)
	}
	return classifyGo(p, t, c)
}

// classifyAVX2 is classify64 in two 32-byte vectors: two shuffles and an
// AND give each byte's class bits, a compare and a move-mask the bits.
//
//go:noescape
func classifyAVX2(p *[64]byte, t *classTables, c byte) (m1, m2, eq uint64)
