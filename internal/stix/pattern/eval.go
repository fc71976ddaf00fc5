package pattern

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Hit is one property value that satisfied a comparison.
type Hit struct {
	Seq    uint64 // the observation's sequence number (see Matcher.Observe)
	Path   string // the comparison's object path, "type:steps"
	Value  string // the value found, as text
	Origin string // where the value came from (Object.Origin), when known
}

// objHit is a hit on the object with index obj in the observation.
type objHit struct {
	Hit
	obj int
}

// compNode evaluates a comparison expression over one observation to the
// set of objects that satisfy it.
type compNode interface {
	eval(o *Observation, hits *[]objHit) bitset
	types() []string
}

type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// leaf is a compiled comparison.
type leaf struct {
	c      *Comparison
	path   string
	hashCI bool
	re     *regexp.Regexp // Like, Matches
	prefix netip.Prefix   // IsSubset, IsSuperset
}

func (l *leaf) types() []string { return []string{l.c.Path.ObjectType} }

func (l *leaf) eval(o *Observation, hits *[]objHit) bitset {
	out := newBitset(len(o.Objects))
	for i, obj := range o.Objects {
		if obj.Type != l.c.Path.ObjectType {
			continue
		}
		found := false
		walk(obj, l.c.Path.Steps, false, "", func(v any, origin string) bool {
			found = true
			if l.test(v) != l.c.Negate {
				out.set(i)
				// Matchers keep hits across observations: copy the strings,
				// which may share memory with a reused event buffer.
				*hits = append(*hits, objHit{Hit{Path: l.path, Value: strings.Clone(valueText(v)), Origin: strings.Clone(origin)}, i})
				return false
			}
			return true
		})
		if !found && l.c.Op == Exists && l.c.Negate {
			out.set(i)
			*hits = append(*hits, objHit{Hit{Path: l.path}, i})
		}
	}
	return out
}

// walk calls fn with every value the steps reach from v (several through
// [*]), stopping when fn returns false. It reports whether to go on.
func walk(v any, steps []Step, inHashes bool, origin string, fn func(any, string) bool) bool {
	if len(steps) == 0 {
		return fn(v, origin)
	}
	s := steps[0]
	switch x := v.(type) {
	case *Object:
		if s.IsIdx {
			return true
		}
		val, ok := x.Props[s.Key]
		if !ok {
			return true
		}
		return walk(val, steps[1:], s.Key == "hashes", x.Origin[s.Key], fn)
	case map[string]any:
		if s.IsIdx {
			return true
		}
		val, ok := x[s.Key]
		if !ok && inHashes {
			want := canonicalHash(s.Key)
			for k, hv := range x {
				if canonicalHash(k) == want {
					val, ok = hv, true
					break
				}
			}
		}
		if !ok {
			return true
		}
		return walk(val, steps[1:], s.Key == "hashes", origin, fn)
	case []any:
		if !s.IsIdx {
			return true
		}
		if s.Any {
			for _, e := range x {
				if !walk(e, steps[1:], false, origin, fn) {
					return false
				}
			}
			return true
		}
		if s.Index >= 0 && s.Index < len(x) {
			return walk(x[s.Index], steps[1:], false, origin, fn)
		}
	case []string:
		if !s.IsIdx {
			return true
		}
		for i, e := range x {
			if (s.Any || i == s.Index) && !walk(e, steps[1:], false, origin, fn) {
				return false
			}
		}
	}
	return true
}

func (l *leaf) test(v any) bool {
	switch l.c.Op {
	case Exists:
		return true
	case Eq, Neq, Lt, Le, Gt, Ge:
		r, ok := compare(v, l.c.Values[0], l.hashCI)
		if !ok {
			return false
		}
		switch l.c.Op {
		case Eq:
			return r == 0
		case Neq:
			return r != 0
		case Lt:
			return r < 0
		case Le:
			return r <= 0
		case Gt:
			return r > 0
		}
		return r >= 0
	case In:
		for _, lit := range l.c.Values {
			if r, ok := compare(v, lit, l.hashCI); ok && r == 0 {
				return true
			}
		}
		return false
	case Like, Matches:
		s, ok := stringForm(v)
		if !ok {
			s, ok = scalarText(v)
		}
		return ok && l.re.MatchString(s)
	case IsSubset, IsSuperset:
		s, ok := v.(string)
		if !ok {
			return false
		}
		p, ok := parsePrefix(s)
		if !ok || p.Addr().Is4() != l.prefix.Addr().Is4() {
			return false
		}
		if l.c.Op == IsSubset {
			return l.prefix.Bits() <= p.Bits() && l.prefix.Contains(p.Addr())
		}
		return p.Bits() <= l.prefix.Bits() && p.Contains(l.prefix.Addr())
	}
	return false
}

