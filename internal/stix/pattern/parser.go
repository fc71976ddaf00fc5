package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack;
// maxTests bounds the comparisons and observation expressions of a pattern.
const (
	maxDepth = 200
	maxTests = 10000
)

// Parse reads a STIX 2.1 pattern and checks it (see Validate). Every error
// is a *SyntaxError giving the position of the offending token.
func Parse(s string) (*Pattern, error) {
	p := &parser{lex: lexer{src: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	root, err := p.followedBy()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("AND, OR, FOLLOWEDBY or a qualifier")
	}
	pat := &Pattern{Root: root}
	if err := validate(s, pat); err != nil {
		return nil, err
	}
	return pat, nil
}

type parser struct {
	lex   lexer
	tok   token
	depth int
	tests int
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errAt(off int, format string, args ...any) error {
	return newError(p.lex.src, off, format, args...)
}

func (p *parser) unexpected(want string) error {
	return p.errAt(p.tok.off, "unexpected %s, want %s", p.tok.describe(), want)
}

func (p *parser) isKeyword(k string) bool { return p.tok.kind == tKeyword && p.tok.text == k }

func (p *parser) expect(k tokKind) (token, error) {
	t := p.tok
	if t.kind != k {
		return t, p.unexpected(tokNames[k])
	}
	if err := p.advance(); err != nil {
		return t, err
	}
	return t, nil
}

func (p *parser) enter() error {
	p.depth++
	p.tests++
	if p.tests > maxTests {
		return p.errAt(p.tok.off, "pattern has more than %d comparisons and observation expressions", maxTests)
	}
	if p.depth > maxDepth {
		return p.errAt(p.tok.off, "pattern nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *parser) followedBy() (ObsExpr, error) {
	return p.obsBinary(FollowedBy)
}

// obsBinary parses left-associative observation operators at level op and
// above (FOLLOWEDBY < OR < AND).
func (p *parser) obsBinary(op ObsOp) (ObsExpr, error) {
	next := func() (ObsExpr, error) {
		if op == ObsAnd {
			return p.obsUnit()
		}
		return p.obsBinary(op + 1)
	}
	left, err := next()
	if err != nil {
		return nil, err
	}
	for p.isKeyword(op.String()) {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := next()
		if err != nil {
			return nil, err
		}
		left = &ObsBinary{Op: op, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) obsUnit() (ObsExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	var e ObsExpr
	switch p.tok.kind {
	case tLBrack:
		pos := p.tok.off
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.compOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRBrack); err != nil {
			return nil, err
		}
		e = &ObsTest{Pos: pos, Expr: c}
	case tLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		inner, err := p.followedBy()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		e = inner
	default:
		return nil, p.unexpected("'[' or '('")
	}
	for {
		q, ok, err := p.qualifier()
		if err != nil {
			return nil, err
		}
		if !ok {
			return e, nil
		}
		e = &ObsQualified{Expr: e, Qual: q}
	}
}

func (p *parser) qualifier() (Qualifier, bool, error) {
	q := Qualifier{Pos: p.tok.off}
	if p.tok.kind != tKeyword {
		return q, false, nil
	}
	switch p.tok.text {
	case "WITHIN":
		q.Kind = Within
		if err := p.advance(); err != nil {
			return q, false, err
		}
		t := p.tok
		if t.kind != tInt && t.kind != tFloat {
			return q, false, p.unexpected("a number of seconds")
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil || f <= 0 || f > 1e9 {
			return q, false, p.errAt(t.off, "WITHIN needs a number of seconds greater than 0 (and at most 1e9), got %s", t.text)
		}
		q.Window = time.Duration(f * float64(time.Second))
		q.WindowText = strings.TrimPrefix(t.text, "+")
		if err := p.advance(); err != nil {
			return q, false, err
		}
		if !p.isKeyword("SECONDS") {
			return q, false, p.unexpected("SECONDS")
		}
	case "REPEATS":
		q.Kind = Repeats
		if err := p.advance(); err != nil {
			return q, false, err
		}
		t := p.tok
		if t.kind != tInt {
			return q, false, p.unexpected("a positive integer")
		}
		n, err := strconv.Atoi(t.text)
		if err != nil || n <= 0 || n > 10000 {
			return q, false, p.errAt(t.off, "REPEATS needs a count from 1 to 10000, got %s", t.text)
		}
		q.Times = n
		if err := p.advance(); err != nil {
			return q, false, err
		}
		if !p.isKeyword("TIMES") {
			return q, false, p.unexpected("TIMES")
		}
	case "START":
		q.Kind = StartStop
		if err := p.advance(); err != nil {
			return q, false, err
		}
		start, err := p.timestamp()
		if err != nil {
			return q, false, err
		}
		if !p.isKeyword("STOP") {
			return q, false, p.unexpected("STOP")
		}
		if err := p.advance(); err != nil {
			return q, false, err
		}
		stop, err := p.timestamp()
		if err != nil {
			return q, false, err
		}
		if !start.Time.Before(stop.Time) {
			return q, false, p.errAt(stop.Pos, "STOP %s must be later than START %s", stop.Str, start.Str)
		}
		q.Start, q.Stop = start, stop
		return q, true, nil
	default:
		return q, false, nil
	}
	return q, true, p.advance()
}

func (p *parser) timestamp() (Literal, error) {
	if p.tok.kind != tTimestamp {
		return Literal{}, p.unexpected("a timestamp t'...'")
	}
	l, err := p.literal()
	return l, err
}

func (p *parser) compOr() (CompExpr, error) {
	left, err := p.compAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.compAnd()
		if err != nil {
			return nil, err
		}
		left = &CompBinary{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) compAnd() (CompExpr, error) {
	left, err := p.propTest()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.propTest()
		if err != nil {
			return nil, err
		}
		left = &CompBinary{And: true, Left: left, Right: right}
	}
	return left, nil
}

var compOps = map[tokKind]Op{tEQ: Eq, tNEQ: Neq, tLT: Lt, tLE: Le, tGT: Gt, tGE: Ge}
var wordOps = map[string]Op{"IN": In, "LIKE": Like, "MATCHES": Matches, "ISSUBSET": IsSubset, "ISSUPERSET": IsSuperset}

func (p *parser) propTest() (CompExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	start := p.tok.off
	if p.tok.kind == tLParen {
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.compOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return e, nil
	}
	c := &Comparison{Pos: start}
	if p.isKeyword("NOT") || p.isKeyword("EXISTS") {
		if p.isKeyword("NOT") {
			c.Negate = true
			if err := p.advance(); err != nil {
				return nil, err
			}
			if !p.isKeyword("EXISTS") {
				return nil, p.unexpected("EXISTS (NOT goes after the object path for other operators)")
			}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		path, err := p.objectPath()
		if err != nil {
			return nil, err
		}
		c.Op, c.Path = Exists, path
		return c, nil
	}
	path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	c.Path = path
	if p.isKeyword("NOT") {
		c.Negate = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	opTok := p.tok
	if op, ok := compOps[opTok.kind]; ok {
		c.Op = op
	} else if op, ok := wordOps[opTok.text]; ok && opTok.kind == tKeyword {
		c.Op = op
	} else {
		return nil, p.unexpected("a comparison operator")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch c.Op {
	case In:
		if _, err := p.expect(tLParen); err != nil {
			return nil, err
		}
		for p.tok.kind != tRParen {
			if len(c.Values) > 0 {
				if _, err := p.expect(tComma); err != nil {
					return nil, err
				}
			}
			l, err := p.literal()
			if err != nil {
				return nil, err
			}
			c.Values = append(c.Values, l)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return c, nil
	case Like, Matches, IsSubset, IsSuperset:
		if p.tok.kind != tString {
			return nil, p.unexpected("a string after " + c.Op.String())
		}
	case Lt, Le, Gt, Ge:
		if p.isKeyword("true") || p.isKeyword("false") {
			return nil, p.errAt(p.tok.off, "%s cannot compare a boolean", c.Op)
		}
	}
	l, err := p.literal()
	if err != nil {
		return nil, err
	}
	c.Values = []Literal{l}
	return c, nil
}

func (p *parser) objectPath() (ObjectPath, error) {
	t := p.tok
	if t.kind != tIdent {
		return ObjectPath{}, p.unexpected("an object path (type:property)")
	}
	path := ObjectPath{Pos: t.off, ObjectType: t.text}
	if err := p.advance(); err != nil {
		return path, err
	}
	if _, err := p.expect(tColon); err != nil {
		return path, err
	}
	first := true
	for {
		switch {
		case first || p.tok.kind == tDot:
			if !first {
				if err := p.advance(); err != nil {
					return path, err
				}
			}
			k := p.tok
			switch {
			case k.kind == tString:
			case k.kind == tIdent && !strings.Contains(k.text, "-"):
			case k.kind == tIdent:
				return path, p.errAt(k.off, "property name %q contains '-': quote it", k.text)
			default:
				return path, p.unexpected("a property name")
			}
			path.Steps = append(path.Steps, Step{Key: k.text})
			first = false
			if err := p.advance(); err != nil {
				return path, err
			}
		case p.tok.kind == tLBrack:
			if err := p.advance(); err != nil {
				return path, err
			}
			s := Step{IsIdx: true}
			switch p.tok.kind {
			case tStar:
				s.Any = true
			case tInt:
				n, err := strconv.Atoi(p.tok.text)
				if err != nil {
					return path, p.errAt(p.tok.off, "list index %s out of range", p.tok.text)
				}
				s.Index = n
			default:
				return path, p.unexpected("a list index or '*'")
			}
			if err := p.advance(); err != nil {
				return path, err
			}
			if _, err := p.expect(tRBrack); err != nil {
				return path, err
			}
			path.Steps = append(path.Steps, s)
		default:
			return path, nil
		}
	}
}

func (p *parser) literal() (Literal, error) {
	t := p.tok
	l := Literal{Pos: t.off, Text: t.text}
	switch t.kind {
	case tString:
		l.Kind, l.Str = LitString, t.text
	case tInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return l, p.errAt(t.off, "integer %s out of range", t.text)
		}
		l.Kind, l.Int = LitInt, n
	case tFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return l, p.errAt(t.off, "float %s out of range", t.text)
		}
		l.Kind, l.Float = LitFloat, f
	case tKeyword:
		if t.text != "true" && t.text != "false" {
			return l, p.unexpected("a literal")
		}
		l.Kind, l.Bool = LitBool, t.text == "true"
	case tBinary:
		b, err := base64.StdEncoding.Strict().DecodeString(t.text)
		if err != nil || len(t.text) == 0 {
			return l, p.errAt(t.off, "binary literal b'%s' is not padded base64", t.text)
		}
		l.Kind, l.Bytes = LitBinary, b
	case tHex:
		b, err := hex.DecodeString(t.text)
		if err != nil {
			return l, p.errAt(t.off, "hex literal h'%s' needs pairs of hex digits", t.text)
		}
		l.Kind, l.Bytes = LitHex, b
	case tTimestamp:
		tm, err := parseTimestamp(t.text)
		if err != nil {
			return l, p.errAt(t.off, "timestamp t'%s': %v", t.text, err)
		}
		l.Kind, l.Str, l.Time = LitTimestamp, t.text, tm
	default:
		return l, p.unexpected("a literal")
	}
	return l, p.advance()
}

// parseTimestamp reads the STIX timestamp form YYYY-MM-DDTHH:MM:SS[.s+]Z;
// a leap second (:60) is read as the first instant of the next minute.
func parseTimestamp(s string) (time.Time, error) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[10] != 'T' || strings.ContainsAny(s, "+ ") || strings.Contains(s[19:], "-") {
		return time.Time{}, errBadTimestamp
	}
	if len(s) > 20 && (s[19] != '.' || len(s) == 21) {
		return time.Time{}, errBadTimestamp
	}
	leap := s[17:19] == "60"
	if leap {
		s = s[:17] + "59" + s[19:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errBadTimestamp
	}
	if leap {
		t = t.Add(time.Second)
	}
	return t, nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errBadTimestamp = constError("want YYYY-MM-DDTHH:MM:SS[.fraction]Z in UTC")
