// Package pattern reads, checks, renders and evaluates STIX 2.1 patterns
// (STIX 2.1 section 9, grammar STIXPattern.g4): Parse builds the syntax
// tree, String renders it canonically, Lookups extracts plain IOC look-ups,
// and a Matcher compiled from a pattern consumes observations in time order
// and reports matches, qualifiers (WITHIN, REPEATS, START/STOP) and
// FOLLOWEDBY included. It uses the standard library only.
package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Pattern is a parsed STIX pattern.
type Pattern struct {
	Root ObsExpr
}

// ObsExpr is an observation expression: *ObsTest, *ObsBinary or *ObsQualified.
type ObsExpr interface {
	obsExpr()
}

// ObsTest is one bracketed observation expression, [ ... ].
type ObsTest struct {
	Pos  int // offset of '['
	Expr CompExpr
}

// ObsOp combines observation expressions.
type ObsOp uint8

// Observation operators, by increasing precedence.
const (
	FollowedBy ObsOp = iota
	ObsOr
	ObsAnd
)

func (o ObsOp) String() string { return [...]string{"FOLLOWEDBY", "OR", "AND"}[o] }

// ObsBinary joins two observation expressions.
type ObsBinary struct {
	Op          ObsOp
	Left, Right ObsExpr
}

// QualKind says which qualifier an ObsQualified carries.
type QualKind uint8

// Qualifiers.
const (
	Within QualKind = iota
	Repeats
	StartStop
)

// Qualifier restricts the observations an expression may match.
type Qualifier struct {
	Kind        QualKind
	Pos         int           // offset of the keyword
	Window      time.Duration // Within
	WindowText  string        // Within, as written ("5", "2.5")
	Times       int           // Repeats
	Start, Stop Literal       // StartStop (timestamps)
}

// ObsQualified is an observation expression with one qualifier.
type ObsQualified struct {
	Expr ObsExpr
	Qual Qualifier
}

func (*ObsTest) obsExpr()      {}
func (*ObsBinary) obsExpr()    {}
func (*ObsQualified) obsExpr() {}

// CompExpr is a comparison expression inside brackets: *CompBinary or
// *Comparison.
type CompExpr interface {
	compExpr()
}

// CompBinary joins two comparison expressions with AND (And true) or OR.
type CompBinary struct {
	And         bool
	Left, Right CompExpr
}

// Op is a comparison operator.
type Op uint8

// Comparison operators.
const (
	Eq Op = iota
	Neq
	Lt
	Le
	Gt
	Ge
	In
	Like
	Matches
	IsSubset
	IsSuperset
	Exists
)

var opNames = [...]string{"=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"}

func (o Op) String() string { return opNames[o] }

// Comparison tests one object path against literals.
type Comparison struct {
	Pos    int // offset of the comparison's first token
	Path   ObjectPath
	Negate bool
	Op     Op
	Values []Literal // one value; any number for In; none for Exists
}

func (*CompBinary) compExpr() {}
func (*Comparison) compExpr() {}

// ObjectPath is "type:step.step[index]".
type ObjectPath struct {
	Pos        int
	ObjectType string
	Steps      []Step
}

// Step is one component of an object path: a key, a list index or [*].
type Step struct {
	Key   string
	Index int  // when IsIndex
	Any   bool // [*]
	IsIdx bool
}

// LitKind is the type of a literal.
type LitKind uint8

// Literal kinds.
const (
	LitString LitKind = iota
	LitInt
	LitFloat
	LitBool
	LitBinary
	LitHex
	LitTimestamp
)

// Literal is a constant in a pattern.
type Literal struct {
	Kind  LitKind
	Pos   int
	Str   string    // LitString; timestamp text for LitTimestamp
	Int   int64     // LitInt
	Float float64   // LitFloat
	Bool  bool      // LitBool
	Bytes []byte    // LitBinary, LitHex
	Time  time.Time // LitTimestamp
	Text  string    // source text of numbers
}

// String renders the pattern canonically: single spaces, "=" and "!=",
// parentheses only where precedence needs them. Parse(p.String()) yields
// the same tree.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObs(&b, p.Root, -1)
	return b.String()
}

