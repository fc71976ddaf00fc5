package ioc

import "unsafe"

// prefetchLines asks for the filter lines of the probes ps in words, a
// filter (filterLine), without waiting for them: the instructions retire
// at once, so the work after them overlaps the reads, where a load would
// hold the processor's retirement until its line came. One call serves a
// run of probes, as a call per probe cost more than the prefetch.
//
//go:noescape
func prefetchLines(ps []probe, words []uint64)

// prefetchLines reads a probe's hash at its start and steps 24 bytes to
// the next.
var (
	_ [unsafe.Sizeof(probe{}) - 24]struct{}
	_ [24 - unsafe.Sizeof(probe{})]struct{}
	_ [unsafe.Offsetof(probe{}.h)]struct{}
)
