//go:build unix

package ingest

import (
	"os"
	"syscall"
)

// devIno returns the device and inode numbers of a file.
func devIno(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino) // the field types differ by platform
	}
	return 0, 0
}
