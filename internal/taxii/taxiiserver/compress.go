package taxiiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/shieldwall/shieldwall/internal/taxii"
)

// minCompressSize is the smallest response body worth compressing: below
// it, the framing costs about what compression saves.
const minCompressSize = 1024

// zstdWindow bounds the window of response encoders, and so their memory:
// pages of objects are rarely bigger, and matches further back gain little.
const zstdWindow = 1 << 20

// Compress wraps h with HTTP compression both ways:
//
//   - a request body with Content-Encoding gzip or zstd (or identity) is
//     decoded as h reads it, with at most maxBody bytes on the wire and,
//     above all, once decoded (past it, reads fail with *http.MaxBytesError,
//     which the server answers with 413); any other encoding is answered
//     with a 415 TAXII error without calling h;
//   - a response is compressed when the request's Accept-Encoding admits
//     zstd (preferred) or gzip and the body is at least 1 KiB, with
//     Content-Encoding set; every response gets "Vary: Accept-Encoding".
//
// Nothing is decoded before h reads the body, so h authenticates the caller
// first. maxBody <= 0 means DefaultMaxContentLength. A Server already runs
// behind Compress with its MaxContentLength.
func Compress(h http.Handler, maxBody int64) http.Handler {
	if maxBody <= 0 {
		maxBody = DefaultMaxContentLength
	}
	c := &compressor{next: h, maxBody: maxBody}
	window := uint64(min(max(maxBody, zstd.MinWindowSize), zstd.MaxWindowSize))
	c.zdec.New = func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(window), zstd.WithDecoderMaxMemory(window))
		if err != nil {
			return err
		}
		return d
	}
	c.zenc.New = func() any {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithWindowSize(zstdWindow))
		if err != nil {
			return err
		}
		return e
	}
	c.gzenc.New = func() any { return gzip.NewWriter(nil) }
	return c
}

// ServeHTTP runs the server behind Compress (see New).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

type compressor struct {
	next    http.Handler
	maxBody int64
	// Pools of codecs (or the error making one failed).
	zdec, zenc, gzenc sync.Pool
}

func (c *compressor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept-Encoding")
	if ce := r.Header.Get("Content-Encoding"); ce != "" {
		enc := strings.ToLower(strings.TrimSpace(ce))
		switch enc {
		case "identity":
		case "gzip", "x-gzip", "zstd":
			body := &decodingBody{c: c, enc: enc, w: w, raw: http.MaxBytesReader(w, r.Body, c.maxBody)}
			defer body.release()
			r.Body = http.MaxBytesReader(w, body, c.maxBody)
			r.ContentLength = -1
			r.Header.Del("Content-Length")
		default:
			writeTAXIIError(w, http.StatusUnsupportedMediaType, "Unsupported content encoding",
				fmt.Sprintf("Content-Encoding %q is not one of gzip, zstd or identity", ce))
			return
		}
		r.Header.Del("Content-Encoding")
	}
	enc := acceptedEncoding(r.Header.Values("Accept-Encoding"))
	if enc == "" || r.Method == http.MethodHead {
		c.next.ServeHTTP(w, r)
		return
	}
	cw := &compressWriter{w: w, c: c, enc: enc}
	defer cw.finish()
	c.next.ServeHTTP(cw, r)
}

// decodingBody decodes a request body on first read.
type decodingBody struct {
	c   *compressor
	enc string
	w   http.ResponseWriter
	raw io.ReadCloser
	zr  *zstd.Decoder
	gr  *gzip.Reader
	err error
}

func (b *decodingBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.zr == nil && b.gr == nil {
		if err := b.open(); err != nil {
			b.err = err
			return 0, err
		}
	}
	var n int
	var err error
	if b.zr != nil {
		n, err = b.zr.Read(p)
		if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			err = &http.MaxBytesError{Limit: b.c.maxBody}
		}
	} else {
		n, err = b.gr.Read(p)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}

func (b *decodingBody) open() error {
	switch b.enc {
	case "zstd":
		v := b.c.zdec.Get()
		d, ok := v.(*zstd.Decoder)
		if !ok {
			return fmt.Errorf("zstd decoder: %v", v)
		}
		if err := d.Reset(b.raw); err != nil {
			b.c.zdec.Put(d)
			return fmt.Errorf("zstd: %w", err)
		}
		b.zr = d
	default:
		gr, err := gzip.NewReader(b.raw)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		b.gr = gr
	}
	return nil
}

func (b *decodingBody) Close() error { return b.raw.Close() }

// release returns the decoder to its pool once the handler is done.
func (b *decodingBody) release() {
	if b.zr != nil {
		b.zr.Reset(nil)
		b.c.zdec.Put(b.zr)
		b.zr = nil
	}
}

