// Package natsin reads events from a NATS JetStream stream through a durable
// pull consumer. Every node process bound to the same durable shares the
// stream: the server hands each message to one of them, and hands it again
// to any of them when it is not acknowledged in time, so a node that dies
// loses nothing.
//
// Each message body is one raw record (a JSON line by default). A message is
// acknowledged only after the handler returned nil, that is after whatever
// the handler produced from it is durable; a handler error makes the server
// deliver it again after a delay, and a message that fails MaxDeliver times
// goes to a dead-letter subject with the reason. Delivery is therefore at
// least once: outputs must be idempotent (see detect/alertout, whose
// message ids let JetStream drop a second publish of the same alert).
package natsin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/shieldwall/shieldwall/internal/event"
)

// Config says which stream and durable consumer to read.
type Config struct {
	// Stream is the JetStream stream to read; it must exist.
	Stream string
	// Subject filters the stream ("" reads every subject of the stream).
	Subject string
	// Durable names the consumer. Every process using the same name shares
	// the messages; it is created if missing and updated otherwise.
	Durable string
	// Format is the event Format ("jsonl" when empty).
	Format string
	// Batch is how many messages a pull asks for at once (256 when 0).
	Batch int
	// AckWait is how long the server waits for an acknowledgement before it
	// delivers the message again (30 s when 0).
	AckWait time.Duration
	// MaxDeliver is how many times a message is handed to a handler before
	// it goes to the dead-letter subject (5 when 0).
	MaxDeliver int
	// MaxAckPending caps the unacknowledged messages of the durable across
	// all processes (1000 when 0).
	MaxAckPending int
	// NakDelay is how long the server waits before delivering again a
	// message whose handler failed (1 s when 0).
	NakDelay time.Duration
	// PullExpiry is how long one pull request waits at the server before it
	// expires and the input asks again (5 s when 0, at least 1 s). A short
	// expiry bounds how long a pull request the server holds without
	// filling can stall this process: NATS 2.9 may leave a waiting request
	// unfilled after the durable reached MaxAckPending because another
	// process died holding messages, until the request expires.
	PullExpiry time.Duration
	// DeadLetter is the subject poison messages are published to; a
	// JetStream stream must capture it. "shieldwall.deadletter.<Stream>"
	// when empty.
	DeadLetter string
	// Logger receives handler failures and dead-letter notices
	// (slog.Default() when nil).
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultBatch         = 256
	DefaultAckWait       = 30 * time.Second
	DefaultMaxDeliver    = 5
	DefaultMaxAckPending = 1000
	DefaultNakDelay      = time.Second
	DefaultPullExpiry    = 5 * time.Second
	DefaultFormat        = "jsonl"
)

// Dead-letter headers: why a message was given up, and where it came from.
const (
	HeaderReason  = "Shieldwall-Dead-Reason"
	HeaderStream  = "Shieldwall-Stream"
	HeaderSubject = "Shieldwall-Subject"
	HeaderSeq     = "Shieldwall-Stream-Seq"
)

func (c Config) withDefaults() (Config, error) {
	if c.Stream == "" {
		return c, errors.New("natsin: no stream named")
	}
	if c.Durable == "" {
		return c, errors.New("natsin: no durable consumer named")
	}
	if c.Batch < 0 || c.MaxDeliver < 0 || c.MaxAckPending < 0 || c.AckWait < 0 || c.NakDelay < 0 || c.PullExpiry < 0 {
		return c, fmt.Errorf("natsin: negative setting in %+v", c)
	}
	if c.PullExpiry != 0 && c.PullExpiry < time.Second {
		return c, fmt.Errorf("natsin: pull expiry %v is under the 1 s JetStream allows", c.PullExpiry)
	}
	if c.Format == "" {
		c.Format = DefaultFormat
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	if c.NakDelay == 0 {
		c.NakDelay = DefaultNakDelay
	}
	if c.PullExpiry == 0 {
		c.PullExpiry = DefaultPullExpiry
	}
	if c.DeadLetter == "" {
		c.DeadLetter = "shieldwall.deadletter." + c.Stream
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// consumerConfig is the durable's server-side configuration. The server may
// deliver once more than MaxDeliver: a message seen for the MaxDeliver+1-th
// time has had MaxDeliver chances and no handler settled it (the processes
// died or timed out on it), so it is dead-lettered without a further try.
func (c Config) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       c.Durable,
		Description:   "shieldwall event input",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxDeliver:    c.MaxDeliver + 1,
		MaxAckPending: c.MaxAckPending,
		FilterSubject: c.Subject,
	}
}

// Input is one process's share of a durable consumer.
type Input struct {
	js     jetstream.JetStream
	cons   jetstream.Consumer
	cfg    Config
	dec    event.Decoder
	source string
}

// New binds to (creating or updating) the durable consumer of cfg. dec
// decodes the fields of each record lazily; it may be nil when the handler
// decodes Raw itself.
func New(ctx context.Context, js jetstream.JetStream, cfg Config, dec event.Decoder) (*Input, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, cfg.Stream, cfg.consumerConfig())
	if err != nil {
		return nil, fmt.Errorf("natsin: durable %q on stream %q: %w", cfg.Durable, cfg.Stream, err)
	}
	subj := cfg.Subject
	if subj == "" {
		subj = ">"
	}
	return &Input{js: js, cons: cons, cfg: cfg, dec: dec, source: "nats://" + cfg.Stream + "/" + subj}, nil
}

// Source is the Source of the events this input makes.
func (in *Input) Source() string { return in.source }

// Handler processes one event. It returns nil only once what it produced
// from the event is durable; the message is then acknowledged. The event
// and its Raw bytes belong to the input and are reused after it returns.
type Handler func(ctx context.Context, ev *event.Event) error

