package misp

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// shieldwallNamespace names identifiers this package derives when MISP gives
// none usable (for example an attribute without a valid uuid). It is the
// UUIDv5 of the project URL in the URL namespace, the same in every
// Shieldwall package that derives ids.
var shieldwallNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/shieldwall/shieldwall"))

// canonicalUUID returns s lower-cased when it is a canonical RFC 4122 UUID
// of version 1 to 5 (36 characters, hyphenated), as STIX identifiers
// require, and false otherwise.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil || u.Variant() != uuid.RFC4122 || u.Version() < 1 || u.Version() > 5 {
		return "", false
	}
	return u.String(), true
}

// derivedUUID is a UUIDv5 in the Shieldwall namespace over parts.
func derivedUUID(parts ...string) string {
	return uuid.NewSHA1(shieldwallNamespace, []byte(strings.Join(parts, "\x00"))).String()
}

// scoID is the deterministic id of a cyber-observable object (STIX 2.1
// section 2.9).
func scoID(typ string, contributing map[string]any) string {
	return stix.SCOID(typ, contributing)
}

// quote renders s as a STIX pattern string literal.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('\'')
	return b.String()
}

// ts renders t as a STIX timestamp with millisecond precision.
func ts(t time.Time) string { return stix.FormatTime(t, 3) }
