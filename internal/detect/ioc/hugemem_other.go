//go:build !linux

package ioc

// mapHuge is not available here: indexes stay on the heap.
func mapHuge(n int) []byte { return nil }

func unmapHuge(mem []byte) {}
