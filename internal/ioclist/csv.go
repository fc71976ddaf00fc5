package ioclist

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// column roles, recognised from header names (case-insensitive). Immutable.
var columnRoles = map[string]string{
	"value": "value", "indicator": "value", "ioc": "value", "observable": "value",
	"type": "type", "ioc_type": "type", "indicator_type": "type", "ioc type": "type",
	"description": "description", "comment": "description",
	"tlp":    "tlp",
	"labels": "labels", "tags": "labels", "label": "labels", "tag": "labels",
	"valid_from": "valid_from", "valid from": "valid_from", "first_seen": "valid_from",
	"valid_until": "valid_until", "valid until": "valid_until", "expiration": "valid_until", "expires": "valid_until",
	"confidence": "confidence",
}

// typeNames maps the type column's values, MISP attribute types and this
// package's own names, to the family they must belong to. Immutable.
var typeNames = map[string][]Type{
	"ip": {IPv4, IPv6, IPv4CIDR, IPv6CIDR}, "ip-src": {IPv4, IPv6, IPv4CIDR, IPv6CIDR},
	"ip-dst": {IPv4, IPv6, IPv4CIDR, IPv6CIDR}, "ip-addr": {IPv4, IPv6, IPv4CIDR, IPv6CIDR},
	"ipv4": {IPv4, IPv4CIDR}, "ipv4-addr": {IPv4, IPv4CIDR}, "ipv6": {IPv6, IPv6CIDR}, "ipv6-addr": {IPv6, IPv6CIDR},
	"cidr": {IPv4CIDR, IPv6CIDR}, "ipv4-cidr": {IPv4CIDR}, "ipv6-cidr": {IPv6CIDR},
	"domain": {Domain}, "hostname": {Domain}, "domain-name": {Domain}, "fqdn": {Domain},
	"url": {URL}, "uri": {URL}, "link": {URL},
	"email": {Email}, "email-src": {Email}, "email-dst": {Email}, "email-addr": {Email}, "email-address": {Email},
	"md5": {MD5}, "sha1": {SHA1}, "sha-1": {SHA1}, "sha256": {SHA256}, "sha-256": {SHA256},
	"sha512": {SHA512}, "sha-512": {SHA512},
	"hash": {MD5, SHA1, SHA256, SHA512}, "file-hash": {MD5, SHA1, SHA256, SHA512},
}

// ReadCSV reads a CSV file whose first row is a header and yields an
// indicator per row, preceded once by each TLP marking definition used. A
// first row with no known column name whose first cell is an indicator is
// taken as data (a list without a header).
// Columns are recognised by name: value/indicator/ioc (else the first
// column is the value), type (MISP type names such as ip-dst, domain,
// sha256, or this package's: ipv4, cidr, domain-name...; absent or empty
// means detect), description/comment, tlp, labels/tags (separated by ; or
// |), valid_from, valid_until (RFC 3339, a date, or unix seconds) and
// confidence (0 to 100). Lines starting with # are comments. A row that is
// no indicator yields a *LineError and reading goes on; any other error
// ends the sequence.
func ReadCSV(r io.Reader, opts Options) iter.Seq2[stix.Object, error] {
	return func(yield func(stix.Object, error) bool) {
		b, err := newBuilder(opts)
		if err != nil {
			yield(stix.Object{}, err)
			return
		}
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		cr.ReuseRecord = true
		cr.Comment = '#'
		header, err := cr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			yield(stix.Object{}, fmt.Errorf("ioclist: reading CSV header: %w", err))
			return
		}
		cols := map[string]int{}
		for i, h := range header {
			h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
			if role, ok := columnRoles[h]; ok {
				if _, dup := cols[role]; !dup {
					cols[role] = i
				}
			}
		}
		if _, ok := cols["value"]; !ok {
			cols["value"] = 0
		}
		lastLine := 0
		if len(cols) == 1 && len(header) > 0 {
			// No column name recognised: if the first cell is an
			// indicator, there is no header and this row is data.
			if _, _, err := Detect(header[0]); err == nil {
				lastLine = 1
				rw, err := parseRow(header, cols)
				if err != nil {
					if !yield(stix.Object{}, &LineError{Line: 1, Value: truncate(header[0]), Err: err}) {
						return
					}
				} else if !b.build(rw, yield) {
					return
				}
			}
		}
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) && pe.StartLine > lastLine {
					lastLine = pe.StartLine
					if !yield(stix.Object{}, &LineError{Line: pe.StartLine, Err: pe.Err}) {
						return
					}
					continue
				}
				yield(stix.Object{}, fmt.Errorf("ioclist: reading CSV: %w", err))
				return
			}
			line, _ := cr.FieldPos(0)
			lastLine = line
			rw, err := parseRow(rec, cols)
			if err != nil {
				if !yield(stix.Object{}, &LineError{Line: line, Value: truncate(field(rec, cols, "value")), Err: err}) {
					return
				}
				continue
			}
			if rw.typ == "" { // blank row
				continue
			}
			if !rw.validUntil.IsZero() {
				from := b.fromT
				if !rw.validFrom.IsZero() {
					from = rw.validFrom
				}
				if !rw.validUntil.After(from) {
					if !yield(stix.Object{}, &LineError{Line: line, Value: truncate(rw.value), Err: errors.New("valid_until is not after valid_from")}) {
						return
					}
					continue
				}
			}
			if !b.build(rw, yield) {
				return
			}
		}
	}
}

