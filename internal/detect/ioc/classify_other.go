//go:build !amd64

package ioc

// classify64 sets bit i of m1 (m2) when p[i] is in class 1 (2) of t and
// bit i of eq when p[i] == c, for the 64 bytes of p.
func classify64(p *[64]byte, t *classTables, c byte) (m1, m2, eq uint64) {
	return classifyGo(p, t, c)
}

// hasAVX2 is false: there are no vector instructions here.
const hasAVX2 = false

// classifyAVX2 is never called here (hasAVX2 is false).
func classifyAVX2(p *[64]byte, t *classTables, c byte) (m1, m2, eq uint64) {
	return classifyGo(p, t, c)
}
