package taxiiclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/shieldwall/shieldwall/internal/taxii"
)

// acceptEncoding is the Accept-Encoding of each compression setting: with
// Zstd, zstd first (smaller and faster to decode) and gzip for servers
// without it; with None, nothing compressed either way.
func acceptEncoding(e Encoding) string {
	switch e {
	case Gzip:
		return "gzip"
	case None:
		return "identity"
	}
	return "zstd, gzip"
}

// maxErrorText bounds the part of a non-TAXII error body kept in the
// description of the synthesised *taxii.Error.
const maxErrorText = 512

// reply is a response read in full and decompressed.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errNoRetry marks an attempt's error as final.
type errNoRetry struct{ err error }

func (e errNoRetry) Error() string { return e.err.Error() }
func (e errNoRetry) Unwrap() error { return e.err }

// call sends one request, retrying as the package documentation says,
// and returns the response if its status is want. Any other status gives
// an error wrapping a *taxii.Error. body, when not nil, is the raw request
// body; it is compressed once and resent as is on retries.
func (c *Client) call(ctx context.Context, method string, u *url.URL, body []byte, want int) (reply, error) {
	rep, err := c.callRetry(ctx, method, u, body, want)
	if err != nil {
		c.stats.failures.Add(1)
		return reply{}, fmt.Errorf("taxiiclient: %s %s: %w", method, u.Redacted(), err)
	}
	return rep, nil
}

func (c *Client) callRetry(ctx context.Context, method string, u *url.URL, body []byte, want int) (reply, error) {
	wire, err := c.encode(body)
	if err != nil {
		return reply{}, err
	}
	var lastErr error
	var retryAfter time.Duration
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > c.maxRetries {
				return reply{}, fmt.Errorf("giving up after %d attempts: %w", attempt, lastErr)
			}
			wait := c.backoff(attempt - 1)
			if retryAfter > 0 {
				retryAfter = min(retryAfter, c.maxRetryAfter)
				c.stats.retryAfterN.Add(int64(retryAfter))
				wait = max(wait, retryAfter)
			}
			c.log.DebugContext(ctx, "taxii retry", "method", method, "url", u.Redacted(), "attempt", attempt, "wait", wait, "err", lastErr)
			if err := sleep(ctx, wait); err != nil {
				return reply{}, fmt.Errorf("%w (last failure: %w)", err, lastErr)
			}
			c.stats.retries.Add(1)
		}
		rep, err := c.attempt(ctx, method, u, body, wire)
		if err != nil {
			if ctx.Err() != nil {
				return reply{}, err
			}
			var nr errNoRetry
			if errors.As(err, &nr) {
				return reply{}, nr.err
			}
			lastErr, retryAfter = err, 0
			continue
		}
		if rep.status == want {
			return rep, nil
		}
		terr := taxiiError(rep)
		if !retryableStatus(rep.status) {
			return reply{}, terr
		}
		lastErr = terr
		retryAfter, _ = parseRetryAfter(rep.header.Get("Retry-After"), time.Now())
	}
}

// retryableStatus: too many requests and server failures that may pass.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return code > 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported &&
		code < 600
}

