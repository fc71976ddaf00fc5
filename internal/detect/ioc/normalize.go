// Package ioc matches events against indicators of compromise: IP addresses
// and networks, domains (with their subdomains), URLs, e-mail addresses and
// file hashes, compiled from STIX 2.1 observables and indicators.
//
// The Index is built once and then only read: every key is reduced to a
// canonical byte form (4 or 16 bytes for an address, the raw digest for a
// hash, the normalised text otherwise) and hashed to 64 bits (wyhash's core
// with random keys per index, see hash.go) over the form a query is
// usually written in: an IPv4 address as its dotted quad, a digest as its
// hex digits, anything else as its canonical bytes. A line-blocked
// Bloom filter over the hashes (12 bits a key, two words of one cache line
// a probe)
// answers most misses before anything is parsed. Only when it says yes are
// the bucket table and the records read. The records sit in one byte
// array in buckets of about four by hash, each bucket starting with its
// records' tags and lengths so that a look-up goes straight to the record
// of its tag; a record holds the kind (and length), the canonical bytes and
// the source written compactly in place (see refs.go), so that a hit is
// verified against the exact value (no false positive comes out) and its
// source read in one short stretch of memory. A Ref is built only when
// Lookup returns it; Contains and the Matcher's path build none.
//
// Look-ups allocate nothing on a miss: a dotted quad of digits and dots,
// a hex digest (folded to lower case eight digits at a time as it is
// hashed) and domains and URLs already in canonical form (lower case,
// nothing to escape, no default port) are hashed where they lie and tested
// against the filter before they are parsed or decoded; only other values
// are normalised into a stack buffer. Parent domains are probed only at
// label counts some indicator domain has. Networks (CIDR) are kept in a
// bart routing table.
//
// The Matcher is a detect.Engine that reads the configured fields of each
// event, looks them up and emits alerts; its index can be replaced while it
// runs. Warning lists (MISP) suppress known-good values, and hits can be
// turned into STIX 2.1 sightings.
package ioc

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"
)

// Kind is the type of an indicator value.
type Kind uint8

// The kinds of indicator the index holds.
const (
	KindInvalid Kind = iota
	IPv4             // an IPv4 address or network (CIDR)
	IPv6             // an IPv6 address or network (CIDR)
	Domain           // a domain name; it also matches its subdomains
	URL              // an absolute URL, normalised
	Email            // an e-mail address, lower-cased
	MD5              // 32 hex digits
	SHA1             // 40 hex digits
	SHA256           // 64 hex digits
	SHA512           // 128 hex digits
	numKinds
)

var kindNames = [numKinds]string{"invalid", "ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind returns the kind named s (as String prints it).
func ParseKind(s string) (Kind, error) {
	for k := IPv4; k < numKinds; k++ {
		if kindNames[k] == s {
			return k, nil
		}
	}
	return KindInvalid, fmt.Errorf("ioc: unknown kind %q", s)
}

// fixedLen is the length of the canonical bytes of kind k when all have
// one length, else 0.
func (k Kind) fixedLen() int {
	switch k {
	case IPv4:
		return 4
	case IPv6:
		return 16
	}
	return k.hashLen()
}

func (k Kind) hashLen() int {
	switch k {
	case MD5:
		return 16
	case SHA1:
		return 20
	case SHA256:
		return 32
	case SHA512:
		return 64
	}
	return 0
}

// Errors returned (wrapped) for values that cannot be indexed.
var (
	ErrEmpty   = errors.New("empty value")
	ErrInvalid = errors.New("invalid value")
)

const maxValueLen = 8192

// canonical appends the canonical bytes of value of kind k to dst. Address
// and hash kinds become binary; networks are refused here (see Builder.Add).
func canonical(dst []byte, k Kind, value string) ([]byte, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return dst, ErrEmpty
	}
	if len(value) > maxValueLen {
		return dst, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, maxValueLen)
	}
	switch k {
	case IPv4, IPv6:
		a, err := netip.ParseAddr(value)
		if err != nil {
			return dst, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return appendAddr(dst, k, a)
	case Domain:
		return appendDomain(dst, value)
	case URL:
		return appendURL(dst, value)
	case Email:
		return appendEmail(dst, value)
	case MD5, SHA1, SHA256, SHA512:
		return appendHex(dst, value, k.hashLen())
	}
	return dst, fmt.Errorf("%w: kind %v", ErrInvalid, k)
}

