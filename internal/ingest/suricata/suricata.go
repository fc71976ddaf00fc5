// Package suricata reads Suricata EVE JSON logs (one JSON object per line)
// into events with Format "eve" and the time of their "timestamp" member.
// Fields are flattened like every JSON input: "alert.signature_id",
// "http.hostname", "dns.answers.rdata" repeated per answer.
package suricata

import (
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/jsonlines"
)

// Format is the Event.Format of EVE records.
const Format = "eve"

var timeKeys = []string{"timestamp"}

// Parser reads EVE lines; the zero value is ready and holds no state.
type Parser struct{}

// Parse returns the event for one EVE line read from source at byte offset
// off. Like jsonlines.Parser.Parse it checks the line can be a JSON object,
// reads the time, and leaves the rest to lazy decoding (errors in the rest
// show in the event's Err).
func (Parser) Parse(source string, off int64, line []byte) (*event.Event, error) {
	return jsonlines.Parser{Format: Format, TimeKeys: timeKeys}.Parse(source, off, line)
}

// IsEVE reports whether a JSON line looks like an EVE record: a top-level
// "event_type" and a "timestamp".
func IsEVE(line []byte) bool {
	_, _, hasType := jsonlines.Lookup(line, []string{"event_type"})
	_, _, hasTime := jsonlines.Lookup(line, timeKeys)
	return hasType && hasTime
}
