package sigma

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// condOp is the kind of a condition node.
type condOp uint8

const (
	opIdent condOp = iota // a search identifier
	opAnd
	opOr
	opNot
	opOf // "1 of x*", "all of them"
)

// condExpr is a parsed condition, before identifiers are resolved.
type condExpr struct {
	Op      condOp
	Name    string // opIdent: identifier; opOf: pattern or "them"
	Count   int    // opOf: how many must hold; 0 means all
	Kids    []*condExpr
	Negated bool
}

func (e *condExpr) String() string {
	switch e.Op {
	case opIdent:
		return e.Name
	case opNot:
		return "not " + e.Kids[0].String()
	case opOf:
		if e.Count == 0 {
			return "all of " + e.Name
		}
		return strconv.Itoa(e.Count) + " of " + e.Name
	}
	sep := " and "
	if e.Op == opOr {
		sep = " or "
	}
	parts := make([]string, len(e.Kids))
	for i, k := range e.Kids {
		parts[i] = k.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

type condParser struct {
	toks []string
	pos  int
}

// maxCondDepth bounds nesting so that hostile conditions cannot exhaust the stack.
const maxCondDepth = 200

func tokenizeCondition(s string) ([]string, error) {
	var toks []string
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '|':
			return nil, errors.New("aggregation expressions (\"| count()\" ...) are deprecated; use a correlation rule")
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()|", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// parseCondition parses one condition string.
func parseCondition(s string) (*condExpr, error) {
	toks, err := tokenizeCondition(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("empty condition")
	}
	p := &condParser{toks: toks}
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q at token %d", p.toks[p.pos], p.pos+1)
	}
	return e, nil
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) parseOr(depth int) (*condExpr, error) {
	if depth > maxCondDepth {
		return nil, errors.New("condition nested too deeply")
	}
	left, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	kids := []*condExpr{left}
	for strings.EqualFold(p.peek(), "or") {
		p.pos++
		r, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, r)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return &condExpr{Op: opOr, Kids: kids}, nil
}

func (p *condParser) parseAnd(depth int) (*condExpr, error) {
	left, err := p.parseNot(depth)
	if err != nil {
		return nil, err
	}
	kids := []*condExpr{left}
	for strings.EqualFold(p.peek(), "and") {
		p.pos++
		r, err := p.parseNot(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, r)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return &condExpr{Op: opAnd, Kids: kids}, nil
}

func (p *condParser) parseNot(depth int) (*condExpr, error) {
	if depth > maxCondDepth {
		return nil, errors.New("condition nested too deeply")
	}
	if strings.EqualFold(p.peek(), "not") {
		p.pos++
		k, err := p.parseNot(depth + 1)
		if err != nil {
			return nil, err
		}
		return &condExpr{Op: opNot, Kids: []*condExpr{k}}, nil
	}
	return p.parsePrimary(depth)
}

func isKeyword(t string) bool {
	switch strings.ToLower(t) {
	case "and", "or", "not", "of", "(", ")":
		return true
	}
	return false
}

func (p *condParser) parsePrimary(depth int) (*condExpr, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, errors.New("condition ends where an identifier or '(' was expected")
	case t == "(":
		p.pos++
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing ')' at token %d", p.pos+1)
		}
		p.pos++
		return e, nil
	case t == ")":
		return nil, fmt.Errorf("unexpected ')' at token %d", p.pos+1)
	case isKeyword(t):
		return nil, fmt.Errorf("unexpected %q at token %d", t, p.pos+1)
	}
	// Quantifier: "1 of x", "all of x", "any of x", "N of x".
	if p.pos+1 < len(p.toks) && strings.EqualFold(p.toks[p.pos+1], "of") {
		n := -1
		switch strings.ToLower(t) {
		case "all":
			n = 0
		case "any":
			n = 1
		default:
			v, err := strconv.Atoi(t)
			if err != nil || v < 1 {
				return nil, fmt.Errorf("bad quantifier %q before 'of'", t)
			}
			n = v
		}
		p.pos += 2
		target := p.peek()
		if target == "" || isKeyword(target) {
			return nil, fmt.Errorf("'of' needs an identifier pattern or 'them' at token %d", p.pos+1)
		}
		if _, err := path.Match(target, ""); err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", target, err)
		}
		p.pos++
		return &condExpr{Op: opOf, Name: target, Count: n}, nil
	}
	p.pos++
	return &condExpr{Op: opIdent, Name: t}, nil
}
