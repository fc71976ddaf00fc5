// Package event holds the normalised record every input produces: where it
// came from, when, the raw bytes, and a flat list of named fields that the
// detection engines read.
//
// Fields are flat: nested JSON objects become dotted names ("process.name"),
// and a list becomes the same name repeated once per element, in order, so an
// engine that wants "any element matches" walks every field of that name.
// An input may fill the fields eagerly, or hand the event a Decoder so that
// the fields are only built when an engine first asks for them.
package event

import "time"

// Kind says what JSON-like type a field value had in the source.
type Kind uint8

const (
	String Kind = iota // the zero value: text
	Number             // Value holds the literal digits ("4624", "-1.5")
	Bool               // Value is "true" or "false"
	Null               // Value is ""; the field is present with no value
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "bool"
	case Null:
		return "null"
	}
	return "invalid"
}

// Field is one named value of an event.
type Field struct {
	Name  string
	Value string
	Kind  Kind
}

// Decoder builds the fields of a raw record on first use. It appends to
// dst and returns the extended slice; an error says the record could not be
// read (the fields decoded before the error are kept).
type Decoder interface {
	DecodeFields(raw []byte, dst []Field) ([]Field, error)
}

// Event is one log record.
type Event struct {
	// Source names where the record came from: a file path, a listener
	// address ("udp://0.0.0.0:514"), "stdin".
	Source string
	// Format is the input format: "evtx", "jsonl", "eve", "zeek", "syslog".
	Format string
	// Offset locates the record in Source: the EVTX record id, a byte
	// offset of the line in a text file, or a sequence number.
	Offset int64
	// Time is when the record says it happened (zero when it says nothing).
	Time time.Time
	// Raw is the record as read, for alerts and re-parsing. Inputs may reuse
	// the buffer after the event has been processed; copy it to keep it.
	Raw []byte

	fields  []Field
	decoder Decoder
	decoded bool
	err     error
}

// New returns an event whose fields are already known.
func New(source, format string, offset int64, t time.Time, raw []byte, fields []Field) *Event {
	return &Event{Source: source, Format: format, Offset: offset, Time: t, Raw: raw, fields: fields, decoded: true}
}

// NewLazy returns an event whose fields d decodes from raw on first access.
func NewLazy(source, format string, offset int64, t time.Time, raw []byte, d Decoder) *Event {
	return &Event{Source: source, Format: format, Offset: offset, Time: t, Raw: raw, decoder: d}
}

// Reset makes e reusable for another record without freeing its field
// storage; inputs on hot paths keep one Event per goroutine.
func (e *Event) Reset(source, format string, offset int64, t time.Time, raw []byte, d Decoder) {
	e.Source, e.Format, e.Offset, e.Time, e.Raw = source, format, offset, t, raw
	e.fields = e.fields[:0]
	e.decoder = d
	e.decoded = d == nil
	e.err = nil
}

// SetFields replaces the fields (the event counts as decoded).
func (e *Event) SetFields(f []Field) {
	e.fields, e.decoded, e.err = f, true, nil
}

// AppendField adds one field.
func (e *Event) AppendField(name, value string, k Kind) {
	e.decode()
	e.fields = append(e.fields, Field{Name: name, Value: value, Kind: k})
}

func (e *Event) decode() {
	if e.decoded {
		return
	}
	e.decoded = true
	if e.decoder != nil {
		e.fields, e.err = e.decoder.DecodeFields(e.Raw, e.fields[:0])
	}
}

// Fields returns every field, decoding them first if needed. The slice
// belongs to the event: do not keep it past the event's processing.
func (e *Event) Fields() []Field {
	e.decode()
	return e.fields
}

// Err reports why the record's fields could not all be decoded.
func (e *Event) Err() error {
	e.decode()
	return e.err
}

// Get returns the first field named name (case-sensitive).
func (e *Event) Get(name string) (Field, bool) {
	for _, f := range e.Fields() {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Value returns the first value of the field named name, and whether the
// field is present.
func (e *Event) Value(name string) (string, bool) {
	f, ok := e.Get(name)
	return f.Value, ok
}

// All returns every field named name, in order (more than one when the
// source held a list).
func (e *Event) All(name string) []Field {
	var out []Field
	for _, f := range e.Fields() {
		if f.Name == name {
			out = append(out, f)
		}
	}
	return out
}