func appendAddr(dst []byte, k Kind, a netip.Addr) ([]byte, error) {
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	switch {
	case k == IPv4 && a.Is4():
		b := a.As4()
		return append(dst, b[:]...), nil
	case k == IPv6 && a.Is6():
		b := a.As16()
		return append(dst, b[:]...), nil
	}
	return dst, fmt.Errorf("%w: %v is not an %v address", ErrInvalid, a, k)
}

func appendHex(dst []byte, s string, n int) ([]byte, error) {
	if len(s) != 2*n {
		return dst, fmt.Errorf("%w: %d hex digits, want %d", ErrInvalid, len(s), 2*n)
	}
	start := len(dst)
	dst = slices.Grow(dst, n)
	bad := byte(0)
	for i := 0; i < len(s); i += 2 {
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		bad |= hi | lo
		dst = append(dst, hi<<4|lo&0x0f)
	}
	if bad&0xf0 != 0 {
		return dst[:start], fmt.Errorf("%w: not hexadecimal", ErrInvalid)
	}
	return dst, nil
}

// hexValue maps a byte to its hex digit value, or 0xff. Read-only.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

func unhex(c byte) (byte, bool) {
	v := hexValue[c]
	return v, v != 0xff
}

// appendDomain lower-cases an ASCII domain name, drops one trailing dot and
// checks label lengths and characters. Internationalised names are
// lower-cased as Unicode; they are not converted to punycode.
func appendDomain(dst []byte, s string) ([]byte, error) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return dst, ErrEmpty
	}
	if len(s) > 253 {
		return dst, fmt.Errorf("%w: domain longer than 253 bytes", ErrInvalid)
	}
	start := len(dst)
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			if !utf8.ValidString(s) {
				return dst[:start], fmt.Errorf("%w: domain is not UTF-8", ErrInvalid)
			}
			return appendDomainUnicode(dst[:start], s)
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '.':
			if label == 0 {
				return dst[:start], fmt.Errorf("%w: empty label in domain", ErrInvalid)
			}
			label = -1
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		default:
			return dst[:start], fmt.Errorf("%w: byte %q in domain", ErrInvalid, c)
		}
		label++
		if label > 63 {
			return dst[:start], fmt.Errorf("%w: domain label longer than 63 bytes", ErrInvalid)
		}
		dst = append(dst, c)
	}
	return dst, nil
}

func appendDomainUnicode(dst []byte, s string) ([]byte, error) {
	l := strings.ToLower(s)
	for _, lab := range strings.Split(l, ".") {
		if lab == "" {
			return dst, fmt.Errorf("%w: empty label in domain", ErrInvalid)
		}
		if strings.ContainsAny(lab, " /\\@:?#%\t\r\n\x00") {
			return dst, fmt.Errorf("%w: forbidden character in domain", ErrInvalid)
		}
	}
	return append(dst, l...), nil
}

func appendEmail(dst []byte, s string) ([]byte, error) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return dst, fmt.Errorf("%w: no local part and domain around @", ErrInvalid)
	}
	for i := 0; i < at; i++ {
		c := s[i]
		if c <= ' ' || c == '<' || c == '>' || c == 0x7f {
			return dst, fmt.Errorf("%w: byte %q in e-mail local part", ErrInvalid, c)
		}
	}
	start := len(dst)
	for i := 0; i < at; i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, '@')
	out, err := appendDomain(dst, s[at+1:])
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}
