package taxiiclient

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// FuzzReadBody feeds arbitrary response bodies, as each Content-Encoding,
// to the decoder: it must never return more than the limit.
func FuzzReadBody(f *testing.F) {
	const limit = 64 << 10
	plain := []byte(`{"more":false,"objects":[{"type":"indicator","id":"indicator--1"}]}`)
	zenc, _ := zstd.NewWriter(nil)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	for _, seed := range []struct {
		enc  uint8
		body []byte
	}{
		{0, plain},
		{1, zenc.EncodeAll(plain, nil)},
		{1, zenc.EncodeAll(make([]byte, 2*limit), nil)},
		{2, gz.Bytes()},
		{2, []byte("\x1f\x8b\x08\x00")},
	} {
		f.Add(seed.enc, seed.body)
	}
	c, err := New("http://x/taxii2/root/", WithMaxResponseSize(limit))
	if err != nil {
		f.Fatal(err)
	}
	encodings := []string{"", "zstd", "gzip", "identity", "br"}
	f.Fuzz(func(t *testing.T, enc uint8, body []byte) {
		resp := &http.Response{
			Header:        http.Header{"Content-Encoding": {encodings[int(enc)%len(encodings)]}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: -1,
		}
		out, err := c.readBody(resp)
		if len(out) > limit || (err != nil && out != nil) {
			t.Errorf("readBody(%d bytes) = %d bytes, %v", len(body), len(out), err)
		}
	})
}
