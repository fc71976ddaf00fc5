package stixmatch

import (
	"context"
	"fmt"
	"testing"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/stix"
)

// BenchmarkProcess runs 100 windowed indicators over a Sysmon network event
// that one of them matches.
func BenchmarkProcess(b *testing.B) {
	t := &testing.T{}
	var objs []stix.Object
	for i := range 100 {
		objs = append(objs, newIndicator(t, i, fmt.Sprintf(
			"([process:image_ref.name = 'tool%d.exe'] FOLLOWEDBY [network-traffic:dst_ref.value ISSUBSET '198.51.%d.0/24']) WITHIN 300 SECONDS", i, i), ""))
	}
	e, rep := New(objs, Options{})
	if rep.Loaded != 100 {
		b.Fatalf("loaded %d indicators, want 100: %v", rep.Loaded, rep.Errors)
	}
	x := ev(2, "EventID", "3", "Image", `C:\Users\bob\AppData\tool7.exe`, "DestinationIp", "198.51.7.7",
		"DestinationPort", "443", "SourceIp", "10.0.0.5", "Protocol", "tcp")
	emit := func(*detect.Alert) {}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Process(ctx, x, emit); err != nil {
			b.Fatal(err)
		}
	}
}
