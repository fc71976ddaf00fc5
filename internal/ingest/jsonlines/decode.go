// Package jsonlines reads JSON-lines logs (one JSON object per line) into
// events. Its Decoder flattens an object into event fields with a single
// pass over the bytes: no maps, no reflection, nested names dotted
// ("http.hostname"), arrays as the same name repeated, numbers kept as their
// literal text. Each line is one record: an invalid line is an error for that
// record only.
//
// The package reads lines it is given; framing, huge-line handling and
// following files live in the parent package internal/ingest.
package jsonlines

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shieldwall/shieldwall/internal/event"
)

// MaxDepth bounds the nesting of objects and arrays the decoder accepts.
const MaxDepth = 128

// Errors the decoder reports (wrapped in a *SyntaxError or directly).
var (
	ErrInvalidUTF8 = errors.New("jsonlines: invalid UTF-8")
	ErrNotObject   = errors.New("jsonlines: record is not a JSON object")
	ErrTooDeep     = errors.New("jsonlines: nesting too deep")
)

// SyntaxError says where a record stopped being valid JSON.
type SyntaxError struct {
	Offset int    // byte offset in the record
	Msg    string // what was wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("jsonlines: invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// Decoder flattens one JSON object into fields. The zero value is ready to
// use and it holds no state, so one Decoder may serve every goroutine.
type Decoder struct{}

// DecodeFields implements event.Decoder: it appends the fields of the JSON
// object raw to dst. On error the fields decoded before it are returned.
func (Decoder) DecodeFields(raw []byte, dst []event.Field) ([]event.Field, error) {
	return Flatten(raw, dst)
}

// Flatten appends the fields of the JSON object in raw to dst.
func Flatten(raw []byte, dst []event.Field) ([]event.Field, error) {
	if !utf8.Valid(raw) {
		return dst, ErrInvalidUTF8
	}
	// One string for the whole record: every name and value without escapes
	// is a substring of it, so they cost no allocation of their own.
	s := string(raw)
	d := decoder{s: s, out: dst}
	d.skipWS()
	if d.i >= len(s) || s[d.i] != '{' {
		return dst, ErrNotObject
	}
	if err := d.object("", 0); err != nil {
		return d.out, err
	}
	d.skipWS()
	if d.i != len(s) {
		return d.out, d.errf("unexpected data after the object")
	}
	return d.out, nil
}

type decoder struct {
	s   string
	i   int
	out []event.Field
}

func (d *decoder) errf(format string, a ...any) error {
	return &SyntaxError{Offset: d.i, Msg: fmt.Sprintf(format, a...)}
}

func (d *decoder) skipWS() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object reads an object at d.i ('{'); prefix is the dotted name so far
// (unused at depth 0, the top level).
func (d *decoder) object(prefix string, depth int) error {
	if depth >= MaxDepth {
		return ErrTooDeep
	}
	d.i++ // '{'
	d.skipWS()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.skipWS()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return d.errf("want a key")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		name := key
		if top := depth == 0; !top {
			name = prefix + "." + key
		}
		d.skipWS()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return d.errf("want ':'")
		}
		d.i++
		if err := d.value(name, depth+1); err != nil {
			return err
		}
		d.skipWS()
		if d.i >= len(d.s) {
			return d.errf("unterminated object")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errf("want ',' or '}'")
		}
	}
}

