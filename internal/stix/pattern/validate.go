package pattern

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// Validate checks the rules the grammar cannot express; Parse calls it, so
// it is only needed for trees built by hand. src is the pattern text the
// positions refer to (may be ""). It checks that WITHIN and REPEATS are
// greater than 0 and START is before STOP; that object types follow STIX
// 2.1 section 3.1 and top-level property names use a-z, 0-9 and _; that
// MATCHES compiles as an RE2 expression (the error says PCRE-only
// constructs are unsupported); that ISSUBSET and ISSUPERSET have an IPv4 or
// IPv6 CIDR (or address); and that =, != and IN on hashes.<algorithm> for
// the fixed-length algorithms of hash-algorithm-ov (MD5, SHA-1, SHA-256,
// SHA-512, SHA3-256, SHA3-512, any spelling) compare with strings of the
// right number of hex digits. Custom hash names are allowed, as the
// hashes dictionary allows them.
func Validate(src string, p *Pattern) error {
	if err := validate(src, p); err != nil {
		return err
	}
	return nil
}

func validate(src string, p *Pattern) *SyntaxError {
	var walk func(ObsExpr) *SyntaxError
	walk = func(e ObsExpr) *SyntaxError {
		switch e := e.(type) {
		case *ObsTest:
			return validateComp(src, e.Expr)
		case *ObsBinary:
			if err := walk(e.Left); err != nil {
				return err
			}
			return walk(e.Right)
		case *ObsQualified:
			q := e.Qual
			switch {
			case q.Kind == Within && q.Window <= 0:
				return newError(src, q.Pos, "WITHIN needs a number of seconds greater than 0")
			case q.Kind == Repeats && q.Times <= 0:
				return newError(src, q.Pos, "REPEATS needs a count greater than 0")
			case q.Kind == StartStop && !q.Start.Time.Before(q.Stop.Time):
				return newError(src, q.Stop.Pos, "STOP must be later than START")
			}
			return walk(e.Expr)
		}
		return nil
	}
	return walk(p.Root)
}

func validateComp(src string, e CompExpr) *SyntaxError {
	switch e := e.(type) {
	case *CompBinary:
		if err := validateComp(src, e.Left); err != nil {
			return err
		}
		return validateComp(src, e.Right)
	case *Comparison:
		return validateComparison(src, e)
	}
	return nil
}

func validateComparison(src string, c *Comparison) *SyntaxError {
	if msg := stix.CheckTypeName(c.Path.ObjectType); msg != "" {
		return newError(src, c.Path.Pos, "object type %q: %s", c.Path.ObjectType, msg)
	}
	if len(c.Path.Steps) == 0 || c.Path.Steps[0].IsIdx {
		return newError(src, c.Path.Pos, "object path must start with a property name")
	}
	if msg := checkPropName(c.Path.Steps[0].Key); msg != "" {
		return newError(src, c.Path.Pos, "property %q: %s", c.Path.Steps[0].Key, msg)
	}
	switch {
	case c.Op == Exists && len(c.Values) != 0,
		c.Op != Exists && c.Op != In && len(c.Values) != 1:
		return newError(src, c.Pos, "%s takes %s", c.Op, map[bool]string{true: "no value", false: "one value"}[c.Op == Exists])
	case (c.Op == Like || c.Op == Matches || c.Op == IsSubset || c.Op == IsSuperset) && c.Values[0].Kind != LitString:
		return newError(src, c.Values[0].Pos, "%s needs a string", c.Op)
	}
	switch c.Op {
	case Matches:
		if _, err := regexp.Compile(c.Values[0].Str); err != nil {
			return newError(src, c.Values[0].Pos, "MATCHES: regular expression does not compile as RE2 "+
				"(PCRE look-arounds, back-references, atomic groups and possessive quantifiers are unsupported): %v", err)
		}
	case IsSubset, IsSuperset:
		if _, ok := parsePrefix(c.Values[0].Str); !ok {
			return newError(src, c.Values[0].Pos, "%s needs an IPv4 or IPv6 CIDR string, got %q", c.Op, c.Values[0].Str)
		}
	}
	if alg, ok := hashStep(c.Path); ok && (c.Op == Eq || c.Op == Neq || c.Op == In) {
		if want := hashHexLen[alg]; want > 0 {
			for _, v := range c.Values {
				if v.Kind != LitString || len(v.Str) != want || !isHex(v.Str) {
					return newError(src, v.Pos, "%s hash must be %d hex digits, got %s", alg, want, v.String())
				}
			}
		}
	}
	return nil
}

// checkPropName checks a top-level property name: a-z, 0-9 and underscore,
// at most 250 characters ("id" is allowed though shorter than 3).
func checkPropName(k string) string {
	if k == "" || len(k) > 250 {
		return "property name must be 1 to 250 characters long"
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "property name must only contain a-z, 0-9 and underscore"
		}
	}
	return ""
}

// hashHexLen gives the hex length of the hash algorithms of
// hash-algorithm-ov, by canonical name.
var hashHexLen = map[string]int{"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128, "SHA3-256": 64, "SHA3-512": 128, "SSDEEP": 0, "TLSH": 0}

// canonicalHash maps a hash name written any way ("sha256", "SHA-256",
// "Sha_256") to its hash-algorithm-ov spelling, or returns it unchanged.
func canonicalHash(name string) string {
	var buf [16]byte
	k := buf[:0]
	for i := 0; i < len(name) && len(k) < len(buf); i++ {
		switch c := name[i]; {
		case c == '-' || c == '_':
		case c >= 'a' && c <= 'z':
			k = append(k, c-'a'+'A')
		default:
			k = append(k, c)
		}
	}
	if len(name) > 3*len(buf) {
		return name
	}
	switch string(k) {
	case "MD5":
		return "MD5"
	case "SHA1":
		return "SHA-1"
	case "SHA256":
		return "SHA-256"
	case "SHA512":
		return "SHA-512"
	case "SHA3256":
		return "SHA3-256"
	case "SHA3512":
		return "SHA3-512"
	case "SSDEEP":
		return "SSDEEP"
	case "TLSH":
		return "TLSH"
	}
	return name
}

// hashStep reports whether the path ends in hashes.<name>, and the
// canonical algorithm name.
func hashStep(p ObjectPath) (string, bool) {
	n := len(p.Steps)
	if n < 2 || p.Steps[n-1].IsIdx || p.Steps[n-2].IsIdx || p.Steps[n-2].Key != "hashes" {
		return "", false
	}
	return canonicalHash(p.Steps[n-1].Key), true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// parsePrefix reads a CIDR or a bare address (as a full-length prefix).
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}
