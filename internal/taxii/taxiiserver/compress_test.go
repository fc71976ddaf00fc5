package taxiiserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/shieldwall/shieldwall/internal/taxii"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	e, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.EncodeAll(b, nil)
}

func manyIndicators(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = indicator(from+i, 1)
	}
	return out
}

// TestCompressedRequests posts envelopes with each Content-Encoding.
func TestCompressedRequests(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxContentLength = 64 << 10 })
	small := []byte(envelope(manyIndicators(0, 20)...))
	// About 150 KB of JSON that compresses far below the 64 KiB limit.
	big := []byte(envelope(manyIndicators(100, 600)...))
	if len(gzipBytes(t, big)) >= 64<<10 || len(zstdBytes(t, big)) >= 64<<10 || len(big) <= 64<<10 {
		t.Fatalf("fixture: %d bytes raw, must be over 64 KiB and compress below", len(big))
	}
	tests := []struct {
		name     string
		encoding string
		body     []byte
		status   int
	}{
		{"gzip", "gzip", gzipBytes(t, small), http.StatusAccepted},
		{"zstd", "zstd", zstdBytes(t, small), http.StatusAccepted},
		{"ZSTD upper case", " ZSTD ", zstdBytes(t, small), http.StatusAccepted},
		{"identity", "identity", small, http.StatusAccepted},
		{"brotli", "br", small, http.StatusUnsupportedMediaType},
		{"two encodings", "gzip, zstd", zstdBytes(t, gzipBytes(t, small)), http.StatusUnsupportedMediaType},
		{"gzip over the limit once decoded", "gzip", gzipBytes(t, big), http.StatusRequestEntityTooLarge},
		{"zstd over the limit once decoded", "zstd", zstdBytes(t, big), http.StatusRequestEntityTooLarge},
		{"plain over the limit", "", big, http.StatusRequestEntityTooLarge},
		{"corrupt gzip", "gzip", []byte("not gzip at all"), http.StatusBadRequest},
		{"corrupt zstd", "zstd", append([]byte("\x28\xb5\x2f\xfd"), bytes.Repeat([]byte{0xff}, 40)...), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Content-Encoding": tt.encoding}
			resp := f.do(req{method: http.MethodPost, path: objectsPath(collShared), body: string(tt.body), header: h})
			if tt.status != http.StatusAccepted {
				e := checkError(t, "POST "+tt.name, resp, tt.status)
				if tt.status == http.StatusRequestEntityTooLarge && !strings.Contains(e.Description, "65536") {
					t.Errorf("POST %s: description %q, want the limit", tt.name, e.Description)
				}
				return
			}
			if resp.status != tt.status {
				t.Fatalf("POST %s = %d %s, want %d", tt.name, resp.status, resp.body, tt.status)
			}
			var st taxii.Status
			if err := json.Unmarshal(resp.body, &st); err != nil || st.SuccessCount != 20 {
				t.Errorf("POST %s: status %s (%v), want 20 successes", tt.name, resp.body, err)
			}
		})
	}
}

// TestUnauthenticatedBombNotDecoded: a compressed body from a caller
// without credentials is answered 401 without being decoded.
func TestCompressAuthFirst(t *testing.T) {
	var read int64
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized) // never reads the body
	})
	h := Compress(inner, 1<<20)
	body := &countReader{r: bytes.NewReader(zstdBytes(t, make([]byte, 10<<20))), n: &read}
	r := httptest.NewRequest(http.MethodPost, "/taxii2/", body)
	r.Header.Set("Content-Encoding", "zstd")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || read != 0 {
		t.Errorf("Compress(handler not reading) = %d having read %d bytes, want 401 and 0", w.Code, read)
	}
}

type countReader struct {
	r io.Reader
	n *int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// TestCompressedResponses asks for each Accept-Encoding.
func TestCompressedResponses(t *testing.T) {
	f := newFixture(t)
	f.post(collShared, manyIndicators(0, 200)...)
	plain := f.do(req{path: objectsPath(collShared), header: map[string]string{"Accept-Encoding": "identity"}})
	if plain.status != http.StatusOK || len(plain.body) < 10000 {
		t.Fatalf("GET objects = %d with %d bytes", plain.status, len(plain.body))
	}
	tests := []struct {
		accept string
		path   string
		want   string
	}{
		{"zstd, gzip", objectsPath(collShared), "zstd"},
		{"gzip;q=1, zstd;q=0.5", objectsPath(collShared), "zstd"},
		{"gzip", objectsPath(collShared), "gzip"},
		{"x-gzip", objectsPath(collShared), "gzip"},
		{"*", objectsPath(collShared), "gzip"},
		{"*, gzip;q=0", objectsPath(collShared), ""},
		{"zstd;q=0, gzip", objectsPath(collShared), "gzip"},
		{"br", objectsPath(collShared), ""},
		{"identity", objectsPath(collShared), ""},
		{"zstd", APIRootPath, ""},                            // under 1 KiB
		{"zstd", objectPath(collShared, indID(9999)), ""},    // 404, small
		{"zstd", collPath(collShared) + "manifest/", "zstd"}, // writeJSON, no Content-Length
	}
	for _, tt := range tests {
		resp := f.do(req{path: tt.path, header: map[string]string{"Accept-Encoding": tt.accept}})
		what := "GET " + tt.path + " Accept-Encoding " + strconv.Quote(tt.accept)
		if got := resp.header.Get("Content-Encoding"); got != tt.want {
			t.Errorf("%s: Content-Encoding %q, want %q", what, got, tt.want)
			continue
		}
		if v := resp.header.Values("Vary"); len(v) == 0 || v[0] != "Accept-Encoding" {
			t.Errorf("%s: Vary %q, want Accept-Encoding", what, v)
		}
		body := resp.body
		switch tt.want {
		case "zstd":
			d, _ := zstd.NewReader(nil)
			var err error
			if body, err = d.DecodeAll(resp.body, nil); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(resp.body))
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		default:
			if cl := resp.header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
				t.Errorf("%s: Content-Length %q for %d bytes", what, cl, len(body))
			}
		}
		if tt.want != "" && resp.header.Get("Content-Length") != "" && resp.header.Get("Content-Length") != strconv.Itoa(len(resp.body)) {
			t.Errorf("%s: Content-Length %q for %d compressed bytes", what, resp.header.Get("Content-Length"), len(resp.body))
		}
		if !json.Valid(body) {
			t.Errorf("%s: body is not JSON once decoded: %.100q", what, body)
		}
		if tt.path == objectsPath(collShared) && !bytes.Equal(body, plain.body) {
			t.Errorf("%s: decoded body differs from the plain one (%d vs %d bytes)", what, len(body), len(plain.body))
		}
	}
	// HEAD is never compressed.
	resp := f.do(req{method: http.MethodHead, path: objectsPath(collShared), header: map[string]string{"Accept-Encoding": "zstd"}})
	if resp.status != http.StatusOK || resp.header.Get("Content-Encoding") != "" {
		t.Errorf("HEAD objects = %d, Content-Encoding %q; want 200 and none", resp.status, resp.header.Get("Content-Encoding"))
	}
}

