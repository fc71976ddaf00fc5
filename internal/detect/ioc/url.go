package ioc

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// NormalizeURL returns the form under which a URL is indexed and looked up:
//
//   - the scheme and host are lower-cased, a trailing dot on the host is
//     dropped and an IPv6 literal is written in its canonical form;
//   - the port is dropped when it is the scheme's default (http 80, https
//     443, ftp 21, ws 80, wss 443) and written without leading zeros;
//   - percent-escapes of unreserved characters (letters, digits, "-._~")
//     are decoded, the others are written with upper-case hex digits, and
//     bytes that may not appear in a URL (space, controls, non-ASCII, a
//     lone "%") are escaped;
//   - the fragment is dropped, and an empty path becomes "/".
//
// Dot segments ("/a/../b") are left alone. The URL must be absolute with an
// authority ("scheme://host...").
func NormalizeURL(s string) (string, error) {
	b, err := appendURL(nil, strings.TrimSpace(s))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func appendURL(dst []byte, s string) ([]byte, error) {
	start := len(dst)
	fail := func(format string, args ...any) ([]byte, error) {
		return dst[:start], fmt.Errorf("%w: url: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	sep := strings.Index(s, "://")
	if sep <= 0 {
		return fail("no scheme://")
	}
	scheme := s[:sep]
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return fail("byte %q in scheme", c)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	schemeLower := dst[start:]
	dst = append(dst, "://"...)
	rest := s[sep+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, rest := rest[:end], rest[end:]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		dst = appendEscaped(dst, authority[:at])
		dst = append(dst, '@')
		authority = authority[at+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		closeAt := strings.IndexByte(host, ']')
		if closeAt < 0 {
			return fail("unclosed [ in host")
		}
		a, err := netip.ParseAddr(host[1:closeAt])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return fail("bad IPv6 literal %q", host[1:closeAt])
		}
		after := host[closeAt+1:]
		if after != "" && after[0] != ':' {
			return fail("junk after IPv6 literal")
		}
		if after != "" {
			port = after[1:]
		}
		dst = append(dst, '[')
		dst = a.AppendTo(dst)
		dst = append(dst, ']')
	} else {
		if i := strings.IndexByte(host, ':'); i >= 0 {
			host, port = host[:i], host[i+1:]
		}
		host = strings.TrimSuffix(host, ".")
		if host == "" {
			return fail("empty host")
		}
		var err error
		if dst, err = appendHost(dst, host); err != nil {
			return dst[:start], err
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || port[0] == '+' {
			return fail("bad port %q", port)
		}
		if n != defaultPort(schemeLower) {
			dst = append(dst, ':')
			dst = strconv.AppendUint(dst, n, 10)
		}
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" || rest[0] == '?' {
		dst = append(dst, '/')
	}
	return appendEscaped(dst, rest), nil
}

func appendHost(dst []byte, host string) ([]byte, error) {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c >= utf8.RuneSelf {
			if !utf8.ValidString(host) {
				return dst, fmt.Errorf("%w: url: host is not UTF-8", ErrInvalid)
			}
			for _, r := range host[i:] {
				if r == utf8.RuneError {
					return dst, fmt.Errorf("%w: url: host is not UTF-8", ErrInvalid)
				}
			}
			return append(dst, strings.ToLower(host[i:])...), nil
		}
		if c <= ' ' || c == 0x7f || strings.IndexByte("<>\"\\^`{|}%[]@", c) >= 0 {
			return dst, fmt.Errorf("%w: url: byte %q in host", ErrInvalid, c)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst, nil
}

func defaultPort(scheme []byte) uint64 {
	switch s := scheme; {
	case string(s) == "http", string(s) == "ws":
		return 80
	case string(s) == "https", string(s) == "wss":
		return 443
	case string(s) == "ftp":
		return 21
	}
	return 0 // never matches a parsed port other than 0
}

const upperHex = "0123456789ABCDEF"

// appendEscaped writes s with percent-encoding normalised.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				v := hi<<4 | lo
				if unreserved(v) {
					dst = append(dst, v)
				} else {
					dst = append(dst, '%', upperHex[v>>4], upperHex[v&15])
				}
				i += 2
				continue
			}
		}
		if c == '%' || c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