// acceptedEncoding picks zstd or gzip from Accept-Encoding values ("" for
// neither): the first explicitly accepted of zstd, gzip (or x-gzip), else
// gzip if "*" is accepted and gzip is not refused.
func acceptedEncoding(values []string) string {
	accepted := map[string]bool{}
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding == "x-gzip" {
				coding = "gzip"
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				name, val, ok := strings.Cut(p, "=")
				if ok && strings.EqualFold(strings.TrimSpace(name), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil {
						f = 0
					}
					q = f
				}
			}
			if _, seen := accepted[coding]; !seen {
				accepted[coding] = q > 0
			}
		}
	}
	switch {
	case accepted["zstd"]:
		return "zstd"
	case accepted["gzip"]:
		return "gzip"
	}
	if ok, refused := accepted["gzip"]; accepted["*"] && (!refused || ok) {
		return "gzip"
	}
	return ""
}

// compressWriter compresses the response once it is known to be worth it:
// the handler declared a Content-Length of at least minCompressSize, or
// wrote that much. Smaller bodies go out as they are.
type compressWriter struct {
	w       http.ResponseWriter
	c       *compressor
	enc     string
	status  int  // 0 until the handler's WriteHeader
	decided bool // headers sent; zw says whether compressed
	zw      interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	buf []byte
}

func (cw *compressWriter) Header() http.Header { return cw.w.Header() }

// Unwrap lets http.ResponseController reach the connection.
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.w }

func (cw *compressWriter) WriteHeader(status int) {
	if cw.status != 0 {
		return
	}
	if status < 200 {
		cw.w.WriteHeader(status) // informational: not the final header
		return
	}
	cw.status = status
	h := cw.w.Header()
	small := false
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		small = err == nil && n < minCompressSize
	}
	if small || status == http.StatusNoContent || status == http.StatusNotModified || h.Get("Content-Encoding") != "" {
		cw.decided = true
		cw.w.WriteHeader(status)
	}
}

func (cw *compressWriter) Write(p []byte) (int, error) {
	if cw.status == 0 {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.decided {
		if cw.zw != nil {
			return cw.zw.Write(p)
		}
		return cw.w.Write(p)
	}
	if len(cw.buf)+len(p) < minCompressSize {
		cw.buf = append(cw.buf, p...)
		return len(p), nil
	}
	if err := cw.start(); err != nil {
		return 0, err
	}
	return cw.Write(p)
}

// start sends the headers of a compressed response and what was held.
func (cw *compressWriter) start() error {
	cw.decided = true
	var zw interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	switch cw.enc {
	case "zstd":
		e, ok := cw.c.zenc.Get().(*zstd.Encoder)
		if ok {
			zw = e
		}
	default:
		zw = cw.c.gzenc.Get().(*gzip.Writer)
	}
	h := cw.w.Header()
	if zw == nil { // no encoder could be made: send as is
		cw.w.WriteHeader(cw.status)
		_, err := cw.w.Write(cw.buf)
		cw.buf = nil
		return err
	}
	zw.Reset(cw.w)
	cw.zw = zw
	h.Del("Content-Length")
	h.Set("Content-Encoding", cw.enc)
	cw.w.WriteHeader(cw.status)
	_, err := zw.Write(cw.buf)
	cw.buf = nil
	return err
}

// Flush sends what is held, compressed or not, down to the connection.
func (cw *compressWriter) Flush() {
	if cw.status != 0 && !cw.decided && len(cw.buf) > 0 {
		cw.start()
	}
	if f, ok := cw.zw.(interface{ Flush() error }); ok && cw.zw != nil {
		f.Flush()
	}
	if f, ok := cw.w.(http.Flusher); ok {
		f.Flush()
	}
}

// finish ends the response once the handler has returned.
func (cw *compressWriter) finish() {
	switch {
	case cw.status == 0:
		// Nothing written: net/http sends an empty 200.
	case !cw.decided:
		h := cw.w.Header()
		if h.Get("Content-Length") == "" {
			h.Set("Content-Length", strconv.Itoa(len(cw.buf)))
		}
		cw.w.WriteHeader(cw.status)
		cw.w.Write(cw.buf)
	case cw.zw != nil:
		cw.zw.Close()
		cw.zw.Reset(nil)
		if cw.enc == "zstd" {
			cw.c.zenc.Put(cw.zw)
		} else {
			cw.c.gzenc.Put(cw.zw)
		}
		cw.zw = nil
	}
}

// writeTAXIIError writes a TAXII error body with the given status.
func writeTAXIIError(w http.ResponseWriter, status int, title, desc string) {
	body, _ := json.Marshal(taxii.Error{Title: title, Description: desc, HTTPStatus: strconv.Itoa(status)})
	setTAXIIHeaders(w.Header())
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