// TestCompressStreaming: a handler that flushes before 1 KiB still gets
// one compressed body, and one that writes little gets a Content-Length.
func TestCompressStreaming(t *testing.T) {
	part := bytes.Repeat([]byte("0123456789"), 300)
	tests := []struct {
		name   string
		writes [][]byte
		flush  bool
		want   string
	}{
		{"flush early", [][]byte{[]byte("{"), part, part}, true, "gzip"},
		{"many small writes", [][]byte{part[:100], part[:500], part[:500], part[:10]}, false, "gzip"},
		{"small", [][]byte{[]byte("tiny"), []byte(" body")}, false, ""},
		{"nothing", nil, false, ""},
	}
	for _, tt := range tests {
		h := Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			for _, b := range tt.writes {
				w.Write(b)
				if tt.flush {
					w.(http.Flusher).Flush()
				}
			}
		}), 0)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		want := bytes.Join(tt.writes, nil)
		got := w.Body.Bytes()
		if ce := w.Header().Get("Content-Encoding"); ce != tt.want || w.Code != http.StatusTeapot {
			t.Errorf("%s: %d with Content-Encoding %q, want 418 and %q", tt.name, w.Code, ce, tt.want)
			continue
		}
		if tt.want == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
		} else if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(len(want)) {
			t.Errorf("%s: Content-Length %q, want %d", tt.name, cl, len(want))
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: body of %d bytes, want %d", tt.name, len(got), len(want))
		}
	}
}

func TestAcceptedEncoding(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"zstd"}, "zstd"},
		{[]string{"gzip, deflate, br, zstd"}, "zstd"},
		{[]string{"gzip", "zstd"}, "zstd"},
		{[]string{"zstd;q=0", "gzip;q=0.1"}, "gzip"},
		{[]string{"ZSTD ; Q=0.3"}, "zstd"},
		{[]string{"zstd;q=bogus, gzip"}, "gzip"},
		{[]string{"*;q=0"}, ""},
		{[]string{"*"}, "gzip"},
		{[]string{"identity"}, ""},
	}
	for _, tt := range tests {
		if got := acceptedEncoding(tt.in); got != tt.want {
			t.Errorf("acceptedEncoding(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzAcceptedEncoding(f *testing.F) {
	for _, s := range []string{"zstd, gzip", "gzip;q=0.5", "*;q=0", "br", ";;;=,", "zstd;q=1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		switch got := acceptedEncoding([]string{s}); got {
		case "", "zstd", "gzip":
		default:
			t.Errorf("acceptedEncoding(%q) = %q", s, got)
		}
	})
}

// BenchmarkCompressResponse runs a page of 1,000 indicators (as the
// envelope writer sends it, with Content-Length) through Compress with each
// Accept-Encoding; bytes/s are of uncompressed JSON.
func BenchmarkCompressResponse(b *testing.B) {
	b.Run("synthetic", func(b *testing.B) { benchCompress(b, []byte(envelope(manyIndicators(0, 1000)...))) })
	path := filepath.Join(corpusDir, "attack", "mobile-attack-17.1.json")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("corpus %s absent (see ../shared/corpora/README.md): %v", path, err)
	}
	var bundle struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(data, &bundle); err != nil || len(bundle.Objects) < 1000 {
		b.Fatalf("%s: %d objects, %v", path, len(bundle.Objects), err)
	}
	page, _ := json.Marshal(taxii.Envelope{Objects: bundle.Objects[:1000]})
	b.Run("attack-mobile", func(b *testing.B) { benchCompress(b, page) })
}

func benchCompress(b *testing.B, page []byte) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		w.WriteHeader(http.StatusOK)
		w.Write(page)
	})
	h := Compress(inner, 0)
	for _, enc := range []string{"zstd", "gzip", "identity"} {
		b.Run(enc, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/taxii2/", nil)
			r.Header.Set("Accept-Encoding", enc)
			var wire int
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{header: http.Header{}}
				h.ServeHTTP(w, r)
				wire = w.n
			}
			b.ReportMetric(float64(wire), "wire-B/op")
		})
	}
}
