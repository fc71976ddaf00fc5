package jsonlines

import (
	"unicode/utf8"

	"github.com/shieldwall/shieldwall/internal/event"
)

// Parser turns JSON lines into lazily decoded events.
type Parser struct {
	// Format is the Event.Format to set; "jsonl" when empty.
	Format string
	// TimeKeys overrides the top-level names the time is read from.
	TimeKeys []string
}

// Parse returns the event for one line read from source at byte offset off.
// The line is kept as the event's Raw and decoded on first access to the
// fields; Parse itself only checks the line is valid UTF-8 that starts like
// an object and reads its time, so an error in the rest of the record shows
// in the event's Err. Parse returns ErrInvalidUTF8 or ErrNotObject for a
// line that cannot be a record.
func (p Parser) Parse(source string, off int64, line []byte) (*event.Event, error) {
	raw, err := Check(line)
	if err != nil {
		return nil, err
	}
	format := p.Format
	if format == "" {
		format = "jsonl"
	}
	keys := p.TimeKeys
	if keys == nil {
		keys = TimeKeys
	}
	return event.NewLazy(source, format, off, TimeOf(raw, keys), raw, Decoder{}), nil
}

// Check returns line without surrounding white space if it can be a JSON
// object record: valid UTF-8 starting with '{' and ending with '}'.
func Check(line []byte) ([]byte, error) {
	i, j := 0, len(line)
	for i < j && isSpace(line[i]) {
		i++
	}
	for j > i && isSpace(line[j-1]) {
		j--
	}
	raw := line[i:j]
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return nil, ErrNotObject
	}
	if !utf8.Valid(raw) {
		return nil, ErrInvalidUTF8
	}
	return raw, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
