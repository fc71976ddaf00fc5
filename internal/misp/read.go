package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
)

// readEvents yields the raw events of a MISP document, one at a time, so a
// long list never sits in memory whole. It accepts {"Event": {...}}, a bare
// event object, a JSON array of either, and {"response": [...]}.
func readEvents(r io.Reader) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		dec := json.NewDecoder(r)
		tok, err := dec.Token()
		if err != nil {
			yield(nil, fmt.Errorf("misp: reading document: %w", err))
			return
		}
		switch tok {
		case json.Delim('['):
			streamArray(dec, yield)
		case json.Delim('{'):
			streamObject(dec, yield)
		default:
			yield(nil, fmt.Errorf("misp: document is neither an object nor an array (starts with %v)", tok))
		}
	}
}

// streamArray yields each element of an array whose '[' was just read.
func streamArray(dec *json.Decoder, yield func(json.RawMessage, error) bool) bool {
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			yield(nil, fmt.Errorf("misp: event %d: %w", i, err))
			return false
		}
		ev, err := unwrapEvent(raw)
		if err != nil {
			err = fmt.Errorf("misp: event %d: %w", i, err)
		}
		if !yield(ev, err) {
			return false
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		yield(nil, fmt.Errorf("misp: reading list end: %w", err))
		return false
	}
	return true
}

// streamObject handles a top-level object whose '{' was just read: either a
// wrapper with "Event" or "response", or a bare event.
func streamObject(dec *json.Decoder, yield func(json.RawMessage, error) bool) {
	fields := map[string]json.RawMessage{}
	sawResponse := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			yield(nil, fmt.Errorf("misp: reading document: %w", err))
			return
		}
		key, _ := tok.(string)
		if key == "response" {
			t, err := dec.Token()
			if err != nil {
				yield(nil, fmt.Errorf("misp: reading response: %w", err))
				return
			}
			if t != json.Delim('[') {
				yield(nil, errors.New(`misp: "response" is not a list`))
				return
			}
			sawResponse = true
			if !streamArray(dec, yield) {
				return
			}
			continue
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			yield(nil, fmt.Errorf("misp: reading %q: %w", key, err))
			return
		}
		fields[key] = v
	}
	if _, err := dec.Token(); err != nil { // '}'
		yield(nil, fmt.Errorf("misp: reading document end: %w", err))
		return
	}
	if sawResponse {
		return
	}
	if ev, ok := fields["Event"]; ok {
		yield(ev, nil)
		return
	}
	if len(fields) == 0 {
		yield(nil, errors.New("misp: empty document"))
		return
	}
	b, err := json.Marshal(fields)
	if err != nil {
		yield(nil, fmt.Errorf("misp: re-encoding event: %w", err))
		return
	}
	yield(b, nil)
}

// unwrapEvent returns the event inside {"Event": {...}} or raw itself.
func unwrapEvent(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("event is not an object")
	}
	var w struct {
		Event json.RawMessage `json:"Event"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	if len(w.Event) > 0 && !bytes.Equal(bytes.TrimSpace(w.Event), []byte("null")) {
		return w.Event, nil
	}
	return raw, nil
}
