package evtx

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shieldwall/shieldwall/internal/event"
)

// decoder turns records into events; it holds the chunk tables and the
// buffers reused from one record to the next.
type decoder struct {
	c    chunk
	fl   flattener
	inst instance
	root [1]xnode
	json []byte
}

func (d *decoder) init() {
	d.c.names = make(map[uint32]string)
	d.c.templates = make(map[uint32]*template)
}

// parseRecord parses the Binary XML of the record at pos. The usual shape,
// a fragment header and one template instance, reuses the decoder's
// storage; anything else goes through the general parser.
func (d *decoder) parseRecord(c *chunk, pos, size int) ([]xnode, error) {
	p := parser{c: c, d: c.data, pos: pos + recordHeader, end: pos + size - 4}
	if p.end-p.pos > 4+10 && p.d[p.pos] == tokFragment && p.d[p.pos+4] == tokTemplate {
		p.pos += 4
		if err := p.instance(&d.inst, d.inst.vals); err != nil {
			return nil, err
		}
		if p.pos < p.end && p.d[p.pos] != tokEOF {
			return nil, fmt.Errorf("token %#02x after the template instance", p.d[p.pos])
		}
		d.root[0] = xnode{kind: nInstance, inst: &d.inst}
		return d.root[:], nil
	}
	return p.fragment()
}

func (d *decoder) record(c *chunk, pos, size int, id uint64, source string) (*event.Event, error) {
	nodes, err := d.parseRecord(c, pos, size)
	if err != nil {
		return nil, err
	}
	fl := &d.fl
	fl.reset(c)
	fl.root(nodes, nil)
	if fl.err != nil {
		return nil, fl.err
	}
	t := recordTime(fl.ftime, fl.time, binary.LittleEndian.Uint64(c.data[pos+16:]))
	// Offset is the EventRecordID of the XML: exported logs renumber the
	// record header's identifier from 1 but keep the original one there.
	rid := int64(id)
	if fl.recID != nil {
		if n, err := strconv.ParseInt(string(fl.recID), 10, 64); err == nil {
			rid = n
		}
	}
	s := string(fl.buf)
	fields := make([]event.Field, len(fl.fields))
	for i, f := range fl.fields {
		fields[i] = event.Field{Name: f.name, Value: s[f.start:f.end], Kind: f.kind}
	}
	d.json = appendJSON(d.json[:0], fields, fl.list)
	raw := make([]byte, len(d.json))
	copy(raw, d.json)
	return event.New(source, "evtx", rid, t, raw, fields), nil
}

// recordTime is the event time: the exact TimeCreated FILETIME when the
// record has one (its rendered field went through python-evtx's float
// rounding), else TimeCreated as text, else the time the record was written.
func recordTime(ft uint64, text []byte, written uint64) time.Time {
	if ft != 0 {
		return exactFiletime(ft)
	}
	if t, ok := parsePyTime(text); ok {
		return t
	}
	if t, err := time.Parse(time.RFC3339Nano, string(text)); err == nil {
		return t.UTC()
	}
	return exactFiletime(written)
}

// exactFiletime converts 100 ns ticks since 1601 to a time without loss.
func exactFiletime(v uint64) time.Time {
	const ticksPerDay = 86400 * 10000000
	days, rest := v/ticksPerDay, v%ticksPerDay
	return filetimeEpoch.AddDate(0, 0, int(days)).Add(time.Duration(rest) * 100)
}

// parsePyTime parses "2006-01-02 15:04:05[.ffffff]" (UTC).
func parsePyTime(b []byte) (time.Time, bool) {
	if len(b) < 19 {
		return time.Time{}, false
	}
	num := func(s []byte) int {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, dd, h, mi, sec := num(b[0:4]), num(b[5:7]), num(b[8:10]), num(b[11:13]), num(b[14:16]), num(b[17:19])
	if y < 0 || mo < 1 || dd < 1 || h < 0 || mi < 0 || sec < 0 {
		return time.Time{}, false
	}
	us := 0
	if len(b) > 20 && b[19] == '.' {
		frac := b[20:]
		us = num(frac)
		if us < 0 || len(frac) > 6 {
			return time.Time{}, false
		}
		for i := len(frac); i < 6; i++ {
			us *= 10
		}
	}
	return time.Date(y, time.Month(mo), dd, h, mi, sec, us*1000, time.UTC), true
}

// appendJSON renders fields as one flat JSON object. Field names are unique
// but for list (the unnamed Data elements), whose values become one array
// at the place of the first.
func appendJSON(dst []byte, fields []event.Field, list string) []byte {
	dst = append(dst, '{')
	listDone := false
	for i, f := range fields {
		isList := list != "" && f.Name == list
		if isList && listDone {
			continue
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, f.Name)
		dst = append(dst, ':')
		if !isList {
			dst = appendJSONValue(dst, f)
			continue
		}
		listDone = true
		dst = append(dst, '[')
		k := 0
		for _, g := range fields[i:] {
			if g.Name == list {
				if k > 0 {
					dst = append(dst, ',')
				}
				k++
				dst = appendJSONValue(dst, g)
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendJSONValue(dst []byte, f event.Field) []byte {
	switch f.Kind {
	case event.Null:
		return append(dst, "null"...)
	case event.Number, event.Bool:
		return append(dst, f.Value...)
	}
	return appendJSONString(dst, f.Value)
}

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, `\u00`...)
				dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return append(dst, '"')
}