// attempt makes one HTTP exchange. Its errors are worth retrying unless
// they are errNoRetry.
func (c *Client) attempt(ctx context.Context, method string, u *url.URL, raw, wire []byte) (reply, error) {
	var rd io.Reader
	if wire != nil {
		rd = bytes.NewReader(wire)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return reply{}, errNoRetry{err}
	}
	if wire != nil {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(wire)), nil }
		req.Header.Set("Content-Type", taxii.MediaType)
		if c.encoding != None {
			req.Header.Set("Content-Encoding", string(c.encoding))
		}
	}
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Accept-Encoding", acceptEncoding(c.encoding))
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	c.authorize(req)
	c.stats.requests.Add(1)
	c.stats.sentWire.Add(int64(len(wire)))
	c.stats.sentRaw.Add(int64(len(raw)))
	resp, err := c.hc.Do(req)
	if err != nil {
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			return reply{}, errNoRetry{err} // the same certificate comes back
		}
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := c.readBody(resp)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// encode compresses a request body with the configured encoding.
func (c *Client) encode(body []byte) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	switch c.encoding {
	case Zstd:
		return c.zenc.EncodeAll(body, make([]byte, 0, len(body)/4+64)), nil
	case Gzip:
		var buf bytes.Buffer
		buf.Grow(len(body)/4 + 64)
		zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		if err != nil {
			return nil, errNoRetry{fmt.Errorf("gzip: %w", err)}
		}
		if _, err := zw.Write(body); err != nil {
			return nil, errNoRetry{fmt.Errorf("gzip: %w", err)}
		}
		if err := zw.Close(); err != nil {
			return nil, errNoRetry{fmt.Errorf("gzip: %w", err)}
		}
		return buf.Bytes(), nil
	}
	return body, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readBody reads a response body in full, decompressing it by its
// Content-Encoding, and refuses (without retry) more than maxResponse
// bytes on the wire or once decompressed. Read failures (a connection cut
// mid-body, a truncated or corrupt compressed stream) are retryable.
func (c *Client) readBody(resp *http.Response) (out []byte, err error) {
	cr := &countingReader{r: resp.Body}
	defer func() {
		c.stats.recvWire.Add(cr.n)
		c.stats.recvRaw.Add(int64(len(out)))
	}()
	limit := c.maxResponse
	tooLarge := errNoRetry{fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)}
	if resp.ContentLength > limit {
		return nil, tooLarge
	}
	wire := io.LimitReader(cr, limit+1)
	ce := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	switch ce {
	case "", "identity":
		out, err = io.ReadAll(wire)
		if err != nil {
			return nil, fmt.Errorf("reading body: %w", err)
		}
	case "zstd":
		comp, err := io.ReadAll(wire)
		if err != nil {
			return nil, fmt.Errorf("reading body: %w", err)
		}
		if int64(len(comp)) > limit {
			return nil, tooLarge
		}
		out, err = c.zdec.DecodeAll(comp, nil)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, tooLarge
		}
		if err != nil {
			return nil, fmt.Errorf("decoding zstd body: %w", err)
		}
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(wire)
		if err != nil {
			return nil, fmt.Errorf("decoding gzip body: %w", err)
		}
		out, err = io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("decoding gzip body: %w", err)
		}
	default:
		return nil, errNoRetry{fmt.Errorf("unsupported Content-Encoding %q", ce)}
	}
	if int64(len(out)) > limit {
		return nil, tooLarge
	}
	return out, nil
}

// taxiiError makes the *taxii.Error of a failed response: its body if that
// is a TAXII error, else one made from the status and the start of the
// body. HTTPStatus is always the response's status.
func taxiiError(rep reply) *taxii.Error {
	status := strconv.Itoa(rep.status)
	var e taxii.Error
	if err := json.Unmarshal(rep.body, &e); err == nil && e.Title != "" {
		e.HTTPStatus = status
		return &e
	}
	text := rep.body
	if len(text) > maxErrorText {
		text = text[:maxErrorText]
	}
	desc := strings.TrimSpace(strings.ToValidUTF8(string(text), string(utf8.RuneError)))
	return &taxii.Error{Title: http.StatusText(rep.status), Description: desc, HTTPStatus: status}
}

// StatusCode returns the HTTP status of the *taxii.Error in err's chain, or
// 0 when there is none (a transport failure).
func StatusCode(err error) int {
	var e *taxii.Error
	if !errors.As(err, &e) {
		return 0
	}
	n, _ := strconv.Atoi(e.HTTPStatus)
	return n
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (relative to now). ok is false for an absent or malformed value. A date
// in the past gives 0.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs < 0 {
			return 0, false
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
