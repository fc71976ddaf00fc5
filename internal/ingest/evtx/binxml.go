package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var errShort = errors.New("data ends inside a token")

// Binary XML tokens (the 0x40 bit marks "more data" / attributes).
const (
	tokEOF           = 0x00
	tokOpenStart     = 0x01
	tokCloseStart    = 0x02
	tokCloseEmpty    = 0x03
	tokEndElement    = 0x04
	tokValue         = 0x05
	tokAttribute     = 0x06
	tokCDATA         = 0x07
	tokCharRef       = 0x08
	tokEntityRef     = 0x09
	tokPITarget      = 0x0a
	tokPIData        = 0x0b
	tokTemplate      = 0x0c
	tokNormalSubst   = 0x0d
	tokOptionalSubst = 0x0e
	tokFragment      = 0x0f
)

type nodeKind uint8

const (
	nElement  nodeKind = iota
	nText              // literal text (value token)
	nSubst             // substitution of value sub
	nCharRef           // &#N;
	nEntity            // &name;
	nCDATA             // <![CDATA[text]]>
	nPI                // <?name text?>
	nInstance          // a template instance (only in nested Binary XML)
)

// xnode is one node of a parsed Binary XML fragment. Template definitions
// are parsed once per chunk into xnode trees; records then only parse their
// substitution values.
type xnode struct {
	kind     nodeKind
	vtype    byte   // nSubst: declared value type
	optional bool   // nSubst: optional substitution
	sub      uint16 // nSubst: value index
	name     string // element, entity or PI target name
	text     string // nText, nCDATA, nPI data
	attrs    []xattr
	kids     []xnode
	inst     *instance // nInstance
}

type xattr struct {
	name string
	val  []xnode
}

type template struct {
	nodes []xnode
	err   error // set while being parsed and when the parse failed
}

// value is one substitution value: its type and bytes in the chunk.
type value struct {
	typ  byte
	data []byte
	pos  int // chunk offset of data
}

type instance struct {
	tmpl *template
	vals []value
	root [1]xnode // a node for this instance, for reused instances
}

// parser walks Binary XML in a chunk.
type parser struct {
	c     *chunk
	d     []byte
	pos   int
	end   int
	depth int
}

func (p *parser) u8() (byte, error) {
	if p.pos+1 > p.end {
		return 0, errShort
	}
	b := p.d[p.pos]
	p.pos++
	return b, nil
}

func (p *parser) u16() (uint16, error) {
	if p.pos+2 > p.end {
		return 0, errShort
	}
	v := binary.LittleEndian.Uint16(p.d[p.pos:])
	p.pos += 2
	return v, nil
}

func (p *parser) u32() (uint32, error) {
	if p.pos+4 > p.end {
		return 0, errShort
	}
	v := binary.LittleEndian.Uint32(p.d[p.pos:])
	p.pos += 4
	return v, nil
}

func (p *parser) peek() (byte, error) {
	if p.pos >= p.end {
		return 0, errShort
	}
	return p.d[p.pos], nil
}

// str reads a length-prefixed UTF-16 string.
func (p *parser) str() (string, error) {
	n, err := p.u16()
	if err != nil {
		return "", err
	}
	if p.pos+2*int(n) > p.end {
		return "", errShort
	}
	s := utf16String(p.d[p.pos : p.pos+2*int(n)])
	p.pos += 2 * int(n)
	return s, nil
}

func (p *parser) nameRef() (string, error) {
	off, err := p.u32()
	if err != nil {
		return "", err
	}
	s, skip, err := p.c.name(off, p.pos)
	if err != nil {
		return "", err
	}
	if p.pos+skip > p.end {
		return "", errShort
	}
	p.pos += skip
	return s, nil
}

const maxDepth = 64

