package taxiiclient

import (
	"context"
	"testing"
)

// BenchmarkPages walks 2,500 indicators 1,000 at a time from a real server
// on loopback, with each encoding; bytes/s are of decoded JSON.
func BenchmarkPages(b *testing.B) {
	s := newServer(b, nil)
	s.add(b, s.client(b), collA, indicators(0, 2500))
	for _, enc := range []Encoding{Zstd, Gzip, None} {
		b.Run(string(enc), func(b *testing.B) {
			c := s.client(b, WithCompression(enc))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				for p, err := range c.Pages(ctx, collA, Query{Limit: 1000}) {
					if err != nil {
						b.Fatal(err)
					}
					n += len(p.Objects)
				}
				if n != 2500 {
					b.Fatalf("walked %d objects, want 2500", n)
				}
			}
			st := c.Stats()
			b.SetBytes(st.BytesRecvRaw / max(st.Requests/3, 1))
			b.ReportMetric(float64(st.BytesRecvWire)/float64(max(st.Requests/3, 1)), "wire-B/op")
		})
	}
}