func field(rec []string, cols map[string]int, role string) string {
	i, ok := cols[role]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// parseRow reads one record; a row with an empty value and nothing else
// returns a zero row and no error.
func parseRow(rec []string, cols map[string]int) (row, error) {
	rw := row{confidence: -1}
	raw := field(rec, cols, "value")
	if raw == "" {
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				return rw, ErrEmpty
			}
		}
		return rw, nil
	}
	t, v, err := Detect(raw)
	if err != nil {
		return rw, err
	}
	if tn := strings.ToLower(field(rec, cols, "type")); tn != "" {
		allowed, ok := typeNames[tn]
		if !ok {
			return rw, fmt.Errorf("unknown type %q", tn)
		}
		fits := false
		for _, a := range allowed {
			fits = fits || a == t
		}
		if !fits {
			return rw, fmt.Errorf("value %q is of type %s, not %s", truncate(v), t, tn)
		}
	}
	rw.typ, rw.value = t, v
	rw.description = field(rec, cols, "description")
	if s := field(rec, cols, "tlp"); s != "" {
		l, ok := stix.TLPByName(s)
		if !ok {
			return rw, fmt.Errorf("unknown TLP %q", s)
		}
		rw.tlp = &l
	}
	if s := field(rec, cols, "labels"); s != "" {
		for l := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ';' || r == '|' }) {
			if l = strings.TrimSpace(l); l != "" {
				rw.labels = append(rw.labels, l)
			}
		}
	}
	if rw.validFrom, err = parseTime(field(rec, cols, "valid_from")); err != nil {
		return rw, fmt.Errorf("valid_from: %w", err)
	}
	if rw.validUntil, err = parseTime(field(rec, cols, "valid_until")); err != nil {
		return rw, fmt.Errorf("valid_until: %w", err)
	}
	if s := field(rec, cols, "confidence"); s != "" {
		c, err := strconv.Atoi(s)
		if err != nil || c < 0 || c > 100 {
			return rw, fmt.Errorf("confidence %q is not an integer from 0 to 100", s)
		}
		rw.confidence = c
	}
	return rw, nil
}

// parseTime reads RFC 3339, "2006-01-02 15:04:05", a date or unix seconds;
// "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, ok := time.Time{}, false
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		t, ok = time.Unix(n, 0), true
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateTime, time.DateOnly} {
		if ok {
			break
		}
		if pt, err := time.Parse(layout, s); err == nil {
			t, ok = pt, true
		}
	}
	if !ok {
		return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339, date or unix seconds)", s)
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%q is out of range", s)
	}
	return t, nil
}
