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
type BundleReader struct {
	dec         *json.Decoder
	state       int // 0 start, 1 in objects, 2 done
	index       int
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
	return &BundleReader{dec: json.NewDecoder(r)}
}

// ID returns the bundle id once it has been read ("" before).
func (b *BundleReader) ID() string { return b.id }

// SpecVersion returns the bundle's spec_version once it has been read; STIX
// 2.0 bundles carry "2.0", STIX 2.1 bundles have none ("").
func (b *BundleReader) SpecVersion() string { return b.specVersion }

// Next returns the next element of the bundle's objects list. Outcomes:
//   - the element's JSON, nil;
//   - nil, an *ElementError for an element that is not a JSON object: the
//     reader has skipped it and Next may be called again;
//   - nil, io.EOF after the last element, once the bundle is closed;
//   - nil, another error when the input is not a well-formed bundle
//     (malformed JSON, truncated input, wrong type): terminal, every later
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

func (b *BundleReader) next() (json.RawMessage, error) {
	for {
		switch b.state {
		case 0:
			t, err := b.dec.Token()
			if err != nil {
				return nil, b.eof(err)
			}
			if d, ok := t.(json.Delim); !ok || d != '{' {
				return nil, errors.New("stix bundle: not a JSON object")
			}
			b.state = 3
		case 3: // between top-level members
			if !b.dec.More() {
				if _, err := b.dec.Token(); err != nil { // closing '}'
					return nil, b.eof(err)
				}
				if _, err := b.dec.Token(); err != io.EOF {
					return nil, errors.New("stix bundle: data after the bundle")
				}
				b.state = 2
				return nil, io.EOF
			}
			t, err := b.dec.Token()
			if err != nil {
				return nil, b.eof(err)
			}
			key, _ := t.(string)
			switch key {
			case "objects":
				t, err := b.dec.Token()
				if err != nil {
					return nil, b.eof(err)
				}
				if d, ok := t.(json.Delim); !ok || d != '[' {
					return nil, errors.New("stix bundle: objects must be a list")
				}
				b.state = 1
			case "type", "id", "spec_version":
				var s string
				if err := b.dec.Decode(&s); err != nil {
					return nil, fmt.Errorf("%s: %w", key, b.eof(err))
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
				var skip json.RawMessage
				if err := b.dec.Decode(&skip); err != nil {
					return nil, b.eof(err)
				}
			}
		case 1:
			if !b.dec.More() {
				if _, err := b.dec.Token(); err != nil { // closing ']'
					return nil, b.eof(err)
				}
				b.state = 3
				continue
			}
			var raw json.RawMessage
			if err := b.dec.Decode(&raw); err != nil {
				return nil, b.eof(err)
			}
			i := b.index
			b.index++
			if len(raw) == 0 || raw[0] != '{' {
				return nil, &ElementError{Index: i, Err: errors.New("not a JSON object")}
			}
			return raw, nil
		case 2:
			return nil, io.EOF
		}
	}
}

var errTruncated = errors.New("stix bundle: unexpected end of input")

// eof translates a decoder error: any end of input inside the bundle is a
// truncation.
func (b *BundleReader) eof(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errTruncated
	}
	return fmt.Errorf("stix bundle: %w", err)
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
