// Package zeek reads Zeek logs, both the TSV format with its '#' headers
// and the JSON format, into events with Format "zeek". Field names are the
// Zeek column names ("id.orig_h"); sets and vectors become the same name
// repeated; an unset value ('-') becomes a Null field; the log type from
// "#path" (or, for JSON, a "_path" or "@stream" member or the file name) is
// put in the field "_path". Time comes from "ts".
package zeek

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/jsonlines"
)

// Format is the Event.Format of Zeek records.
const Format = "zeek"

// Errors for single records.
var (
	ErrNoHeader    = errors.New("zeek: TSV record before a #fields header")
	ErrFieldCount  = errors.New("zeek: wrong number of columns")
	ErrInvalidUTF8 = errors.New("zeek: invalid UTF-8")
)

// Parser reads the lines of one Zeek log in order. TSV headers change its
// state, so use one Parser per file (not safe for concurrent use).
type Parser struct {
	// Path is the log type used when the log does not name one; PathFromFile
	// derives it from a file name.
	Path string

	sep, setSep   string
	empty, unset  string
	fields, types []string
	tsCol         int
}

// NewParser returns a parser for a log whose type, when the log itself does
// not say, is path ("" for none).
func NewParser(path string) *Parser {
	p := &Parser{Path: path}
	p.resetHeader()
	return p
}

func (p *Parser) resetHeader() {
	p.sep, p.setSep, p.empty, p.unset = "\t", ",", "(empty)", "-"
	p.fields, p.types, p.tsCol = nil, nil, -1
}

// PathFromFile returns the log type a Zeek file name implies:
// "conn" for "conn.log", "conn.00:00:00-01:00:00.log.gz" or "conn.log.1".
func PathFromFile(name string) string {
	base := filepath.Base(name)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

// Parse reads one line read from source at byte offset off. It returns
// (nil, nil) for header lines and blank lines, which only update the
// parser. A JSON line (starting with '{') is read as a Zeek JSON record.
func (p *Parser) Parse(source string, off int64, line []byte) (*event.Event, error) {
	line = bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, nil
	}
	if line[0] == '#' {
		return nil, p.header(line)
	}
	if !utf8.Valid(line) {
		return nil, ErrInvalidUTF8
	}
	if line[0] == '{' {
		return p.parseJSON(source, off, line)
	}
	return p.parseTSV(source, off, line)
}

func (p *Parser) header(line []byte) error {
	s := string(line)
	if rest, ok := strings.CutPrefix(s, "#separator "); ok {
		p.resetHeader()
		sep, err := unescape(strings.TrimSpace(rest))
		if err != nil || sep == "" {
			return fmt.Errorf("zeek: bad #separator %q", rest)
		}
		p.sep = sep
		return nil
	}
	key, val, ok := strings.Cut(s[1:], p.sep)
	if !ok {
		return nil // "#close" and comments with no value
	}
	switch key {
	case "set_separator":
		p.setSep = unescapeLoose(val)
	case "empty_field":
		p.empty = unescapeLoose(val)
	case "unset_field":
		p.unset = unescapeLoose(val)
	case "path":
		p.Path = val
	case "fields":
		p.fields = strings.Split(val, p.sep)
		p.tsCol = -1
		for i, f := range p.fields {
			if f == "ts" {
				p.tsCol = i
			}
		}
	case "types":
		p.types = strings.Split(val, p.sep)
	}
	return nil
}

func (p *Parser) parseTSV(source string, off int64, line []byte) (*event.Event, error) {
	if p.fields == nil {
		return nil, ErrNoHeader
	}
	cols := strings.Split(string(line), p.sep)
	if len(cols) != len(p.fields) {
		return nil, fmt.Errorf("%w: %d, header has %d", ErrFieldCount, len(cols), len(p.fields))
	}
	fields := make([]event.Field, 0, len(cols)+1)
	var t time.Time
	for i, col := range cols {
		name := p.fields[i]
		typ := ""
		if i < len(p.types) {
			typ = p.types[i]
		}
		if col == p.unset {
			fields = append(fields, event.Field{Name: name, Kind: event.Null})
			continue
		}
		if i == p.tsCol {
			if ts, ok := jsonlines.ParseTime(col); ok {
				t = ts
			}
		}
		if elem, ok := container(typ); ok {
			if col == p.empty {
				continue // an empty set: no element
			}
			for _, v := range strings.Split(col, p.setSep) {
				fields = append(fields, scalar(name, elem, v))
			}
			continue
		}
		if col == p.empty {
			fields = append(fields, event.Field{Name: name, Kind: event.String})
			continue
		}
		fields = append(fields, scalar(name, typ, col))
	}
	if p.Path != "" {
		fields = append(fields, event.Field{Name: "_path", Value: p.Path})
	}
	return event.New(source, Format, off, t, line, fields), nil
}

// container reports whether typ is "set[T]" or "vector[T]" and returns T.
func container(typ string) (string, bool) {
	for _, pre := range []string{"set[", "vector["} {
		if rest, ok := strings.CutPrefix(typ, pre); ok && strings.HasSuffix(rest, "]") {
			return rest[:len(rest)-1], true
		}
	}
	return "", false
}

func scalar(name, typ, v string) event.Field {
	switch typ {
	case "count", "int", "double", "time", "interval", "port":
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return event.Field{Name: name, Value: v, Kind: event.Number}
		}
	case "bool":
		switch v {
		case "T":
			return event.Field{Name: name, Value: "true", Kind: event.Bool}
		case "F":
			return event.Field{Name: name, Value: "false", Kind: event.Bool}
		}
	case "string", "":
		if strings.Contains(v, `\x`) {
			v = unescapeLoose(v)
		}
	}
	return event.Field{Name: name, Value: v}
}

// unescape decodes the \xHH escapes Zeek writes in headers and strings.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\x`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// unescapeLoose decodes \xHH escapes and keeps the result only if it is
// valid UTF-8 (Zeek escapes non-printable bytes, which may be binary).
func unescapeLoose(s string) string {
	u, _ := unescape(s)
	if !utf8.ValidString(u) {
		return s
	}
	return u
}

var timeKeys = []string{"ts"}

func (p *Parser) parseJSON(source string, off int64, line []byte) (*event.Event, error) {
	raw, err := jsonlines.Check(line)
	if err != nil {
		return nil, err
	}
	return event.NewLazy(source, Format, off, jsonlines.TimeOf(raw, timeKeys), raw, jsonDecoder{path: p.Path}), nil
}

// jsonDecoder flattens a Zeek JSON record and adds "_path" when the record
// does not hold one: from its "@stream" member or the file's log type.
type jsonDecoder struct{ path string }

func (d jsonDecoder) DecodeFields(raw []byte, dst []event.Field) ([]event.Field, error) {
	start := len(dst)
	dst, err := jsonlines.Flatten(raw, dst)
	path, stream := "", ""
	for _, f := range dst[start:] {
		switch f.Name {
		case "_path":
			return dst, err
		case "@stream":
			stream = f.Value
		}
	}
	switch {
	case stream != "":
		path = stream
	default:
		path = d.path
	}
	if path != "" {
		dst = append(dst, event.Field{Name: "_path", Value: path})
	}
	return dst, err
}
