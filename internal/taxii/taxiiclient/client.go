// Package taxiiclient is a TAXII 2.1 client made for federation over slow,
// lossy links: it compresses request bodies and accepts compressed
// responses (zstd or gzip), bounds what it decompresses, retries network
// failures, 429 and 5xx with exponential backoff and full jitter (honouring
// Retry-After), turns TAXII error bodies into *taxii.Error and counts the
// bytes it moves.
//
// A Client is safe for concurrent use. It keeps no global state: the HTTP
// client, logger and credentials come from its Options.
package taxiiclient

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Encoding is a content coding the client can use for request bodies.
type Encoding string

// Encodings.
const (
	Zstd Encoding = "zstd"
	Gzip Encoding = "gzip"
	// None sends bodies as they are (responses may still come compressed).
	None Encoding = "identity"
)

// Defaults of the options.
const (
	DefaultMaxRetries      = 5
	DefaultBackoffBase     = 200 * time.Millisecond
	DefaultBackoffCap      = 30 * time.Second
	DefaultMaxResponseSize = 64 << 20 // 64 MiB, decompressed
	DefaultUserAgent       = "shieldwall-taxiiclient/1"
	// DefaultMaxRetryAfter bounds how long a Retry-After header can make
	// the client wait before one retry.
	DefaultMaxRetryAfter = 5 * time.Minute
)

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient sets the HTTP client (default: a new http.Client with a
// clone of http.DefaultTransport). Its transport must not decompress
// responses itself: the client sets Accept-Encoding, so Go's default
// transport does not.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("nil HTTP client")
		}
		c.hc = hc
		return nil
	}
}

// WithBearer authenticates every request with "Authorization: Bearer token".
func WithBearer(token string) Option {
	return func(c *Client) error {
		if token == "" {
			return errors.New("empty bearer token")
		}
		c.authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
		return nil
	}
}

// WithBasic authenticates every request with HTTP Basic authentication
// (Shieldwall servers take the token's name as user and its secret as
// password).
func WithBasic(user, password string) Option {
	return func(c *Client) error {
		if user == "" || strings.Contains(user, ":") {
			return fmt.Errorf("basic user %q: empty or contains ':'", user)
		}
		c.authorize = func(r *http.Request) { r.SetBasicAuth(user, password) }
		return nil
	}
}

// WithCompression sets how request bodies are compressed and which
// response encodings are asked for (default Zstd): Zstd sends zstd and
// accepts zstd or gzip, Gzip sends and accepts gzip, None compresses
// nothing either way. Whatever it is, a response is decoded by its
// Content-Encoding.
func WithCompression(e Encoding) Option {
	return func(c *Client) error {
		switch e {
		case Zstd, Gzip, None:
			c.encoding = e
			return nil
		case "":
			c.encoding = None
			return nil
		}
		return fmt.Errorf("unknown compression %q (want zstd, gzip or identity)", e)
	}
}

// WithMaxRetries sets how many times one call is retried after its first
// attempt (default 5; 0 disables retries).
func WithMaxRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return fmt.Errorf("negative max retries %d", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithBackoff sets the base and cap of the exponential backoff: before
// retry n (from 0) the client sleeps a uniformly random time in
// [0, min(cap, base·2ⁿ)) ("full jitter"), or what Retry-After asks if that
// is longer.
func WithBackoff(base, limit time.Duration) Option {
	return func(c *Client) error {
		if base <= 0 || limit < base {
			return fmt.Errorf("backoff base %v, cap %v: want 0 < base <= cap", base, limit)
		}
		c.backoffBase, c.backoffCap = base, limit
		return nil
	}
}

// WithMaxRetryAfter bounds the wait a Retry-After header can ask for
// (default 5 minutes); a server asking for more is waited on for this long.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("negative max Retry-After %v", d)
		}
		c.maxRetryAfter = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// WithLogger sets the logger of retries (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("nil logger")
		}
		c.log = l
		return nil
	}
}

// WithMaxResponseSize bounds the size of one response body after
// decompression, and on the wire (default 64 MiB). A bigger response fails
// with an error wrapping ErrResponseTooLarge and is not retried: this is
// the protection against decompression bombs. A zstd response whose frame
// declares a window larger than the limit is refused as well (zstd's usual
// windows are 8 MiB at most, far below the default).
func WithMaxResponseSize(n int64) Option {
	return func(c *Client) error {
		if n <= 0 {
			return fmt.Errorf("max response size %d: want > 0", n)
		}
		c.maxResponse = n
		return nil
	}
}

