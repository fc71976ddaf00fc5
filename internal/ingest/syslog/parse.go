// Package syslog reads syslog messages, RFC 5424 and RFC 3164 (BSD), into
// events with Format "syslog": from lines of a file (the parent package
// frames them) and from UDP and TCP listeners (RFC 6587 octet counting and
// newline framing).
//
// Fields: facility and severity (numbers, when the message has a PRI) with
// facility_name and severity_name, timestamp (as written), hostname, appname,
// procid, msgid, message, version (5424), and each structured-data parameter
// as "SD-ID.PARAM" (for example "exampleSDID@32473.iut"). RFC 5424 NILVALUEs
// ('-') give no field. Bytes that are not UTF-8 are replaced by U+FFFD.
package syslog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shieldwall/shieldwall/internal/event"
)

// Format is the Event.Format of syslog records.
const Format = "syslog"

// Errors for single records.
var (
	ErrEmpty     = errors.New("syslog: empty message")
	ErrNotSyslog = errors.New("syslog: no PRI and no syslog header")
	ErrBadPRI    = errors.New("syslog: invalid PRI")
	ErrBadSD     = errors.New("syslog: invalid structured data")
)

// Parser parses syslog messages. The zero value parses in UTC with the
// current year for RFC 3164 timestamps, which carry none.
type Parser struct {
	// Now gives the reference time for the year of RFC 3164 timestamps
	// (a timestamp more than a day in the future is taken as last year).
	Now func() time.Time
	// Location is the zone of RFC 3164 timestamps (UTC when nil).
	Location *time.Location
}

var facilityNames = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

var severityNames = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// Parse returns the event for one message received from source (offset is
// its byte offset in a file or its sequence number on a listener).
func (p Parser) Parse(source string, off int64, msg []byte) (*event.Event, error) {
	fields, t, err := p.Fields(msg, nil)
	if err != nil {
		return nil, err
	}
	return event.New(source, Format, off, t, msg, fields), nil
}

// Fields parses one message into fields appended to dst, and returns the
// time it states (zero if none).
func (p Parser) Fields(msg []byte, dst []event.Field) ([]event.Field, time.Time, error) {
	s := string(msg)
	s = strings.TrimRight(s, "\r\n\x00")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.TrimSpace(s) == "" {
		return dst, time.Time{}, ErrEmpty
	}
	hasPRI := false
	if s[0] == '<' {
		end := strings.IndexByte(s, '>')
		if end < 2 || end > 4 {
			return dst, time.Time{}, ErrBadPRI
		}
		pri, err := strconv.Atoi(s[1:end])
		if err != nil || pri < 0 || pri > 191 || (end > 2 && s[1] == '0') {
			return dst, time.Time{}, fmt.Errorf("%w: %q", ErrBadPRI, s[:end+1])
		}
		fac, sev := pri/8, pri%8
		dst = append(dst,
			event.Field{Name: "facility", Value: strconv.Itoa(fac), Kind: event.Number},
			event.Field{Name: "severity", Value: strconv.Itoa(sev), Kind: event.Number},
			event.Field{Name: "facility_name", Value: facilityNames[fac]},
			event.Field{Name: "severity_name", Value: severityNames[sev]})
		s = s[end+1:]
		hasPRI = true
		if len(s) >= 2 && s[0] >= '1' && s[0] <= '9' && (s[1] == ' ' || (len(s) >= 3 && s[1] >= '0' && s[1] <= '9' && s[2] == ' ')) {
			return parse5424(s, dst)
		}
	}
	return p.parse3164(s, hasPRI, dst)
}

// next splits s at the first space.
func next(s string) (tok, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func parse5424(s string, dst []event.Field) ([]event.Field, time.Time, error) {
	var version, ts, host, app, proc, msgid string
	version, s = next(s)
	ts, s = next(s)
	host, s = next(s)
	app, s = next(s)
	proc, s = next(s)
	msgid, s = next(s)
	dst = append(dst, event.Field{Name: "version", Value: version, Kind: event.Number})
	var t time.Time
	if ts != "-" {
		dst = append(dst, event.Field{Name: "timestamp", Value: ts})
		if x, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			t = x.UTC()
		}
	}
	for _, f := range [...]event.Field{{Name: "hostname", Value: host}, {Name: "appname", Value: app}, {Name: "procid", Value: proc}, {Name: "msgid", Value: msgid}} {
		if f.Value != "-" && f.Value != "" {
			dst = append(dst, f)
		}
	}
	switch {
	case strings.HasPrefix(s, "-"):
		s = s[1:]
	case strings.HasPrefix(s, "["):
		var err error
		dst, s, err = parseSD(s, dst)
		if err != nil {
			return dst, t, err
		}
	case s == "":
	default:
		return dst, t, fmt.Errorf("%w: want '-' or '['", ErrBadSD)
	}
	s = strings.TrimPrefix(s, " ")
	s = strings.TrimPrefix(s, "\uFEFF")
	if s != "" {
		dst = append(dst, event.Field{Name: "message", Value: s})
	}
	return dst, t, nil
}

