// Package alertout publishes alerts to NATS JetStream, one message per alert
// on "<prefix>.<level>", and returns only once the stream has stored it.
//
// Every message carries a Nats-Msg-Id equal to the alert's detect.AlertID, which
// depends only on the engine, rule, indicator and event record. When an input
// delivers an event again (a node died after publishing its alerts but before
// acknowledging it), the second publish of the same alert falls inside the
// stream's duplicate window and the server drops it. The window must
// therefore be longer than the longest redelivery delay: the input's
// AckWait × MaxDeliver plus its NAK delays (see StreamConfig).
package alertout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// DefaultPrefix is the subject prefix of alerts.
const DefaultPrefix = "shieldwall.alerts"

// Config says where alerts go.
type Config struct {
	// Prefix is the subject prefix (DefaultPrefix when empty); an alert
	// goes to Prefix + "." + its level.
	Prefix string
	// AckTimeout bounds the wait for the stream's acknowledgement when ctx
	// has no earlier deadline (5 s when 0).
	AckTimeout time.Duration
}

// Publisher publishes alerts. It is safe for concurrent use.
type Publisher struct {
	js         jetstream.JetStream
	prefix     string
	ackTimeout time.Duration
	duplicates atomic.Int64
}

// Duplicates counts the publishes the stream dropped as duplicates since
// New: alerts of events delivered again.
func (p *Publisher) Duplicates() int64 { return p.duplicates.Load() }

// New returns a Publisher writing through js.
func New(js jetstream.JetStream, cfg Config) *Publisher {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 5 * time.Second
	}
	return &Publisher{js: js, prefix: strings.TrimSuffix(cfg.Prefix, "."), ackTimeout: cfg.AckTimeout}
}

// StreamConfig is a stream capturing the alerts of prefix (DefaultPrefix
// when empty), keeping a duplicate window of dupWindow; give it longer than
// the inputs' AckWait × MaxDeliver.
func StreamConfig(name, prefix string, dupWindow time.Duration) jetstream.StreamConfig {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return jetstream.StreamConfig{
		Name:        name,
		Description: "shieldwall alerts",
		Subjects:    []string{strings.TrimSuffix(prefix, ".") + ".>"},
		Storage:     jetstream.FileStorage,
		Duplicates:  dupWindow,
	}
}

// Subject is the subject an alert of level goes to. Levels are lower-cased;
// characters a subject token cannot hold become '_', and an empty level is
// "unknown".
func (p *Publisher) Subject(level string) string {
	return p.prefix + "." + subjectToken(level)
}

func subjectToken(s string) string {
	if s == "" {
		return "unknown"
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// message builds the NATS message of a, setting a.ID when empty.
func (p *Publisher) message(a *detect.Alert) (*nats.Msg, error) {
	if a.ID == "" {
		a.ID = detect.AlertID(a)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("alertout: encode alert %s (rule %q): %w", a.ID, a.RuleID, err)
	}
	m := nats.NewMsg(p.Subject(a.Level))
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, a.ID)
	return m, nil
}

// Publish publishes a (setting a.ID when empty) and waits until the stream
// stored it. duplicate reports that the stream already held an alert of
// that id within its duplicate window, and dropped this one.
func (p *Publisher) Publish(ctx context.Context, a *detect.Alert) (duplicate bool, err error) {
	dups, err := p.PublishAll(ctx, []*detect.Alert{a})
	return dups == 1, err
}

// PublishAll publishes every alert without waiting between them, then waits
// until the stream stored each. It returns how many the stream dropped as
// duplicates, and an error naming every alert that is not known to be
// stored.
func (p *Publisher) PublishAll(ctx context.Context, alerts []*detect.Alert) (duplicates int, err error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	futures, errs := p.send(alerts)
	return p.wait(ctx, alerts, futures, errs)
}

// send starts the publishes of alerts.
func (p *Publisher) send(alerts []*detect.Alert) ([]jetstream.PubAckFuture, []error) {
	futures := make([]jetstream.PubAckFuture, len(alerts))
	var errs []error
	for i, a := range alerts {
		m, err := p.message(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := p.js.PublishMsgAsync(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("alertout: publish alert %s to %s: %w", a.ID, m.Subject, err))
			continue
		}
		futures[i] = f
	}
	return futures, errs
}

// wait collects the acknowledgements of send's futures.
func (p *Publisher) wait(ctx context.Context, alerts []*detect.Alert, futures []jetstream.PubAckFuture, errs []error) (duplicates int, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.ackTimeout)
	defer cancel()
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				duplicates++
			}
		case err := <-f.Err():
			errs = append(errs, fmt.Errorf("alertout: publish alert %s: %w", alerts[i].ID, err))
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("alertout: publish alert %s: no acknowledgement: %w", alerts[i].ID, ctx.Err()))
		}
	}
	p.duplicates.Add(int64(duplicates))
	return duplicates, errors.Join(errs...)
}

// Handler runs eng over each event and publishes the alerts it emits,
// returning nil only once all of them are stored; give it to an input that
// acknowledges an event after its handler returned nil (ingest/natsin). An
// engine error is returned after the alerts emitted before it are
// published, so the input delivers the event again (and finally
// dead-letters it). Like an Engine, the handler serves one goroutine at a
// time.
func (p *Publisher) Handler(eng detect.Engine) func(ctx context.Context, ev *event.Event) error {
	var alerts []*detect.Alert
	emit := func(a *detect.Alert) { alerts = append(alerts, a) }
	return func(ctx context.Context, ev *event.Event) error {
		alerts = alerts[:0]
		perr := eng.Process(ctx, ev, emit)
		_, err := p.PublishAll(ctx, alerts)
		clear(alerts)
		if perr != nil {
			return errors.Join(fmt.Errorf("alertout: engine on %s@%d: %w", ev.Source, ev.Offset, perr), err)
		}
		return err
	}
}

// AsyncHandler is Handler for an input that lets the wait for the stream's
// acknowledgements overlap with the next events (natsin.RunAsync): it runs
// eng, starts the publishes and returns; done gets the outcome once every
// alert is stored (at once when there is none). It serves one goroutine at
// a time; done may be called from another.
func (p *Publisher) AsyncHandler(eng detect.Engine) func(ctx context.Context, ev *event.Event, done func(error)) {
	var alerts []*detect.Alert
	emit := func(a *detect.Alert) { alerts = append(alerts, a) }
	return func(ctx context.Context, ev *event.Event, done func(error)) {
		alerts = alerts[:0]
		perr := eng.Process(ctx, ev, emit)
		if perr != nil {
			perr = fmt.Errorf("alertout: engine on %s@%d: %w", ev.Source, ev.Offset, perr)
		}
		if len(alerts) == 0 {
			done(perr)
			return
		}
		mine := append([]*detect.Alert(nil), alerts...)
		clear(alerts)
		futures, errs := p.send(mine)
		// Past a cancellation, still wait (up to AckTimeout) for the
		// acknowledgements, so that a stopping input acknowledges what is
		// stored instead of having it delivered again.
		wctx := context.WithoutCancel(ctx)
		go func() {
			_, err := p.wait(wctx, mine, futures, errs)
			done(errors.Join(perr, err))
		}()
	}
}
