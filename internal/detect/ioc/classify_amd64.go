package ioc

import "golang.org/x/sys/cpu"

// hasAVX2 selects classifyAVX2; read-only.
var hasAVX2 = cpu.X86.HasAVX2

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
