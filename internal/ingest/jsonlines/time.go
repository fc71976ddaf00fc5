package jsonlines

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/shieldwall/shieldwall/internal/event"
)

// TimeKeys are the top-level names a record's time is taken from, in order
// of preference.
var TimeKeys = []string{"@timestamp", "timestamp", "ts", "TimeCreated", "EventTime", "UtcTime", "time", "Timestamp", "TimeGenerated", "eventTime", "date"}

// Lookup returns the first top-level member of the JSON object raw whose
// name is one of keys (the earliest key in keys wins), its text (strings
// unescaped) and kind. It skips nested values without building them. ok is
// false when none is present or the record is not valid enough to tell.
func Lookup(raw []byte, keys []string) (value string, kind event.Kind, ok bool) {
	if len(raw) == 0 {
		return "", 0, false
	}
	// The scan reads raw through a string that shares its bytes, to avoid
	// copying the whole record to read one member: nothing derived from it
	// outlives this call except value, which is cloned.
	d := decoder{s: unsafe.String(&raw[0], len(raw))}
	defer func() { value = strings.Clone(value) }()
	best := len(keys)
	d.skipWS()
	if d.i >= len(d.s) || d.s[d.i] != '{' {
		return "", 0, false
	}
	d.i++
	for {
		d.skipWS()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			break
		}
		key, err := d.str()
		if err != nil {
			break
		}
		d.skipWS()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			break
		}
		d.i++
		d.skipWS()
		k := -1
		for j := 0; j < best; j++ {
			if keys[j] == key {
				k = j
				break
			}
		}
		if k >= 0 {
			n := len(d.out)
			if err := d.value(key, 1); err != nil {
				break
			}
			if len(d.out) == n+1 { // a scalar
				f := d.out[n]
				value, kind, ok, best = f.Value, f.Kind, true, k
				if k == 0 {
					return value, kind, ok
				}
			}
			d.out = d.out[:n]
		} else if !d.skip(0) {
			break
		}
		d.skipWS()
		if d.i >= len(d.s) || d.s[d.i] != ',' {
			break
		}
		d.i++
	}
	return value, kind, ok
}

// skip passes over one value without decoding it; false on bad JSON.
func (d *decoder) skip(depth int) bool {
	if depth > MaxDepth || d.i >= len(d.s) {
		return false
	}
	switch c := d.s[d.i]; c {
	case '"':
		d.i++
		for d.i < len(d.s) {
			switch d.s[d.i] {
			case '"':
				d.i++
				return true
			case '\\':
				d.i += 2
			default:
				d.i++
			}
		}
		return false
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		d.i++
		d.skipWS()
		if d.i < len(d.s) && d.s[d.i] == end {
			d.i++
			return true
		}
		for {
			d.skipWS()
			if c == '{' {
				if !d.skip(depth + 1) {
					return false
				}
				d.skipWS()
				if d.i >= len(d.s) || d.s[d.i] != ':' {
					return false
				}
				d.i++
				d.skipWS()
			}
			if !d.skip(depth + 1) {
				return false
			}
			d.skipWS()
			if d.i >= len(d.s) {
				return false
			}
			if d.s[d.i] == end {
				d.i++
				return true
			}
			if d.s[d.i] != ',' {
				return false
			}
			d.i++
		}
	default:
		start := d.i
		for d.i < len(d.s) {
			switch d.s[d.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return d.i > start
			}
			d.i++
		}
		return d.i > start
	}
}

// ParseTime reads a timestamp as logs write them: RFC 3339 / ISO 8601 with
// or without a zone (a missing zone is UTC), with 'T' or a space, offsets as
// "+01:00" or "+0100", and epoch seconds (or milliseconds when the value is
// too large to be seconds) as a number or numeric string.
func ParseTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if c := v[0]; c == '-' || c == '.' || (c >= '0' && c <= '9') {
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return epoch(f), true
		}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	time.RFC1123Z,
	time.RFC1123,
}

func epoch(f float64) time.Time {
	if f > 1e11 || f < -1e11 { // milliseconds
		f /= 1000
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

// TimeOf returns the time of the JSON record raw from the first of keys it
// holds that parses as a time; zero when none does.
func TimeOf(raw []byte, keys []string) time.Time {
	v, k, ok := Lookup(raw, keys)
	if !ok || (k != event.String && k != event.Number) {
		return time.Time{}
	}
	t, _ := ParseTime(v)
	return t
}
