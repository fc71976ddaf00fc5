//go:build linux

package ioc

import (
	"syscall"
	"unsafe"
)

const hugePage = 2 << 20

// mapHuge maps n bytes of zeroed anonymous memory outside the Go heap,
// aligned to a 2 MiB boundary and advised to be backed by transparent huge
// pages, so that random reads over it miss the TLB far less. It returns
// nil when the mapping fails; the caller then uses the heap. The memory
// must be released with unmapHuge and must hold no Go pointers.
func mapHuge(n int) []byte {
	if n <= 0 {
		return nil
	}
	size := (n + 4095) &^ 4095
	raw, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	skip := int((base+hugePage-1)&^(hugePage-1) - base)
	// Return the unaligned head and the tail past size to the kernel.
	if skip > 0 {
		if err := munmapRange(raw[:skip]); err != nil {
			_ = munmapRange(raw)
			return nil
		}
	}
	if tail := raw[skip+size:]; len(tail) > 0 {
		_ = munmapRange(tail)
	}
	mem := raw[skip : skip+size : skip+size]
	_ = syscall.Madvise(mem, 14) // MADV_HUGEPAGE; only a hint
	return mem[:n]
}

func munmapRange(b []byte) error {
	_, _, errno := syscall.Syscall(syscall.SYS_MUNMAP, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// unmapHuge releases memory returned by mapHuge.
func unmapHuge(mem []byte) {
	if cap(mem) > 0 {
		_ = munmapRange(mem[:cap(mem)])
	}
}
