package pattern

import "slices"

// Lookup is one plain look-up an IOC index can serve: objects of ObjectType
// whose property at Path (rendered as in a pattern, e.g. "value" or
// "hashes.'SHA-256'") is equal to (Op "="), one of (Op "IN"), or inside the
// CIDR of (Op "ISSUBSET") Values. Hash names in paths get their
// hash-algorithm-ov spelling (file:hashes.sha256 gives "hashes.'SHA-256'");
// hash values are meant to compare case-insensitively.
type Lookup struct {
	ObjectType, Path, Op string
	Values               []string
}

// Lookups returns the plain look-ups the pattern consists of when the whole
// pattern is a single observation expression without qualifiers whose
// comparisons are joined only by OR and are each a non-negated =, IN or
// ISSUBSET; otherwise it returns false. Values are rendered as text
// (Literal.Value).
func (p *Pattern) Lookups() ([]Lookup, bool) {
	t, ok := p.Root.(*ObsTest)
	if !ok {
		return nil, false
	}
	var out []Lookup
	var walk func(CompExpr) bool
	walk = func(e CompExpr) bool {
		switch e := e.(type) {
		case *CompBinary:
			return !e.And && walk(e.Left) && walk(e.Right)
		case *Comparison:
			if e.Negate {
				return false
			}
			path := e.Path
			if alg, ok := hashStep(path); ok {
				path.Steps = slices.Clone(path.Steps)
				path.Steps[len(path.Steps)-1].Key = alg
			}
			l := Lookup{ObjectType: path.ObjectType, Path: path.PropertyPath(), Op: e.Op.String()}
			switch e.Op {
			case Eq, In, IsSubset:
			default:
				return false
			}
			for _, v := range e.Values {
				l.Values = append(l.Values, v.Value())
			}
			out = append(out, l)
			return true
		}
		return false
	}
	if !walk(t.Expr) {
		return nil, false
	}
	return out, true
}
