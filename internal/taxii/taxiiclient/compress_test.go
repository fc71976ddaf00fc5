package taxiiclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// TestCompressionRatio measures the bytes on the wire for a page of 1,000
// indicators, both ways, with each encoding.
func TestCompressionRatio(t *testing.T) {
	ctx := context.Background()
	var lastEncoding string
	s := newServer(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(&encodingSpy{ResponseWriter: w, got: &lastEncoding}, r)
		})
	})
	for i, tc := range []struct {
		enc      Encoding
		want     string  // response Content-Encoding
		minRatio float64 // raw/wire at least
	}{
		{Zstd, "zstd", 4},
		{Gzip, "gzip", 4},
		{None, "", 1},
	} {
		c := s.client(t, WithCompression(tc.enc))
		s.add(t, c, collA, indicators(i*1000, 1000))
		after := lastAdded(t, c)
		up := c.Stats()
		p, err := c.Objects(ctx, collA, Query{AddedAfter: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Objects) != 1000 || lastEncoding != tc.want {
			t.Fatalf("%s: page of %d objects with Content-Encoding %q; want 1000 and %q", tc.enc, len(p.Objects), lastEncoding, tc.want)
		}
		st := c.Stats()
		downWire, downRaw := st.BytesRecvWire-up.BytesRecvWire, st.BytesRecvRaw-up.BytesRecvRaw
		upRatio := float64(up.BytesSentRaw) / float64(up.BytesSentWire)
		downRatio := float64(downRaw) / float64(downWire)
		t.Logf("%-8s POST 1,000 indicators: %7d raw -> %7d wire bytes (%.1fx); GET page of 1,000: %7d raw -> %7d wire bytes (%.1fx)",
			tc.enc, up.BytesSentRaw, up.BytesSentWire, upRatio, downRaw, downWire, downRatio)
		if upRatio < tc.minRatio || downRatio < tc.minRatio {
			t.Errorf("%s: ratios up %.2f, down %.2f; want at least %.1f", tc.enc, upRatio, downRatio, tc.minRatio)
		}
		if tc.enc == None && (upRatio != 1 || downRatio != 1) {
			t.Errorf("%s: ratios up %.2f, down %.2f; want 1", tc.enc, upRatio, downRatio)
		}
	}
}

// lastAdded returns the date_added of the newest object but the last
// 1,000, so that the next page is the 1,000 just added.
func lastAdded(t *testing.T, c *Client) (after time.Time) {
	t.Helper()
	var last []time.Time
	for p, err := range c.Pages(context.Background(), collA, Query{Limit: 1000}) {
		if err != nil {
			t.Fatal(err)
		}
		last = append(last, p.Last)
	}
	if len(last) < 2 {
		return time.Time{}
	}
	return last[len(last)-2]
}

type encodingSpy struct {
	http.ResponseWriter
	got *string
}

func (s *encodingSpy) WriteHeader(code int) {
	*s.got = s.Header().Get("Content-Encoding")
	s.ResponseWriter.WriteHeader(code)
}

func (s *encodingSpy) Write(b []byte) (int, error) {
	*s.got = s.Header().Get("Content-Encoding")
	return s.ResponseWriter.Write(b)
}

// TestResponseLimits: bombs and oversized bodies are refused, not retried.
func TestResponseLimits(t *testing.T) {
	zeros := func(n int) io.Reader { return io.LimitReader(zeroReader{}, int64(n)) }
	zstdStream := func(n int) []byte {
		var b bytes.Buffer
		zw, _ := zstd.NewWriter(&b, zstd.WithWindowSize(1<<20))
		io.Copy(zw, zeros(n))
		zw.Close()
		return b.Bytes()
	}
	gzipStream := func(n int) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.Copy(zw, zeros(n))
		zw.Close()
		return b.Bytes()
	}
	zenc, _ := zstd.NewWriter(nil)
	tests := []struct {
		name     string
		encoding string
		body     []byte
		limit    int64 // 0: default
		tooLarge bool
		requests int64
	}{
		{"zstd bomb, default limit", "zstd", zstdStream(80 << 20), 0, true, 1},
		{"zstd with content size", "zstd", zenc.EncodeAll(make([]byte, 2<<20), nil), 1 << 20, true, 1},
		{"gzip bomb", "gzip", gzipStream(8 << 20), 1 << 20, true, 1},
		{"plain too big", "", make([]byte, 2<<20), 1 << 20, true, 1},
		{"zstd at the limit", "zstd", zstdStream(1 << 20), 1 << 20, false, 1},
		{"unknown encoding", "br", []byte("xx"), 0, false, 1},
		{"truncated zstd is retried", "zstd", truncated(zstdStream(100 << 10)), 0, false, 3},
		{"corrupt zstd", "zstd", []byte("\x28\xb5\x2f\xfd garbage"), 0, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.encoding != "" {
						w.Header().Set("Content-Encoding", tt.encoding)
					}
					w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
					w.Write(tt.body)
				})
			})
			opts := []Option{WithMaxRetries(2)}
			if tt.limit > 0 {
				opts = append(opts, WithMaxResponseSize(tt.limit))
			}
			c := s.client(t, opts...)
			_, err := c.APIRoot(context.Background())
			if err == nil {
				t.Fatal("APIRoot = nil error, want one")
			}
			if errors.Is(err, ErrResponseTooLarge) != tt.tooLarge {
				t.Errorf("APIRoot = %v; want ErrResponseTooLarge: %v", err, tt.tooLarge)
			}
			if st := c.Stats(); st.Requests != tt.requests {
				t.Errorf("Stats = %+v, want %d requests", st, tt.requests)
			}
		})
	}
}

func truncated(b []byte) []byte { return b[:len(b)-3] }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