func obsPrec(e ObsExpr) int {
	switch e := e.(type) {
	case *ObsBinary:
		return int(e.Op)
	case *ObsQualified:
		return 4
	}
	return 5
}

func writeObs(b *strings.Builder, e ObsExpr, min int) {
	if obsPrec(e) < min {
		b.WriteByte('(')
		defer b.WriteByte(')')
	}
	switch e := e.(type) {
	case *ObsTest:
		b.WriteByte('[')
		writeComp(b, e.Expr, 0)
		b.WriteByte(']')
	case *ObsBinary:
		writeObs(b, e.Left, int(e.Op))
		b.WriteString(" " + e.Op.String() + " ")
		writeObs(b, e.Right, int(e.Op)+1)
	case *ObsQualified:
		writeObs(b, e.Expr, 4)
		b.WriteByte(' ')
		b.WriteString(e.Qual.String())
	}
}

// String renders the qualifier.
func (q Qualifier) String() string {
	switch q.Kind {
	case Within:
		return "WITHIN " + q.WindowText + " SECONDS"
	case Repeats:
		return "REPEATS " + strconv.Itoa(q.Times) + " TIMES"
	}
	return "START " + q.Start.String() + " STOP " + q.Stop.String()
}

func writeComp(b *strings.Builder, e CompExpr, min int) {
	switch e := e.(type) {
	case *CompBinary:
		prec := 0
		if e.And {
			prec = 1
		}
		if prec < min {
			b.WriteByte('(')
			defer b.WriteByte(')')
		}
		writeComp(b, e.Left, prec)
		if e.And {
			b.WriteString(" AND ")
		} else {
			b.WriteString(" OR ")
		}
		writeComp(b, e.Right, prec+1)
	case *Comparison:
		b.WriteString(e.String())
	}
}

// String renders one comparison.
func (c *Comparison) String() string {
	var b strings.Builder
	if c.Op == Exists {
		if c.Negate {
			b.WriteString("NOT ")
		}
		b.WriteString("EXISTS " + c.Path.String())
		return b.String()
	}
	b.WriteString(c.Path.String())
	if c.Negate {
		b.WriteString(" NOT")
	}
	b.WriteString(" " + c.Op.String() + " ")
	if c.Op == In {
		b.WriteByte('(')
		for i, v := range c.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.String())
		}
		b.WriteByte(')')
	} else {
		b.WriteString(c.Values[0].String())
	}
	return b.String()
}

// String renders the path as "type:steps".
func (p ObjectPath) String() string { return p.ObjectType + ":" + p.PropertyPath() }

// PropertyPath renders the steps without the object type.
func (p ObjectPath) PropertyPath() string {
	var b strings.Builder
	for i, s := range p.Steps {
		switch {
		case s.Any:
			b.WriteString("[*]")
		case s.IsIdx:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if isPlainKey(s.Key) {
				b.WriteString(s.Key)
			} else {
				b.WriteString(quote(s.Key))
			}
		}
	}
	return b.String()
}

func isPlainKey(k string) bool {
	if k == "" || !isIdentStart(k[0]) || keywords[k] {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isIdentStart(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

func quote(s string) string { return "'" + quoter.Replace(s) + "'" }

// String renders the literal as pattern text.
func (l Literal) String() string {
	switch l.Kind {
	case LitString:
		return quote(l.Str)
	case LitInt:
		return strconv.FormatInt(l.Int, 10)
	case LitFloat:
		s := strconv.FormatFloat(l.Float, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case LitBool:
		return strconv.FormatBool(l.Bool)
	case LitBinary:
		return "b'" + base64.StdEncoding.EncodeToString(l.Bytes) + "'"
	case LitHex:
		return "h'" + hex.EncodeToString(l.Bytes) + "'"
	}
	return "t'" + l.Str + "'"
}

// Value renders the literal's value as plain text: strings unquoted,
// numbers in decimal, binary in base64, hex in lowercase hex, timestamps
// as written.
func (l Literal) Value() string {
	switch l.Kind {
	case LitString, LitTimestamp:
		return l.Str
	case LitBinary:
		return base64.StdEncoding.EncodeToString(l.Bytes)
	case LitHex:
		return hex.EncodeToString(l.Bytes)
	}
	return l.String()
}
