//go:build !unix

package stix

import "time"

func cpuTime() time.Duration { return 0 }
