package natsin

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// deadLetter publishes msg to the dead-letter subject with reason, waits for
// the stream to store it, and terminates msg so the server stops delivering
// it. The publish carries a message id made of the stream and sequence, so a
// second dead-lettering of the same message (after a crash between publish
// and term) is dropped by the dead-letter stream's duplicate window.
//
// When the publish fails (no stream captures the subject, timeout) the
// message is released with NakDelay and the failure logged: it comes back
// while it has deliveries left.
func (in *Input) deadLetter(ctx context.Context, msg jetstream.Msg, seq uint64, reason string) error {
	dl := nats.NewMsg(in.cfg.DeadLetter)
	dl.Data = msg.Data()
	for k, v := range msg.Headers() {
		if k == jetstream.MsgIDHeader {
			continue
		}
		dl.Header[k] = v
	}
	dl.Header.Set(HeaderReason, reason)
	dl.Header.Set(HeaderStream, in.cfg.Stream)
	dl.Header.Set(HeaderSubject, msg.Subject())
	dl.Header.Set(HeaderSeq, strconv.FormatUint(seq, 10))
	id := "deadletter/" + in.cfg.Stream + "/" + strconv.FormatUint(seq, 10)
	if _, err := in.js.PublishMsg(ctx, dl, jetstream.WithMsgID(id)); err != nil {
		in.cfg.Logger.Error("natsin: cannot dead-letter message; releasing it",
			"stream", in.cfg.Stream, "seq", seq, "dead_letter", in.cfg.DeadLetter, "reason", reason, "err", err)
		if err := msg.NakWithDelay(in.cfg.NakDelay); err != nil {
			return fmt.Errorf("natsin: nak stream sequence %d: %w", seq, err)
		}
		return nil
	}
	in.cfg.Logger.Warn("natsin: message dead-lettered",
		"stream", in.cfg.Stream, "seq", seq, "dead_letter", in.cfg.DeadLetter, "reason", reason)
	if err := msg.Term(); err != nil {
		return fmt.Errorf("natsin: terminate dead-lettered stream sequence %d: %w", seq, err)
	}
	return nil
}
