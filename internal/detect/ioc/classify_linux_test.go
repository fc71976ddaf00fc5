package ioc

import (
	"syscall"
	"testing"
)

// TestClassBlockGuardPage puts strings at the very end of a page whose
// next page is mapped without access: a read past the string's page would
// fault and crash the test, which the tests on ordinary heap memory (where
// the next page is mapped) cannot see.
func TestClassBlockGuardPage(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	for _, s := range []string{"a.b", "h1f2e3.d17.example", "x.y.", "http://a.example/x?y=1", "https://h/p%",
		"http://s1234.example.net/p/89abcdef/index.php?id=1"} {
		copy(mem[page-len(s):page], s)
		at := stringOf(mem[page-len(s) : page])
		if !nearPageEnd(at) {
			t.Errorf("nearPageEnd(%q) = false %d bytes before a page end", s, len(s))
		}
		checkBlocks(t, at)
	}
	if at := stringOf(mem[:20]); nearPageEnd(at) {
		t.Errorf("nearPageEnd = true at a page start")
	}
}
