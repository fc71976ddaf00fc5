//go:build unix

package stix

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used so far; benchmarks report
// objects per CPU second so that a busy machine does not skew the figure.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