// value reads any value and emits it under name.
func (d *decoder) value(name string, depth int) error {
	d.skipWS()
	if d.i >= len(d.s) {
		return d.errf("want a value")
	}
	switch c := d.s[d.i]; {
	case c == '"':
		v, err := d.str()
		if err != nil {
			return err
		}
		d.out = append(d.out, event.Field{Name: name, Value: v, Kind: event.String})
	case c == '{':
		return d.object(name, depth)
	case c == '[':
		return d.array(name, depth)
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := d.number()
		if err != nil {
			return err
		}
		d.out = append(d.out, event.Field{Name: name, Value: v, Kind: event.Number})
	case c == 't':
		if err := d.lit("true"); err != nil {
			return err
		}
		d.out = append(d.out, event.Field{Name: name, Value: "true", Kind: event.Bool})
	case c == 'f':
		if err := d.lit("false"); err != nil {
			return err
		}
		d.out = append(d.out, event.Field{Name: name, Value: "false", Kind: event.Bool})
	case c == 'n':
		if err := d.lit("null"); err != nil {
			return err
		}
		d.out = append(d.out, event.Field{Name: name, Kind: event.Null})
	default:
		return d.errf("unexpected %q", c)
	}
	return nil
}

func (d *decoder) array(name string, depth int) error {
	if depth >= MaxDepth {
		return ErrTooDeep
	}
	d.i++ // '['
	d.skipWS()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return nil
	}
	for {
		if err := d.value(name, depth+1); err != nil {
			return err
		}
		d.skipWS()
		if d.i >= len(d.s) {
			return d.errf("unterminated array")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.errf("want ',' or ']'")
		}
	}
}

func (d *decoder) lit(want string) error {
	if len(d.s)-d.i < len(want) || d.s[d.i:d.i+len(want)] != want {
		return d.errf("invalid literal")
	}
	d.i += len(want)
	return nil
}

// number validates a JSON number at d.i and returns its literal text.
func (d *decoder) number() (string, error) {
	start := d.i
	s := d.s
	i := d.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		d.i = i
		return "", d.errf("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			d.i = i
			return "", d.errf("invalid number")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			d.i = i
			return "", d.errf("invalid number")
		}
	}
	d.i = i
	return s[start:i], nil
}

// str reads a string at d.i ('"') and returns it unescaped.
func (d *decoder) str() (string, error) {
	d.i++ // opening quote
	start := d.i
	s := d.s
	i := start
	for i < len(s) {
		c := s[i]
		if c == '"' {
			d.i = i + 1
			return s[start:i], nil
		}
		if c == '\\' {
			d.i = i
			return d.strEscaped(start)
		}
		if c < 0x20 {
			d.i = i
			return "", d.errf("control character in string")
		}
		i++
	}
	d.i = i
	return "", d.errf("unterminated string")
}

// strEscaped finishes a string holding escapes; d.i is at the first '\\'.
func (d *decoder) strEscaped(start int) (string, error) {
	s := d.s
	end := closingQuote(s, start, d.i)
	if end < 0 {
		d.i = len(s)
		return "", d.errf("unterminated string")
	}
	var b strings.Builder
	b.Grow(end - start)
	b.WriteString(s[start:d.i])
	i := d.i
	for i < end {
		// Copy the run up to the next escape.
		j := strings.IndexByte(s[i:end], '\\')
		if j < 0 {
			j = end - i
		}
		for k := i; k < i+j; k++ {
			if s[k] < 0x20 {
				d.i = k
				return "", d.errf("control character in string")
			}
		}
		b.WriteString(s[i : i+j])
		i += j
		if i >= end {
			break
		}
		// s[i] is a backslash and s[i+1] < end: closingQuote skipped escaped quotes.
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s[:end], i)
			if !ok {
				d.i = i
				return "", d.errf("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= end && s[i] == '\\' && s[i+1] == 'u' {
					if x, ok := hex4(s[:end], i+2); ok {
						r2 = x
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default:
			d.i = i - 1
			return "", d.errf("invalid escape %s", strconv.QuoteRune(rune(e)))
		}
	}
	d.i = end + 1
	return b.String(), nil
}

// closingQuote returns the index of the quote ending the string whose
// content starts at start, searching from from; -1 if there is none.
func closingQuote(s string, start, from int) int {
	for {
		k := strings.IndexByte(s[from:], '"')
		if k < 0 {
			return -1
		}
		q := from + k
		n := 0
		for p := q - 1; p >= start && s[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		from = q + 1
	}
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
