package detect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/shieldwall/shieldwall/internal/event"
)

// AlertID is the alert's identity: the same engine, rule and event record
// always give the same id, so an event read twice (a redelivery, a restart
// before a checkpoint) never makes a second alert.
func AlertID(a *Alert) string {
	h := sha256.New()
	for _, s := range []string{a.Engine, a.RuleID, a.Indicator, a.Source, strconv.FormatInt(a.Offset, 10)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if a.Events > 1 {
		// A correlation alert is identified by its rule and the last event
		// that completed it, and by the window it covers.
		h.Write([]byte(a.Time.UTC().Format("2006-01-02T15:04:05.000000000Z")))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Engines runs several engines over each event, in order, and hands every
// alert to one Emit. One engine failing on an event does not stop the
// others; the errors are joined.
type Engines []Engine

// Process implements Engine.
func (es Engines) Process(ctx context.Context, ev *event.Event, emit Emit) error {
	var errs []error
	for _, e := range es {
		if err := e.Process(ctx, ev, emit); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Dedup drops alerts whose AlertID it has seen among the last n distinct
// ones and passes the others on with ID set. It is not safe for concurrent
// use.
type Dedup struct {
	next Emit
	seen map[string]struct{}
	ring []string
	pos  int
	// Dropped counts duplicates.
	Dropped int
}

// NewDedup remembers the last n alert ids (n ≥ 1).
func NewDedup(n int, next Emit) (*Dedup, error) {
	if n < 1 {
		return nil, fmt.Errorf("dedup window %d: must be at least 1", n)
	}
	return &Dedup{next: next, seen: make(map[string]struct{}, n), ring: make([]string, n)}, nil
}

// Emit is the Emit to hand to engines.
func (d *Dedup) Emit(a *Alert) {
	if a.ID == "" {
		a.ID = AlertID(a)
	}
	if _, ok := d.seen[a.ID]; ok {
		d.Dropped++
		return
	}
	if old := d.ring[d.pos]; old != "" {
		delete(d.seen, old)
	}
	d.ring[d.pos] = a.ID
	d.pos = (d.pos + 1) % len(d.ring)
	d.seen[a.ID] = struct{}{}
	d.next(a)
}
