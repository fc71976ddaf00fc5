package evtx

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// BenchmarkReadAll reads every record of every EVTX-ATTACK-SAMPLES file
// (held in memory, so the disk is not measured) and builds its fields.
func BenchmarkReadAll(b *testing.B) {
	paths := evtxFiles(b, attackSamples)
	files := make([][]byte, len(paths))
	var size int64
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files[i] = data
		size += int64(len(data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	records := 0
	b.ResetTimer()
	for b.Loop() {
		for i, data := range files {
			f, err := NewReader(bytes.NewReader(data), int64(len(data)), paths[i])
			if err != nil {
				b.Fatal(err)
			}
			for {
				ev, err := f.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				records++
				_ = ev.Fields()
			}
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
