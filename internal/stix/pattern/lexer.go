package pattern

import (
	"fmt"
	"unicode/utf8"
)

// SyntaxError reports where a pattern is malformed or invalid. Offset is the
// byte offset of the offending token in the pattern; Line and Col are
// 1-based, Col counting runes.
type SyntaxError struct {
	Offset, Line, Col int
	Msg               string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("stix pattern: %d:%d (offset %d): %s", e.Line, e.Col, e.Offset, e.Msg)
}

func newError(src string, off int, format string, args ...any) *SyntaxError {
	if off > len(src) {
		off = len(src)
	}
	line, col := 1, 1
	for _, r := range src[:off] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Offset: off, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tInt
	tFloat
	tBinary
	tHex
	tTimestamp
	tKeyword // AND, OR, NOT... and true/false; text in tok.text
	tEQ
	tNEQ
	tLT
	tLE
	tGT
	tGE
	tColon
	tDot
	tComma
	tLParen
	tRParen
	tLBrack
	tRBrack
	tStar
)

var tokNames = [...]string{
	tEOF: "end of pattern", tIdent: "identifier", tString: "string", tInt: "integer", tFloat: "float",
	tBinary: "binary literal", tHex: "hex literal", tTimestamp: "timestamp", tKeyword: "keyword",
	tEQ: "'='", tNEQ: "'!='", tLT: "'<'", tLE: "'<='", tGT: "'>'", tGE: "'>='", tColon: "':'",
	tDot: "'.'", tComma: "','", tLParen: "'('", tRParen: "')'", tLBrack: "'['", tRBrack: "']'", tStar: "'*'",
}

// token is one lexeme; text is the source text except for strings, whose
// text is the unescaped value.
type token struct {
	kind tokKind
	off  int
	end  int
	text string
}

func (t token) describe() string {
	switch t.kind {
	case tKeyword, tIdent:
		return fmt.Sprintf("%s %q", tokNames[t.kind], t.text)
	case tEOF:
		return tokNames[t.kind]
	}
	return tokNames[t.kind]
}

var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "FOLLOWEDBY": true, "LIKE": true, "MATCHES": true,
	"ISSUPERSET": true, "ISSUBSET": true, "EXISTS": true, "LAST": true, "IN": true, "START": true,
	"STOP": true, "SECONDS": true, "true": true, "false": true, "WITHIN": true, "REPEATS": true, "TIMES": true,
}

type lexer struct {
	src string
	pos int
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '\v', '\f', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' || c == '-' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// skip passes whitespace and comments.
func (l *lexer) skip() *SyntaxError {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		switch {
		case isSpace(r):
			l.pos += n
		case r == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := indexFrom(l.src, "*/", l.pos+2)
			if end < 0 {
				return newError(l.src, l.pos, "unterminated comment")
			}
			l.pos = end + 2
		case r == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' && l.src[l.pos] != '\r' {
				l.pos++
			}
		default:
			return nil
		}
	}
	return nil
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func (l *lexer) next() (token, *SyntaxError) {
	if err := l.skip(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, off: start, end: start}, nil
	}
	c := l.src[l.pos]
	tok := func(k tokKind, n int) (token, *SyntaxError) {
		l.pos += n
		return token{kind: k, off: start, end: l.pos, text: l.src[start:l.pos]}, nil
	}
	peek := func(i int) byte {
		if l.pos+i < len(l.src) {
			return l.src[l.pos+i]
		}
		return 0
	}
	switch {
	case (c == 't' || c == 'h' || c == 'b') && peek(1) == '\'':
		return l.prefixed(c)
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		text := l.src[start:l.pos]
		k := tIdent
		if keywords[text] {
			k = tKeyword
		}
		return token{kind: k, off: start, end: l.pos, text: text}, nil
	case c == '\'':
		return l.str()
	case isDigit(c) || (c == '+' || c == '-') && (isDigit(peek(1)) || peek(1) == '.' && isDigit(peek(2))) ||
		c == '.' && isDigit(peek(1)):
		return l.number()
	}
	switch c {
	case '=':
		if peek(1) == '=' {
			return tok(tEQ, 2)
		}
		return tok(tEQ, 1)
	case '!':
		if peek(1) == '=' {
			return tok(tNEQ, 2)
		}
	case '<':
		switch peek(1) {
		case '=':
			return tok(tLE, 2)
		case '>':
			return tok(tNEQ, 2)
		}
		return tok(tLT, 1)
	case '>':
		if peek(1) == '=' {
			return tok(tGE, 2)
		}
		return tok(tGT, 1)
	case ':':
		return tok(tColon, 1)
	case '.':
		return tok(tDot, 1)
	case ',':
		return tok(tComma, 1)
	case '(':
		return tok(tLParen, 1)
	case ')':
		return tok(tRParen, 1)
	case '[':
		return tok(tLBrack, 1)
	case ']':
		return tok(tRBrack, 1)
	case '*':
		return tok(tStar, 1)
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, newError(l.src, start, "unexpected character %q", r)
}

func (l *lexer) number() (token, *SyntaxError) {
	start := l.pos
	if c := l.src[l.pos]; c == '+' || c == '-' {
		l.pos++
	}
	digits := l.pos
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	intPart := l.src[digits:l.pos]
	kind := tInt
	if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
		kind = tFloat
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	} else if len(intPart) > 1 && intPart[0] == '0' {
		return token{}, newError(l.src, start, "integer %q has a leading zero", l.src[start:l.pos])
	}
	if l.pos < len(l.src) && isIdentStart(l.src[l.pos]) {
		return token{}, newError(l.src, l.pos, "unexpected character %q after number", l.src[l.pos])
	}
	return token{kind: kind, off: start, end: l.pos, text: l.src[start:l.pos]}, nil
}

// str reads a quoted string; only \' and \\ are valid escapes.
func (l *lexer) str() (token, *SyntaxError) {
	start := l.pos
	l.pos++
	var buf []byte
	from := l.pos
	for {
		if l.pos >= len(l.src) {
			return token{}, newError(l.src, start, "unterminated string")
		}
		switch l.src[l.pos] {
		case '\'':
			buf = append(buf, l.src[from:l.pos]...)
			l.pos++
			return token{kind: tString, off: start, end: l.pos, text: string(buf)}, nil
		case '\\':
			if l.pos+1 >= len(l.src) || (l.src[l.pos+1] != '\'' && l.src[l.pos+1] != '\\') {
				return token{}, newError(l.src, l.pos, "invalid escape in string: only \\' and \\\\ are allowed")
			}
			buf = append(buf, l.src[from:l.pos]...)
			buf = append(buf, l.src[l.pos+1])
			l.pos += 2
			from = l.pos
		default:
			l.pos++
		}
	}
}

// prefixed reads t'...', h'...' and b'...'; the token text is the content
// between the quotes.
func (l *lexer) prefixed(p byte) (token, *SyntaxError) {
	start := l.pos
	l.pos += 2
	end := indexFrom(l.src, "'", l.pos)
	if end < 0 {
		return token{}, newError(l.src, start, "unterminated %c'' literal", p)
	}
	body := l.src[l.pos:end]
	l.pos = end + 1
	kind := map[byte]tokKind{'t': tTimestamp, 'h': tHex, 'b': tBinary}[p]
	return token{kind: kind, off: start, end: l.pos, text: body}, nil
}
