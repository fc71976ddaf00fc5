package ioc

// prefetch asks for the cache line at p without waiting for it: the
// instruction retires at once, so the work after it overlaps the read,
// where a load would hold the processor's retirement until its line came.
//
//go:noescape
func prefetch(p *uint64)