// WithDiscoveryURL sets the URL of the discovery resource (default:
// "/taxii2/" on the API root's host, where TAXII 2.1 puts it).
func WithDiscoveryURL(u string) Option {
	return func(c *Client) error {
		p, err := parseBase(u)
		if err != nil {
			return fmt.Errorf("discovery URL: %w", err)
		}
		c.discovery = p
		return nil
	}
}

// ErrResponseTooLarge is wrapped by the error of a response bigger than the
// limit of WithMaxResponseSize.
var ErrResponseTooLarge = errors.New("response too large")

// Client talks to one TAXII 2.1 API root.
type Client struct {
	root      *url.URL // API root, path ending in "/"
	discovery *url.URL

	hc            *http.Client
	authorize     func(*http.Request)
	encoding      Encoding
	maxRetries    int
	backoffBase   time.Duration
	backoffCap    time.Duration
	maxRetryAfter time.Duration
	userAgent     string
	log           *slog.Logger
	maxResponse   int64

	zenc *zstd.Encoder // EncodeAll is safe for concurrent use
	zdec *zstd.Decoder // DecodeAll is safe for concurrent use

	stats counters
}

// New returns a client of the API root at apiRootURL (for a Shieldwall
// node, "https://host:port/taxii2/root/").
func New(apiRootURL string, opts ...Option) (*Client, error) {
	root, err := parseBase(apiRootURL)
	if err != nil {
		return nil, fmt.Errorf("taxiiclient: API root: %w", err)
	}
	c := &Client{
		root:          root,
		discovery:     root.ResolveReference(&url.URL{Path: "/taxii2/"}),
		encoding:      Zstd,
		maxRetries:    DefaultMaxRetries,
		backoffBase:   DefaultBackoffBase,
		backoffCap:    DefaultBackoffCap,
		maxRetryAfter: DefaultMaxRetryAfter,
		userAgent:     DefaultUserAgent,
		maxResponse:   DefaultMaxResponseSize,
		authorize:     func(*http.Request) {},
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("taxiiclient: %w", err)
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	// Bodies are in memory: EncodeAll and DecodeAll, with the decoded size
	// bounded by maxResponse, need no pool and are safe for concurrent use
	// (by as many callers at once as GOMAXPROCS, the default concurrency).
	if c.zenc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault)); err != nil {
		return nil, fmt.Errorf("taxiiclient: zstd encoder: %w", err)
	}
	if c.zdec, err = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(uint64(c.maxResponse)+maxBlockSize)); err != nil {
		return nil, fmt.Errorf("taxiiclient: zstd decoder: %w", err)
	}
	return c, nil
}

// maxBlockSize is the largest zstd block: DecodeAll checks its limit a
// block at a time, readBody checks the exact one after it.
const maxBlockSize = 128 << 10

// parseBase parses an absolute http(s) URL and makes its path end in "/".
func parseBase(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q has a query or fragment", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u, nil
}

// Stats counts what a Client did since it was made. Bytes are those of
// bodies (headers are not counted): "Wire" as sent or received, possibly
// compressed, "Raw" before compression or after decompression.
type Stats struct {
	Requests         int64 // HTTP attempts, retries included
	Retries          int64 // attempts after the first of a call
	Failures         int64 // calls that returned an error
	BytesSentWire    int64
	BytesSentRaw     int64
	BytesRecvWire    int64
	BytesRecvRaw     int64
	RetryAfterWaited time.Duration // total wait asked for by Retry-After
}

type counters struct {
	requests, retries, failures                       atomic.Int64
	sentWire, sentRaw, recvWire, recvRaw, retryAfterN atomic.Int64
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{
		Requests:         s.requests.Load(),
		Retries:          s.retries.Load(),
		Failures:         s.failures.Load(),
		BytesSentWire:    s.sentWire.Load(),
		BytesSentRaw:     s.sentRaw.Load(),
		BytesRecvWire:    s.recvWire.Load(),
		BytesRecvRaw:     s.recvRaw.Load(),
		RetryAfterWaited: time.Duration(s.retryAfterN.Load()),
	}
}

// backoff returns the full-jitter wait before retry n (from 0).
func (c *Client) backoff(n int) time.Duration {
	d := c.backoffCap
	if n < 62 {
		if b := c.backoffBase << n; b > 0 && b < d {
			d = b
		}
	}
	return rand.N(d)
}
