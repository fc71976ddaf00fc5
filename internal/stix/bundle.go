package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// BundleReader reads the objects of one STIX bundle one at a time, holding
// only the current object in memory. Top-level members may come in any
// order.
//
// It frames elements itself rather than with encoding/json's Decoder:
// finding where an object ends is a byte scan that tracks strings and
// nesting, then json.Valid checks the element; together several times
// faster than decoding. An element whose inside is malformed but whose
// framing holds is refused alone, as an *ElementError, and the reader goes
// on.
type BundleReader struct {
	sc          scanner
	state       int // 0 start, 1 in objects, 2 done, 3 between top-level members
	index       int
	sep         bool // an element was read: a ',' or ']' comes next
	seenObjects bool
	id          string
	specVersion string
	err         error // terminal
}

// ElementError reports one element of the objects list that cannot be a
// STIX object (it is not a JSON object). The reader can go on: call Next
// again.
type ElementError struct {
	Index int // position in the objects list
	Err   error
}

func (e *ElementError) Error() string { return fmt.Sprintf("bundle object %d: %v", e.Index, e.Err) }
func (e *ElementError) Unwrap() error { return e.Err }

// NewBundleReader returns a reader of the bundle in r.
func NewBundleReader(r io.Reader) *BundleReader {
	return &BundleReader{sc: scanner{r: r, buf: make([]byte, 0, 256<<10)}}
}

// ID returns the bundle id once it has been read ("" before).
func (b *BundleReader) ID() string { return b.id }

// SpecVersion returns the bundle's spec_version once it has been read; STIX
// 2.0 bundles carry "2.0", STIX 2.1 bundles have none ("").
func (b *BundleReader) SpecVersion() string { return b.specVersion }

// Next returns the next element of the bundle's objects list. Outcomes:
//   - the element's JSON (a fresh slice the caller owns), nil;
//   - nil, an *ElementError for an element that is not a JSON object: the
//     reader has skipped it and Next may be called again;
//   - nil, io.EOF after the last element, once the bundle is closed;
//   - nil, another error when the input is not a well-formed bundle
//     (broken framing, truncated input, wrong type): terminal, every later
//     call returns it again.
func (b *BundleReader) Next() (json.RawMessage, error) {
	if b.err != nil {
		return nil, b.err
	}
	raw, err := b.next()
	if err != nil {
		var ee *ElementError
		if !errors.As(err, &ee) {
			b.err = err
		}
	}
	return raw, err
}

var (
	errTruncated = errors.New("stix bundle: unexpected end of input")
	errComma     = errors.New("stix bundle: expected comma after array element")
)

func (b *BundleReader) next() (json.RawMessage, error) {
	sc := &b.sc
	for {
		switch b.state {
		case 0:
			c, err := sc.nonSpace()
			if err != nil {
				return nil, err
			}
			if c != '{' {
				return nil, errors.New("stix bundle: not a JSON object")
			}
			sc.pos++
			b.state = 3
			c, err = sc.nonSpace()
			if err != nil {
				return nil, err
			}
			if c == '}' {
				sc.pos++
				return nil, b.end()
			}
		case 3: // before a member name
			c, err := sc.nonSpace()
			if err != nil {
				return nil, err
			}
			if c != '"' {
				return nil, fmt.Errorf("stix bundle: invalid character %q looking for a member name", c)
			}
			keyRaw, err := sc.value()
			if err != nil {
				return nil, err
			}
			var key string
			if err := json.Unmarshal(keyRaw, &key); err != nil {
				return nil, fmt.Errorf("stix bundle: member name: %w", err)
			}
			if c, err = sc.nonSpace(); err != nil {
				return nil, err
			}
			if c != ':' {
				return nil, fmt.Errorf("stix bundle: invalid character %q after member name", c)
			}
			sc.pos++
			if c, err = sc.nonSpace(); err != nil {
				return nil, err
			}
			if key == "objects" {
				if b.seenObjects {
					return nil, errors.New("stix bundle: objects appears twice")
				}
				b.seenObjects = true
				if c != '[' {
					return nil, errors.New("stix bundle: objects must be a list")
				}
				sc.pos++
				if c, err = sc.nonSpace(); err != nil {
					return nil, err
				}
				if c == ']' {
					sc.pos++
					if err := b.afterMember(); err != nil {
						return nil, err
					}
					if b.state == 2 {
						return nil, io.EOF
					}
					continue
				}
				b.state = 1
				continue
			}
			v, err := sc.value()
			if err != nil {
				return nil, err
			}
			switch key {
			case "type", "id", "spec_version":
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return nil, fmt.Errorf("stix bundle: %s: %w", key, err)
				}
				switch key {
				case "type":
					if s != "bundle" {
						return nil, fmt.Errorf("stix bundle: type is %q, not \"bundle\"", s)
					}
				case "id":
					b.id = s
				case "spec_version":
					b.specVersion = s
				}
			default:
				if !json.Valid(v) {
					return nil, fmt.Errorf("stix bundle: member %q is not valid JSON", key)
				}
			}
			if err := b.afterMember(); err != nil {
				return nil, err
			}
			if b.state == 2 {
				return nil, io.EOF
			}
		case 1: // at an element of objects, or at the separator after one
			if b.sep {
				c, err := sc.nonSpace()
				if err != nil {
					return nil, err
				}
				switch c {
				case ',':
					sc.pos++
					b.sep = false
				case ']':
					sc.pos++
					b.sep = false
					if err := b.afterMember(); err != nil {
						return nil, err
					}
					if b.state == 2 {
						return nil, io.EOF
					}
					continue
				default:
					return nil, errComma
				}
			}
			v, err := sc.value()
			if err != nil {
				return nil, err
			}
			raw := append(json.RawMessage(nil), v...)
			i := b.index
			b.index++
			b.sep = true
			if !json.Valid(raw) {
				var v json.RawMessage
				err := json.Unmarshal(raw, &v)
				return nil, &ElementError{Index: i, Err: fmt.Errorf("malformed JSON: %v", err)}
			}
			if raw[0] != '{' {
				return nil, &ElementError{Index: i, Err: errors.New("not a JSON object")}
			}
			return raw, nil
		case 2:
			return nil, io.EOF
		}
	}
}

