package stix

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON parser producing an order-preserving tree.
// The validator needs every property once, in order, with numbers kept as
// their literal text; encoding/json into map[string]any loses the order and
// the literal, and alone costs more than twice the CPU time of the whole
// Decode of an indicator (see BenchmarkBaselineUnmarshalMap). The grammar
// is RFC 8259; strings must be valid UTF-8.

type kind uint8

const (
	kNull kind = iota + 1
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	switch k {
	case kNull:
		return "null"
	case kBool:
		return "boolean"
	case kNumber:
		return "number"
	case kString:
		return "string"
	case kArray:
		return "list"
	case kObject:
		return "object"
	}
	return "invalid"
}

// value is one JSON value. s holds a string's decoded text or a number's
// literal; a and o hold array elements and object members in input order.
type value struct {
	k kind
	b bool
	s string
	a []value
	o []member
}

type member struct {
	key string
	val value
}

// get returns the member named key, or nil.
func (v *value) get(key string) *value {
	for i := range v.o {
		if v.o[i].key == key {
			return &v.o[i].val
		}
	}
	return nil
}

func (v *value) has(key string) bool { return v.get(key) != nil }

// str returns the string value of member key, "" when absent or not a string.
func (v *value) str(key string) string {
	if m := v.get(key); m != nil && m.k == kString {
		return m.s
	}
	return ""
}

// set replaces member key or inserts it after the member named after (at the
// end when after is absent).
func (v *value) set(key string, val value, after string) {
	if m := v.get(key); m != nil {
		*m = val
		return
	}
	at := len(v.o)
	for i := range v.o {
		if v.o[i].key == after {
			at = i + 1
			break
		}
	}
	v.o = append(v.o, member{})
	copy(v.o[at+1:], v.o[at:])
	v.o[at] = member{key: key, val: val}
}

const maxDepth = 10000 // as encoding/json

type parser struct {
	data  []byte
	str   string // data as one string: unescaped strings are slices of it
	pos   int
	depth int
	buf   []byte
	ws    bool // whitespace was skipped somewhere
}

type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at offset %d: %s", e.off, e.msg)
}

func parseJSON(data []byte) (value, error) {
	p := parser{data: data, str: string(data)}
	return p.parse()
}

func (p *parser) parse() (value, error) {
	p.skipWS()
	v, err := p.value()
	if err != nil {
		return value{}, err
	}
	p.skipWS()
	if p.pos != len(p.data) {
		return value{}, p.fail("unexpected data after the top-level value")
	}
	return v, nil
}

func (p *parser) fail(msg string) error { return &syntaxError{msg: msg, off: p.pos} }

func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
			p.ws = true
		default:
			return
		}
	}
}

func (p *parser) value() (value, error) {
	if p.pos >= len(p.data) {
		return value{}, p.fail("unexpected end of input")
	}
	switch c := p.data[p.pos]; c {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		s, err := p.string()
		return value{k: kString, s: s}, err
	case 't':
		return value{k: kBool, b: true}, p.literal("true")
	case 'f':
		return value{k: kBool}, p.literal("false")
	case 'n':
		return value{k: kNull}, p.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number()
		}
		return value{}, p.fail(fmt.Sprintf("invalid character %q looking for a value", c))
	}
}

func (p *parser) literal(lit string) error {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return p.fail("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.fail("exceeded max depth")
	}
	return nil
}

func (p *parser) object() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	p.pos++ // {
	v := value{k: kObject}
	if p.depth == 1 {
		v.o = make([]member, 0, 24)
	}
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return value{}, p.fail("expected a string key")
		}
		key, err := p.string()
		if err != nil {
			return value{}, err
		}
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return value{}, p.fail("expected ':' after object key")
		}
		p.pos++
		p.skipWS()
		val, err := p.value()
		if err != nil {
			return value{}, err
		}
		v.o = append(v.o, member{key: key, val: val})
		p.skipWS()
		if p.pos >= len(p.data) {
			return value{}, p.fail("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			return v, nil
		default:
			return value{}, p.fail("expected ',' or '}' in object")
		}
	}
}