// parseSD reads SD-ELEMENTs at the start of s.
func parseSD(s string, dst []event.Field) ([]event.Field, string, error) {
	for strings.HasPrefix(s, "[") {
		s = s[1:]
		i := strings.IndexAny(s, " ]")
		if i <= 0 {
			return dst, s, fmt.Errorf("%w: SD-ID", ErrBadSD)
		}
		id := s[:i]
		s = s[i:]
		for {
			if strings.HasPrefix(s, "]") {
				s = s[1:]
				break
			}
			if !strings.HasPrefix(s, " ") {
				return dst, s, fmt.Errorf("%w: in [%s]", ErrBadSD, id)
			}
			s = s[1:]
			eq := strings.IndexByte(s, '=')
			if eq <= 0 || eq+1 >= len(s) || s[eq+1] != '"' || strings.ContainsAny(s[:eq], " ]\"") {
				return dst, s, fmt.Errorf("%w: parameter in [%s]", ErrBadSD, id)
			}
			name := s[:eq]
			s = s[eq+2:]
			var val strings.Builder
			closed := false
			for j := 0; j < len(s); j++ {
				c := s[j]
				if c == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\' || s[j+1] == ']') {
					val.WriteByte(s[j+1])
					j++
					continue
				}
				if c == '"' {
					s = s[j+1:]
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return dst, s, fmt.Errorf("%w: unterminated value of %s.%s", ErrBadSD, id, name)
			}
			dst = append(dst, event.Field{Name: id + "." + name, Value: val.String()})
		}
	}
	return dst, s, nil
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// stamp3164 reads "Mmm dd hh:mm:ss" (dd may be space-padded), optionally
// followed by a year, and returns the rest of s after the following space.
func (p Parser) stamp3164(s string) (time.Time, string, string, bool) {
	if len(s) < 15 || s[3] != ' ' || s[9] != ':' || s[12] != ':' {
		return time.Time{}, "", s, false
	}
	month := 0
	for i, m := range months {
		if s[:3] == m {
			month = i + 1
		}
	}
	day, err1 := strconv.Atoi(strings.TrimSpace(s[4:6]))
	hh, err2 := strconv.Atoi(s[7:9])
	mm, err3 := strconv.Atoi(s[10:12])
	ss, err4 := strconv.Atoi(s[13:15])
	if month == 0 || err1 != nil || err2 != nil || err3 != nil || err4 != nil || s[6] != ' ' {
		return time.Time{}, "", s, false
	}
	stamp, rest := s[:15], s[15:]
	nsec := 0
	if strings.HasPrefix(rest, ".") { // fractional seconds, as some daemons write
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if f, err := strconv.ParseFloat("0"+rest[:j], 64); err == nil {
			nsec = int(f * 1e9)
		}
		stamp, rest = s[:15+j], rest[j:]
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	year := now.In(loc).Year()
	if len(rest) >= 5 && rest[0] == ' ' && isDigits(rest[1:5]) && (len(rest) == 5 || rest[5] == ' ') {
		year, _ = strconv.Atoi(rest[1:5])
		stamp, rest = s[:len(stamp)+5], rest[5:]
	} else if t := time.Date(year, time.Month(month), day, hh, mm, ss, nsec, loc); t.After(now.Add(24 * time.Hour)) {
		year--
	}
	t := time.Date(year, time.Month(month), day, hh, mm, ss, nsec, loc)
	if t.Day() != day || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, "", s, false
	}
	return t.UTC(), stamp, strings.TrimPrefix(rest, " "), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (p Parser) parse3164(s string, hasPRI bool, dst []event.Field) ([]event.Field, time.Time, error) {
	t, stamp, rest, ok := p.stamp3164(s)
	if !ok {
		// rsyslog's high-precision format: an RFC 3339 timestamp.
		tok, r := next(s)
		if x, err := time.Parse(time.RFC3339Nano, tok); err == nil && len(tok) >= 20 {
			t, stamp, rest, ok = x.UTC(), tok, r, true
		}
	}
	if !ok {
		if !hasPRI {
			return dst, time.Time{}, ErrNotSyslog
		}
		// A PRI and free text: the whole rest is the message.
		return append(dst, event.Field{Name: "message", Value: s}), time.Time{}, nil
	}
	dst = append(dst, event.Field{Name: "timestamp", Value: stamp})
	// HOSTNAME, then TAG[PID]: MSG. A first word ending in ':' or '[' is a
	// tag with no hostname before it.
	if first, r := next(rest); first != "" && !strings.ContainsAny(first, ":[") {
		dst = append(dst, event.Field{Name: "hostname", Value: first})
		rest = r
	}
	if i := strings.IndexAny(rest, ":[ "); i > 0 && rest[i] != ' ' {
		tag := rest[:i]
		r := rest[i:]
		pid := ""
		if r[0] == '[' {
			if j := strings.IndexByte(r, ']'); j > 0 {
				pid, r = r[1:j], r[j+1:]
			}
		}
		if strings.HasPrefix(r, ":") {
			dst = append(dst, event.Field{Name: "appname", Value: tag})
			if pid != "" {
				dst = append(dst, event.Field{Name: "procid", Value: pid})
			}
			rest = strings.TrimPrefix(r[1:], " ")
		}
	}
	if rest != "" {
		dst = append(dst, event.Field{Name: "message", Value: rest})
	}
	return dst, t, nil
}