// afterMember reads what follows a top-level member: ',' (another member)
// or '}' (the end of the bundle, after which only white space may follow).
func (b *BundleReader) afterMember() error {
	c, err := b.sc.nonSpace()
	if err != nil {
		return err
	}
	switch c {
	case ',':
		b.sc.pos++
		b.state = 3
		return nil
	case '}':
		b.sc.pos++
		if err := b.end(); err != io.EOF {
			return err
		}
		return nil
	}
	return fmt.Errorf("stix bundle: invalid character %q after object member", c)
}

// end checks that nothing but white space follows the bundle.
func (b *BundleReader) end() error {
	b.state = 2
	if _, err := b.sc.nonSpace(); err != errTruncated {
		if err == nil {
			return errors.New("stix bundle: data after the bundle")
		}
		return err
	}
	return io.EOF
}

// scanner frames JSON values in a stream without decoding them.
type scanner struct {
	r   io.Reader
	buf []byte
	pos int
	eof bool
	err error // read error other than EOF
}

// fill reads more input, keeping buf[from:]; it reports false at the end.
func (s *scanner) fill(from int) bool {
	if s.eof || s.err != nil {
		return false
	}
	if from > 0 {
		n := copy(s.buf, s.buf[from:])
		s.buf = s.buf[:n]
		s.pos -= from
	}
	if len(s.buf) == cap(s.buf) {
		nb := make([]byte, len(s.buf), 2*cap(s.buf))
		copy(nb, s.buf)
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err == io.EOF {
		s.eof = true
	} else if err != nil {
		s.err = err
	}
	return n > 0 || (!s.eof && s.err == nil)
}

// readErr is the error for running out of input.
func (s *scanner) readErr() error {
	if s.err != nil {
		return fmt.Errorf("stix bundle: %w", s.err)
	}
	return errTruncated
}

// nonSpace skips white space and returns the next byte without consuming it.
func (s *scanner) nonSpace() (byte, error) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, nil
			}
		}
		if !s.fill(s.pos) {
			return 0, s.readErr()
		}
	}
}

// value consumes one JSON value and returns its bytes, valid until the next
// call. Objects and arrays are framed by nesting outside strings; scalars
// run to the next delimiter. Syntax inside the value is not checked here.
func (s *scanner) value() ([]byte, error) {
	if _, err := s.nonSpace(); err != nil {
		return nil, err
	}
	start := s.pos
	i := s.pos
	switch c := s.buf[i]; c {
	case ',', ':', ']', '}':
		return nil, fmt.Errorf("stix bundle: invalid character %q looking for a value", c)
	}
	depth := 0
	inString := false
	for {
		for ; i < len(s.buf); i++ {
			c := s.buf[i]
			if inString {
				switch c {
				case '\\':
					i++ // skip the escaped byte (may run past the buffer; refill handles it)
				case '"':
					inString = false
					if depth == 0 {
						s.pos = i + 1
						return s.buf[start:s.pos], nil
					}
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos = i + 1
					return s.buf[start:s.pos], nil
				}
				if depth < 0 { // a scalar ended by its container's close
					s.pos = i
					return s.buf[start:i], nil
				}
			case ',', ' ', '\t', '\n', '\r':
				if depth == 0 {
					s.pos = i
					return s.buf[start:i], nil
				}
			}
		}
		// Need more input: keep the value so far.
		off := i - start
		if !s.fill(start) {
			return nil, s.readErr() // a bundle never ends inside a value
		}
		start = 0
		i = off
	}
}

// BundleWriter writes a STIX 2.1 bundle with a fresh id, one object at a
// time.
type BundleWriter struct {
	w      io.Writer
	n      int
	closed bool
	buf    bytes.Buffer
}

// NewBundleWriter returns a writer of one bundle to w. Nothing is written
// before the first Write or Close.
func NewBundleWriter(w io.Writer) *BundleWriter { return &BundleWriter{w: w} }

// Write appends one object (compacted). It fails if raw is not a JSON
// object, after Close, or when the underlying writer fails.
func (b *BundleWriter) Write(raw json.RawMessage) error {
	if b.closed {
		return errors.New("stix bundle writer: write after close")
	}
	b.buf.Reset()
	if b.n == 0 {
		b.header()
	} else {
		b.buf.WriteByte(',')
	}
	start := b.buf.Len()
	if err := json.Compact(&b.buf, raw); err != nil {
		return fmt.Errorf("stix bundle writer: %w", err)
	}
	if b.buf.Bytes()[start] != '{' {
		return errors.New("stix bundle writer: object is not a JSON object")
	}
	b.n++
	_, err := b.w.Write(b.buf.Bytes())
	return err
}

func (b *BundleWriter) header() {
	fmt.Fprintf(&b.buf, `{"type":"bundle","id":"%s","objects":[`, NewID("bundle"))
}

// Close ends the bundle (an empty one if nothing was written). It does not
// close the underlying writer.
func (b *BundleWriter) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.buf.Reset()
	if b.n == 0 {
		b.header()
	}
	b.buf.WriteString("]}")
	_, err := b.w.Write(b.buf.Bytes())
	return err
}