func (p *parser) array() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	p.pos++ // [
	v := value{k: kArray}
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		p.skipWS()
		el, err := p.value()
		if err != nil {
			return value{}, err
		}
		v.a = append(v.a, el)
		p.skipWS()
		if p.pos >= len(p.data) {
			return value{}, p.fail("unexpected end of input in list")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			return v, nil
		default:
			return value{}, p.fail("expected ',' or ']' in list")
		}
	}
}

func (p *parser) number() (value, error) {
	start := p.pos
	d := p.data
	if d[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(d) && d[p.pos] >= '0' && d[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(d) && d[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return value{}, p.fail("invalid number")
	}
	if p.pos < len(d) && d[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return value{}, p.fail("invalid number")
		}
	}
	if p.pos < len(d) && (d[p.pos] == 'e' || d[p.pos] == 'E') {
		p.pos++
		if p.pos < len(d) && (d[p.pos] == '+' || d[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return value{}, p.fail("invalid number")
		}
	}
	return value{k: kNumber, s: p.str[start:p.pos]}, nil
}

var errBadUTF8 = errors.New("string is not valid UTF-8")

func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	d := p.data
	ascii := true
	for p.pos < len(d) {
		c := d[p.pos]
		switch {
		case c == '"':
			s := p.str[start:p.pos]
			p.pos++
			if !ascii && !utf8.ValidString(s) {
				return "", &syntaxError{msg: errBadUTF8.Error(), off: start}
			}
			return s, nil
		case c == '\\':
			return p.escapedString(start)
		case c < 0x20:
			return "", p.fail("control character in string")
		case c >= 0x80:
			ascii = false
		}
		p.pos++
	}
	return "", p.fail("unterminated string")
}

func (p *parser) escapedString(start int) (string, error) {
	d := p.data
	b := append(p.buf[:0], d[start:p.pos]...)
	for p.pos < len(d) {
		c := d[p.pos]
		switch {
		case c == '"':
			p.pos++
			p.buf = b
			if !utf8.Valid(b) {
				return "", &syntaxError{msg: errBadUTF8.Error(), off: start}
			}
			return string(b), nil
		case c < 0x20:
			return "", p.fail("control character in string")
		case c != '\\':
			b = append(b, c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(d) {
			break
		}
		e := d[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.fail("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.pos+1 < len(d) && d[p.pos] == '\\' && d[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					var ok2 bool
					if r2, ok2 = p.hex4(); !ok2 {
						return "", p.fail("invalid \\u escape")
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						continue
					}
					p.pos = save
				}
				r = utf8.RuneError // lone surrogate, as encoding/json
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", p.fail("invalid escape in string")
		}
	}
	return "", p.fail("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(n), true
}

// appendCompact appends src, which must be valid JSON, without the
// whitespace between tokens.
func appendCompact(dst, src []byte) []byte {
	inStr := false
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

// appendJSON writes v compactly. Strings are escaped as RFC 8785 (JSON
// canonicalization) requires; numbers keep their literal text. With
// canonical set, object members are sorted by their UTF-16 code units.
func appendJSON(b []byte, v *value, canonical bool) []byte {
	switch v.k {
	case kNull:
		return append(b, "null"...)
	case kBool:
		if v.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case kNumber:
		return append(b, v.s...)
	case kString:
		return appendString(b, v.s)
	case kArray:
		b = append(b, '[')
		for i := range v.a {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, &v.a[i], canonical)
		}
		return append(b, ']')
	case kObject:
		ms := v.o
		if canonical {
			ms = append([]member(nil), v.o...)
			sort.SliceStable(ms, func(i, j int) bool { return lessUTF16(ms[i].key, ms[j].key) })
		}
		b = append(b, '{')
		for i := range ms {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, ms[i].key)
			b = append(b, ':')
			b = appendJSON(b, &ms[i].val, canonical)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

func lessUTF16(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c >= 0x20:
			b = append(b, c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	return append(b, '"')
}