// AsyncHandler processes one event and calls done exactly once, from any
// goroutine, with nil once what it produced is durable (the message is then
// acknowledged) or with the reason it failed. It must not keep ev after it
// returns, but may call done later: the input goes on with the next
// messages meanwhile, so the waits for durable writes overlap.
type AsyncHandler func(ctx context.Context, ev *event.Event, done func(error))

// Run hands every message to handle, one at a time, until ctx is done or the
// connection fails. It returns ctx's error after a cancellation. Messages
// prefetched but not yet handled when ctx is done are released (negatively
// acknowledged without delay) so that another process takes them at once;
// the message being handled is left to the AckWait timer.
func (in *Input) Run(ctx context.Context, handle Handler) error {
	return in.loop(ctx, nil, func(msg jetstream.Msg, md *jetstream.MsgMetadata, ev *event.Event) error {
		return in.settle(ctx, msg, md, handle(ctx, ev))
	})
}

// RunAsync is Run for a handler that settles its events later; the
// messages between the handler's return and done count against
// MaxAckPending. Before it returns, RunAsync waits (at most AckWait) for
// the outstanding done calls; an ack that fails (connection lost) ends it.
func (in *Input) RunAsync(ctx context.Context, handle AsyncHandler) error {
	var wg sync.WaitGroup
	failed := make(chan error, 1)
	err := in.loop(ctx, failed, func(msg jetstream.Msg, md *jetstream.MsgMetadata, ev *event.Event) error {
		wg.Add(1)
		var once sync.Once
		handle(ctx, ev, func(herr error) {
			once.Do(func() {
				defer wg.Done()
				if err := in.settle(ctx, msg, md, herr); err != nil {
					select {
					case failed <- err:
					default:
					}
				}
			})
		})
		return nil
	})
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(in.cfg.AckWait):
		in.cfg.Logger.Warn("natsin: handlers still busy after AckWait; their messages will be delivered again", "durable", in.cfg.Durable)
	}
	return err
}

// loop pulls messages and hands each to step, until ctx is done, step
// fails, or an error arrives on failed.
func (in *Input) loop(ctx context.Context, failed <-chan error, step func(jetstream.Msg, *jetstream.MsgMetadata, *event.Event) error) error {
	it, err := in.cons.Messages(jetstream.PullMaxMessages(in.cfg.Batch), jetstream.PullExpiry(in.cfg.PullExpiry))
	if err != nil {
		return fmt.Errorf("natsin: pull from %q: %w", in.cfg.Durable, err)
	}
	defer it.Stop()
	ev := new(event.Event)
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil {
			// The server (or this process) was silent for two heartbeat
			// periods; the iterator pulls again by itself.
			in.cfg.Logger.Warn("natsin: no heartbeat from the server; pulling again", "durable", in.cfg.Durable)
			continue
		}
		if err != nil {
			err = fmt.Errorf("natsin: next message of %q: %w", in.cfg.Durable, err)
		} else {
			err = in.process(ctx, msg, ev, step)
		}
		if err == nil {
			select {
			case err = <-failed:
			default:
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				in.release(it)
				return ctx.Err()
			}
			return err
		}
	}
}

// release hands back the prefetched messages after a cancellation.
func (in *Input) release(it jetstream.MessagesContext) {
	it.Drain()
	for {
		msg, err := it.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			return
		}
		_ = msg.Nak() // best effort: unanswered, it comes back after AckWait
	}
}

// process hands one message to step, or dead-letters it when it has been
// delivered more than MaxDeliver times. It returns an error only when the
// message could not be settled (connection lost).
func (in *Input) process(ctx context.Context, msg jetstream.Msg, ev *event.Event, step func(jetstream.Msg, *jetstream.MsgMetadata, *event.Event) error) error {
	md, err := msg.Metadata()
	if err != nil {
		// Not a JetStream message: nothing to acknowledge.
		in.cfg.Logger.Warn("natsin: message without JetStream metadata", "subject", msg.Subject(), "err", err)
		return nil
	}
	seq := md.Sequence.Stream
	if int(md.NumDelivered) > in.cfg.MaxDeliver {
		reason := fmt.Sprintf("delivered %d times without being settled (handler crashed or timed out)", md.NumDelivered-1)
		return in.deadLetter(ctx, msg, seq, reason)
	}
	ev.Reset(in.source, in.cfg.Format, int64(seq), time.Time{}, msg.Data(), in.dec)
	return step(msg, md, ev)
}

// settle acknowledges msg when its handler succeeded (herr nil), and
// otherwise releases it with NakDelay or, on its last delivery,
// dead-letters it. While stopping (ctx done) a failed message is left to
// the AckWait timer, as after a crash, and herr returned.
func (in *Input) settle(ctx context.Context, msg jetstream.Msg, md *jetstream.MsgMetadata, herr error) error {
	seq := md.Sequence.Stream
	if herr == nil {
		if err := msg.Ack(); err != nil {
			return fmt.Errorf("natsin: ack stream sequence %d: %w", seq, err)
		}
		return nil
	}
	if ctx.Err() != nil {
		return herr
	}
	if int(md.NumDelivered) >= in.cfg.MaxDeliver {
		return in.deadLetter(ctx, msg, seq, fmt.Sprintf("handler failed %d times, last: %v", md.NumDelivered, herr))
	}
	in.cfg.Logger.Warn("natsin: handler failed; message will be delivered again",
		"stream", in.cfg.Stream, "seq", seq, "delivered", md.NumDelivered, "err", herr)
	if err := msg.NakWithDelay(in.cfg.NakDelay); err != nil {
		return fmt.Errorf("natsin: nak stream sequence %d: %w", seq, err)
	}
	return nil
}
