//go:build !linux

package ioc

import "time"

// threadCPU is not measured here: 0 makes the CPU figures 0.
func threadCPU() time.Duration { return 0 }
