package ioclist

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type is the kind of an indicator value.
type Type string

// The indicator types this package recognises.
const (
	IPv4     Type = "ipv4-addr"
	IPv6     Type = "ipv6-addr"
	IPv4CIDR Type = "ipv4-cidr"
	IPv6CIDR Type = "ipv6-cidr"
	Domain   Type = "domain-name"
	URL      Type = "url"
	Email    Type = "email-addr"
	MD5      Type = "md5"
	SHA1     Type = "sha1"
	SHA256   Type = "sha256"
	SHA512   Type = "sha512"
)

// refangReplacer undoes the usual defanging of IOCs in reports. Immutable.
var refangReplacer = strings.NewReplacer(
	"[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".", "{dot}", ".",
	"[@]", "@", "(@)", "@", "{@}", "@", "[at]", "@", "(at)", "@",
	"[:]", ":", "[://]", "://", "[/]", "/",
)

// Refang undoes common defanging: hxxp:// and hxxps:// (any case, also
// hXXp, and fxp for ftp), [.] (.) {.} [dot], [@] (@) [at], [:] and [://].
func Refang(s string) string {
	if strings.ContainsAny(s, "[({") {
		s = refangReplacer.Replace(s)
	}
	if i := strings.Index(s, "://"); i > 0 {
		switch scheme := strings.ToLower(s[:i]); scheme {
		case "hxxp", "hxxps":
			s = "http" + scheme[4:] + s[i:]
		case "fxp":
			s = "ftp" + s[i:]
		}
	}
	return s
}

// Errors Detect returns, wrapped with the offending value.
var (
	ErrEmpty        = errors.New("empty value")
	ErrUnrecognised = errors.New("not an IP address, CIDR block, domain, URL, email address or MD5/SHA-1/SHA-256/SHA-512 hash")
)

// Detect refangs s, decides its type and returns its normalised value:
// addresses and prefixes in canonical form, domains, hashes and the host of
// email addresses lower-cased, the scheme of URLs lower-cased. An error
// wraps ErrEmpty or ErrUnrecognised.
func Detect(s string) (Type, string, error) {
	s = strings.TrimSpace(Refang(strings.TrimSpace(s)))
	if s == "" {
		return "", "", ErrEmpty
	}
	if t, v, ok := detectIP(s); ok {
		return t, v, nil
	}
	if t, ok := hashType(s); ok {
		return t, strings.ToLower(s), nil
	}
	if strings.Contains(s, "://") {
		if v, ok := normalizeURL(s); ok {
			return URL, v, nil
		}
		return "", "", fmt.Errorf("%q: malformed URL: %w", s, ErrUnrecognised)
	}
	if strings.Contains(s, "@") {
		if v, ok := normalizeEmail(s); ok {
			return Email, v, nil
		}
		return "", "", fmt.Errorf("%q: malformed email address: %w", s, ErrUnrecognised)
	}
	if d, ok := normalizeDomain(s); ok {
		return Domain, d, nil
	}
	if host, _, found := strings.Cut(s, "/"); found {
		if _, ok := normalizeDomain(host); ok && !strings.ContainsAny(s, " \t'\"<>") {
			// evil.example/path: a URL without a scheme.
			return URL, s, nil
		}
	}
	return "", "", fmt.Errorf("%q: %w", s, ErrUnrecognised)
}

func detectIP(s string) (Type, string, bool) {
	// Cheap filter first: most values are not addresses, and a failed
	// netip parse allocates its error.
	sep := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' || c == ':':
			sep = true
		case c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
		default:
			return "", "", false
		}
	}
	if !sep {
		return "", "", false
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return "", "", false
		}
		a := p.Addr()
		if a.Is4In6() {
			return "", "", false
		}
		if p.IsSingleIP() {
			if a.Is4() {
				return IPv4, a.String(), true
			}
			return IPv6, a.String(), true
		}
		if a.Is4() {
			return IPv4CIDR, p.Masked().String(), true
		}
		return IPv6CIDR, p.Masked().String(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", "", false
	}
	a = a.Unmap()
	if a.Is4() {
		return IPv4, a.String(), true
	}
	return IPv6, a.String(), true
}

func hashType(s string) (Type, bool) {
	var t Type
	switch len(s) {
	case 32:
		t = MD5
	case 40:
		t = SHA1
	case 64:
		t = SHA256
	case 128:
		t = SHA512
	default:
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	return t, true
}

func normalizeURL(s string) (string, bool) {
	if strings.ContainsAny(s, " \t\r\n") || !utf8.ValidString(s) {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", false
	}
	i := strings.Index(s, "://")
	return strings.ToLower(s[:i]) + s[i:], true
}

func normalizeEmail(s string) (string, bool) {
	local, host, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(host, "@") || strings.ContainsAny(local, " \t\"<>(),;:\\[]") || !utf8.ValidString(local) {
		return "", false
	}
	d, ok := normalizeDomain(host)
	if !ok {
		return "", false
	}
	return local + "@" + d, true
}

// normalizeDomain checks a host name with at least two labels and a
// non-numeric top-level label, and lower-cases it. Underscores are allowed:
// malicious infrastructure uses them.
func normalizeDomain(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 || !utf8.ValidString(s) {
		return "", false
	}
	s = strings.ToLower(s)
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for _, r := range l {
			if !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))) {
				return "", false
			}
		}
	}
	tld := labels[len(labels)-1]
	if !strings.HasPrefix(tld, "xn--") {
		for _, r := range tld {
			if !unicode.IsLetter(r) {
				return "", false
			}
		}
	}
	return s, true
}

// Pattern renders the STIX pattern matching value v of type t, with quotes
// and backslashes escaped. v should come from Detect.
func Pattern(t Type, v string) string {
	q := quote(v)
	switch t {
	case IPv4:
		return "[ipv4-addr:value = " + q + "]"
	case IPv6:
		return "[ipv6-addr:value = " + q + "]"
	case IPv4CIDR:
		return "[ipv4-addr:value ISSUBSET " + q + "]"
	case IPv6CIDR:
		return "[ipv6-addr:value ISSUBSET " + q + "]"
	case Domain:
		return "[domain-name:value = " + q + "]"
	case URL:
		return "[url:value = " + q + "]"
	case Email:
		return "[email-addr:value = " + q + "]"
	case MD5:
		return "[file:hashes.MD5 = " + q + "]"
	case SHA1:
		return "[file:hashes.'SHA-1' = " + q + "]"
	case SHA256:
		return "[file:hashes.'SHA-256' = " + q + "]"
	case SHA512:
		return "[file:hashes.'SHA-512' = " + q + "]"
	}
	return ""
}

// quote renders s as a STIX pattern string literal.
func quote(s string) string {
	n := strings.Count(s, `'`) + strings.Count(s, `\`)
	if n == 0 {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.Grow(len(s) + n + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\'' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}
