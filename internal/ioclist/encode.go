package ioclist

import (
	"strconv"
	"unicode/utf8"
)

// appendIndicator renders ind as compact JSON. It writes what
// json.Marshal would (members in struct order, omitempty honoured) without
// reflection: on the hot path of a ten-million-line import that halves the
// cost of a line.
func appendIndicator(b []byte, ind *indicatorJSON) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, ind.Type)
	b = appendMember(b, "spec_version", ind.SpecVersion)
	b = appendMember(b, "id", ind.ID)
	b = appendMember(b, "created", ind.Created)
	b = appendMember(b, "modified", ind.Modified)
	if ind.CreatedByRef != "" {
		b = appendMember(b, "created_by_ref", ind.CreatedByRef)
	}
	b = appendMember(b, "name", ind.Name)
	if ind.Description != "" {
		b = appendMember(b, "description", ind.Description)
	}
	if len(ind.IndicatorTypes) > 0 {
		b = appendList(b, "indicator_types", ind.IndicatorTypes)
	}
	b = appendMember(b, "pattern", ind.Pattern)
	b = appendMember(b, "pattern_type", ind.PatternType)
	b = appendMember(b, "pattern_version", ind.PatternVersion)
	b = appendMember(b, "valid_from", ind.ValidFrom)
	if ind.ValidUntil != "" {
		b = appendMember(b, "valid_until", ind.ValidUntil)
	}
	if ind.Confidence != nil {
		b = append(b, `,"confidence":`...)
		b = strconv.AppendInt(b, int64(*ind.Confidence), 10)
	}
	if len(ind.Labels) > 0 {
		b = appendList(b, "labels", ind.Labels)
	}
	if len(ind.ObjectMarkingRefs) > 0 {
		b = appendList(b, "object_marking_refs", ind.ObjectMarkingRefs)
	}
	return append(b, '}')
}

func appendMember(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendList(b []byte, name string, vs []string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':', '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does:
// ", \ and control characters escaped, <, > and & as \u003c..., invalid
// UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