// fragment parses tokens up to EOF (or the end of the data) into nodes.
func (p *parser) fragment() ([]xnode, error) {
	var out []xnode
	for p.pos < p.end {
		t, _ := p.peek()
		switch t & 0xbf {
		case tokEOF:
			p.pos++
			return out, nil
		case tokFragment:
			p.pos += 4
		case tokOpenStart:
			n, err := p.element()
			if err != nil {
				return out, err
			}
			out = append(out, n)
		case tokTemplate:
			n, err := p.templateInstance()
			if err != nil {
				return out, err
			}
			out = append(out, n)
		default:
			n, ok, err := p.content()
			if err != nil {
				return out, err
			}
			if !ok {
				return out, fmt.Errorf("unexpected token %#02x at %d", t, p.pos)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// content parses one character-data token (value, substitution, charref,
// entity, CDATA, PI); ok is false when the next token is something else.
func (p *parser) content() (xnode, bool, error) {
	t, err := p.peek()
	if err != nil {
		return xnode{}, false, err
	}
	switch t & 0xbf {
	case tokValue:
		p.pos++
		vt, err := p.u8()
		if err != nil {
			return xnode{}, false, err
		}
		if vt != 0x01 {
			return xnode{}, false, fmt.Errorf("value token of type %#02x", vt)
		}
		s, err := p.str()
		return xnode{kind: nText, text: s}, true, err
	case tokNormalSubst, tokOptionalSubst:
		p.pos++
		id, err := p.u16()
		if err != nil {
			return xnode{}, false, err
		}
		vt, err := p.u8()
		return xnode{kind: nSubst, sub: id, vtype: vt, optional: t == tokOptionalSubst}, true, err
	case tokCharRef:
		p.pos++
		v, err := p.u16()
		return xnode{kind: nCharRef, sub: v}, true, err
	case tokEntityRef:
		p.pos++
		s, err := p.nameRef()
		return xnode{kind: nEntity, name: s}, true, err
	case tokCDATA:
		p.pos++
		s, err := p.str()
		return xnode{kind: nCDATA, text: s}, true, err
	case tokPITarget:
		p.pos++
		s, err := p.nameRef()
		if err != nil {
			return xnode{}, false, err
		}
		n := xnode{kind: nPI, name: s}
		if t2, _ := p.peek(); t2 == tokPIData {
			p.pos++
			n.text, err = p.str()
		}
		return n, true, err
	}
	return xnode{}, false, nil
}

func (p *parser) element() (xnode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return xnode{}, errors.New("elements nested too deep")
	}
	start := p.pos
	t, _ := p.u8()
	// token, dependency id (2), data size (4), name offset (4).
	p.pos += 2
	if _, err := p.u32(); err != nil {
		return xnode{}, err
	}
	name, err := p.nameRef()
	if err != nil {
		return xnode{}, fmt.Errorf("element at %d: %w", start, err)
	}
	n := xnode{kind: nElement, name: name}
	if t&0x40 != 0 {
		if _, err := p.u32(); err != nil { // attribute list size
			return n, err
		}
		for {
			at, err := p.peek()
			if err != nil {
				return n, err
			}
			if at&0xbf != tokAttribute {
				break
			}
			p.pos++
			an, err := p.nameRef()
			if err != nil {
				return n, fmt.Errorf("attribute: %w", err)
			}
			a := xattr{name: an}
			for {
				v, ok, err := p.content()
				if err != nil {
					return n, err
				}
				if !ok {
					break
				}
				a.val = append(a.val, v)
			}
			n.attrs = append(n.attrs, a)
		}
	}
	ct, err := p.u8()
	if err != nil {
		return n, err
	}
	switch ct {
	case tokCloseEmpty:
		return n, nil
	case tokCloseStart:
	default:
		return n, fmt.Errorf("element %s at %d: token %#02x after start tag", name, start, ct)
	}
	for {
		t, err := p.peek()
		if err != nil {
			return n, err
		}
		switch t & 0xbf {
		case tokEndElement:
			p.pos++
			return n, nil
		case tokOpenStart:
			k, err := p.element()
			if err != nil {
				return n, err
			}
			n.kids = append(n.kids, k)
		case tokTemplate:
			k, err := p.templateInstance()
			if err != nil {
				return n, err
			}
			n.kids = append(n.kids, k)
		default:
			k, ok, err := p.content()
			if err != nil {
				return n, err
			}
			if !ok {
				return n, fmt.Errorf("element %s: unexpected token %#02x at %d", name, t, p.pos)
			}
			n.kids = append(n.kids, k)
		}
	}
}

// templateInstance parses a template instance token: the template
// (defined here or earlier in the chunk) and its substitution values.
func (p *parser) templateInstance() (xnode, error) {
	in := &instance{}
	if err := p.instance(in, nil); err != nil {
		return xnode{}, err
	}
	return xnode{kind: nInstance, inst: in}, nil
}

// instance parses a template instance token into in, appending its values
// to vals[:0] (so a caller can reuse the storage).
func (p *parser) instance(in *instance, vals []value) error {
	start := p.pos
	p.pos += 2                         // token, unknown byte
	if _, err := p.u32(); err != nil { // template id
		return err
	}
	defOff, err := p.u32()
	if err != nil {
		return err
	}
	tm, err := p.c.template(defOff, p.depth)
	if err != nil {
		return fmt.Errorf("template instance at %d: %w", start, err)
	}
	if int(defOff) == p.pos { // definition stored inline: step over it
		size := int(binary.LittleEndian.Uint32(p.d[p.pos+20:]))
		p.pos += 24 + size
	}
	n, err := p.u32()
	if err != nil {
		return err
	}
	if p.pos+4*int(n) > p.end {
		return fmt.Errorf("template instance at %d: %d values past the end", start, n)
	}
	if cap(vals) < int(n) {
		vals = make([]value, 0, n)
	}
	vals = vals[:0]
	dp := p.pos + 4*int(n)
	for i := 0; i < int(n); i++ {
		sz := int(binary.LittleEndian.Uint16(p.d[p.pos:]))
		typ := p.d[p.pos+2]
		p.pos += 4
		if dp+sz > p.end {
			return fmt.Errorf("value %d: size %d past the end", i, sz)
		}
		vals = append(vals, value{typ: typ, data: p.d[dp : dp+sz], pos: dp})
		dp += sz
	}
	p.pos = dp
	in.tmpl, in.vals = tm, vals
	return nil
}

// template returns the template defined at off, parsing it on first use.
// A template that failed to parse, or that is being parsed (a definition
// that refers to itself), gives an error without being parsed again.
func (c *chunk) template(off uint32, depth int) (*template, error) {
	if t, ok := c.templates[off]; ok {
		if t.err != nil {
			return nil, t.err
		}
		return t, nil
	}
	o := int(off)
	if o < chunkHeaderSize || o+24 > len(c.data) {
		return nil, fmt.Errorf("template offset %d out of range", off)
	}
	size := int(binary.LittleEndian.Uint32(c.data[o+20:]))
	if o+24+size > len(c.data) {
		return nil, fmt.Errorf("template at %d: size %d past chunk end", off, size)
	}
	p := parser{c: c, d: c.data, pos: o + 24, end: o + 24 + size, depth: depth + 1}
	if p.depth > maxDepth {
		return nil, errors.New("templates nested too deep")
	}
	t := &template{err: fmt.Errorf("template at %d refers to itself", off)}
	c.templates[off] = t
	nodes, err := p.fragment()
	if err != nil {
		t.err = fmt.Errorf("template at %d: %w", off, err)
		return nil, t.err
	}
	t.nodes, t.err = nodes, nil
	return t, nil
}
