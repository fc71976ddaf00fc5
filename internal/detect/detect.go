// Package detect holds what every detection engine shares: the alert it
// produces and the contract an engine meets. Engines live below it
// (detect/ioc, detect/sigma, detect/stixmatch); they take events as
// parameters and hand alerts to a callback, never to a store or the network.
package detect

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/shieldwall/shieldwall/internal/event"
)

// Match is one field of the event that made a rule fire, with the value
// that matched.
type Match struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// Alert is one detection: which rule fired on which event, and why.
type Alert struct {
	// ID identifies the alert (AlertID); set by Dedup or the sink.
	ID string `json:"id,omitempty"`
	// Engine is "sigma", "ioc" or "stix".
	Engine    string   `json:"engine"`
	RuleID    string   `json:"rule_id"`
	RuleTitle string   `json:"rule_title"`
	Level     string   `json:"level"` // informational, low, medium, high, critical
	Tags      []string `json:"tags,omitempty"`
	// Source and Offset locate the event (file and record) that fired.
	Source string    `json:"source"`
	Offset int64     `json:"offset"`
	Time   time.Time `json:"time"`
	// Matches lists the fields and values that matched.
	Matches []Match `json:"matches,omitempty"`
	// Indicator is the STIX id of the indicator or observable an IOC or
	// STIX-pattern alert came from.
	Indicator string `json:"indicator,omitempty"`
	// Events counts the events behind a correlation alert (1 otherwise).
	Events int `json:"events,omitempty"`
	// Event is the raw record (JSON when the source was JSON or EVTX).
	Event json.RawMessage `json:"event,omitempty"`
}

// Emit receives alerts. It is called from the goroutine that processes the
// event; an implementation that keeps the alert must not keep the event.
type Emit func(*Alert)

// Engine matches events. Process may be called from one goroutine at a
// time per Engine value; engines that keep state across events (windows,
// correlations) say so and are fed in event order.
type Engine interface {
	Process(ctx context.Context, ev *event.Event, emit Emit) error
}

// Flusher is an Engine that holds windows open across events (Sigma
// correlations, STIX qualifiers); Flush decides them at the end of a stream.
type Flusher interface {
	Flush(ctx context.Context, emit Emit) error
}

// Flush implements Flusher for every engine of es that is one.
func (es Engines) Flush(ctx context.Context, emit Emit) error {
	var errs []error
	for _, e := range es {
		if f, ok := e.(Flusher); ok {
			errs = append(errs, f.Flush(ctx, emit))
		}
	}
	return errors.Join(errs...)
}