func stringForm(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

// scalarText is the string form of a number or boolean, for LIKE and
// MATCHES.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

func sign[T int | float64](d T) int {
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}

// compare orders value v against literal l; ok is false when they are not
// comparable.
func compare(v any, l Literal, ci bool) (int, bool) {
	switch l.Kind {
	case LitString:
		s, ok := stringForm(v)
		if !ok {
			return 0, false
		}
		if ci {
			return strings.Compare(strings.ToLower(s), strings.ToLower(l.Str)), true
		}
		return strings.Compare(s, l.Str), true
	case LitInt, LitFloat:
		f, ok := number(v)
		if !ok {
			return 0, false
		}
		want := l.Float
		if l.Kind == LitInt {
			want = float64(l.Int)
		}
		return sign(f - want), true
	case LitBool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == l.Bool {
			return 0, true
		}
		return 1, true
	case LitTimestamp:
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x
		case string:
			var err error
			if t, err = parseTimestamp(x); err != nil {
				if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
					return 0, false
				}
			}
		default:
			return 0, false
		}
		return t.Compare(l.Time), true
	case LitBinary, LitHex:
		var b []byte
		switch x := v.(type) {
		case []byte:
			b = x
		case string:
			var err error
			if l.Kind == LitHex {
				b, err = hex.DecodeString(x)
			} else {
				b, err = base64.StdEncoding.DecodeString(x)
			}
			if err != nil {
				b = []byte(x)
			}
		default:
			return 0, false
		}
		return bytes.Compare(b, l.Bytes), true
	}
	return 0, false
}

func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case *Object:
		return x.Type + " " + x.ID
	}
	return fmt.Sprint(v)
}

// boolNode is AND (and true) or OR of two comparison expressions. For AND,
// comparisons on the same object type must hold for the same object;
// comparisons on different types each need some object of their type.
type boolNode struct {
	and         bool
	left, right compNode
	common      map[string]bool // types both sides test (AND)
	all         []string
}

func (b *boolNode) types() []string { return b.all }

func (b *boolNode) eval(o *Observation, hits *[]objHit) bitset {
	mark := len(*hits)
	l := b.left.eval(o, hits)
	if b.and && l.empty() {
		*hits = (*hits)[:mark]
		return l
	}
	r := b.right.eval(o, hits)
	if !b.and {
		for i := range l {
			l[i] |= r[i]
		}
		return l
	}
	if r.empty() {
		*hits = (*hits)[:mark]
		return r
	}
	out := newBitset(len(o.Objects))
	seen := map[string]bool{}
	for i, obj := range o.Objects {
		inL, inR := l.has(i), r.has(i)
		if b.common[obj.Type] {
			if inL && inR {
				out.set(i)
				seen[obj.Type] = true
			}
		} else if inL || inR {
			out.set(i)
		}
	}
	for t := range b.common {
		if !seen[t] {
			*hits = (*hits)[:mark]
			return newBitset(len(o.Objects))
		}
	}
	keep := (*hits)[:mark]
	for _, h := range (*hits)[mark:] {
		if out.has(h.obj) {
			keep = append(keep, h)
		}
	}
	*hits = keep
	return out
}

func compileComp(e CompExpr) (compNode, error) {
	switch e := e.(type) {
	case *CompBinary:
		l, err := compileComp(e.Left)
		if err != nil {
			return nil, err
		}
		r, err := compileComp(e.Right)
		if err != nil {
			return nil, err
		}
		b := &boolNode{and: e.And, left: l, right: r, common: map[string]bool{}}
		lt := map[string]bool{}
		for _, t := range l.types() {
			lt[t] = true
			b.all = append(b.all, t)
		}
		for _, t := range r.types() {
			if lt[t] {
				if e.And {
					b.common[t] = true
				}
			} else {
				b.all = append(b.all, t)
			}
		}
		return b, nil
	case *Comparison:
		l := &leaf{c: e, path: e.Path.String()}
		_, l.hashCI = hashStep(e.Path)
		switch e.Op {
		case Like:
			l.re = regexp.MustCompile(likeToRegexp(e.Values[0].Str))
		case Matches:
			re, err := regexp.Compile(e.Values[0].Str)
			if err != nil {
				return nil, fmt.Errorf("pattern: MATCHES %q: %w", e.Values[0].Str, err)
			}
			l.re = re
		case IsSubset, IsSuperset:
			p, ok := parsePrefix(e.Values[0].Str)
			if !ok {
				return nil, fmt.Errorf("pattern: %s needs a CIDR, got %q", e.Op, e.Values[0].Str)
			}
			l.prefix = p
		}
		return l, nil
	}
	return nil, fmt.Errorf("pattern: unknown comparison node %T", e)
}

// likeToRegexp turns a SQL LIKE pattern (% any run, _ one character) into
// an anchored regular expression.
func likeToRegexp(s string) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range s {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return b.String()
}
