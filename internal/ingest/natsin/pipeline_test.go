package natsin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/detect/alertout"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/natsin"
)

// tally records, per stream sequence, how many times a handler finished an
// event (returned nil) and which node did.
type tally struct {
	mu         sync.Mutex
	done       map[int64]int
	byNode     map[string]int
	duplicates int // alert publishes the alert stream dropped
}

func (tl *tally) add(node string, off int64, dups int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.done[off]++
	tl.byNode[node]++
	tl.duplicates += dups
}

// pipelineHandler is the engine → alertout → (ack) handler of one node.
func pipelineHandler(node string, pub *alertout.Publisher, tl *tally) natsin.Handler {
	eng := badEngine{}
	var alerts []*detect.Alert
	return func(ctx context.Context, ev *event.Event) error {
		alerts = alerts[:0]
		if err := eng.Process(ctx, ev, func(a *detect.Alert) { alerts = append(alerts, a) }); err != nil {
			return err
		}
		dups, err := pub.PublishAll(ctx, alerts)
		if err != nil {
			return err
		}
		tl.add(node, ev.Offset, dups)
		return nil
	}
}

// TestTwoConsumersOneDies runs two nodes on one durable over 10,000 events;
// node A dies at its 1,500th event, either before doing the work (its context
// cancelled) or after publishing the event's alert but before the ack (its
// connection closed). Node B must finish everything, and the alert stream
// must hold each expected alert exactly once. Both nodes use Run with
// alertout's Handler, or RunAsync with its AsyncHandler.
func TestTwoConsumersOneDies(t *testing.T) {
	url := natsURL(t)
	for _, async := range []bool{false, true} {
		for _, mode := range []string{"cancel-before-work", "die-after-publish"} {
			name := "sync/" + mode
			if async {
				name = "async/" + mode
			}
			t.Run(name, func(t *testing.T) { twoConsumersOneDies(t, url, mode, async) })
		}
	}
}

func twoConsumersOneDies(t *testing.T, url, mode string, async bool) {
	const events, dieAt = 10000, 1500
	_, js := connect(t, url)
	n := setup(t, js)
	publishEvents(t, js, n.EventSubj, events)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg := natsin.Config{Stream: n.Events, Subject: n.EventSubj, Durable: n.Durable, Batch: 64,
		AckWait: 2 * time.Second, NakDelay: 100 * time.Millisecond, DeadLetter: n.DeadSubj,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tl := &tally{done: map[int64]int{}, byNode: map[string]int{}}

	// Node A, on its own connection.
	ncA, jsA := connect(t, url)
	inA, err := natsin.New(ctx, jsA, cfg, jsonDecoder{})
	if err != nil {
		t.Fatal(err)
	}
	pubA := alertout.New(jsA, alertout.Config{Prefix: n.AlertPrefix})
	ctxA, killA := context.WithCancel(ctx)
	defer killA()
	var diedOn int64 = -1
	seenA := 0
	// dies reports whether node A dies on ev, and then kills it.
	dies := func(ctx context.Context, ev *event.Event) (bool, error) {
		seenA++
		if seenA < dieAt {
			return false, nil
		}
		if mode == "cancel-before-work" {
			diedOn = ev.Offset
			killA()
			return true, ctx.Err()
		}
		if v, _ := ev.Value("bad"); v != "1" {
			return false, nil // die on a bad event, after its alert is out
		}
		var alerts []*detect.Alert
		if err := (badEngine{}).Process(ctx, ev, func(a *detect.Alert) { alerts = append(alerts, a) }); err != nil {
			return true, err
		}
		if _, err := pubA.PublishAll(ctx, alerts); err != nil {
			return true, err
		}
		diedOn = ev.Offset
		ncA.Close()
		return true, errors.New("node A died")
	}

	// Node B.
	_, jsB := connect(t, url)
	inB, err := natsin.New(ctx, jsB, cfg, jsonDecoder{})
	if err != nil {
		t.Fatal(err)
	}
	pubB := alertout.New(jsB, alertout.Config{Prefix: n.AlertPrefix})
	ctxB, stopB := context.WithCancel(ctx)
	defer stopB()

	errA, errB := make(chan error, 1), make(chan error, 1)
	if async {
		hA, hB := asyncNode("A", pubA, tl), asyncNode("B", pubB, tl)
		go func() {
			errA <- inA.RunAsync(ctxA, func(ctx context.Context, ev *event.Event, done func(error)) {
				if died, err := dies(ctx, ev); died {
					done(err)
					return
				}
				hA(ctx, ev, done)
			})
		}()
		go func() { errB <- inB.RunAsync(ctxB, hB) }()
	} else {
		hA, hB := pipelineHandler("A", pubA, tl), pipelineHandler("B", pubB, tl)
		go func() {
			errA <- inA.Run(ctxA, func(ctx context.Context, ev *event.Event) error {
				if died, err := dies(ctx, ev); died {
					return err
				}
				return hA(ctx, ev)
			})
		}()
		go func() { errB <- inB.Run(ctxB, hB) }()
	}

	select {
	case err := <-errA:
		if mode == "cancel-before-work" && !errors.Is(err, context.Canceled) {
			t.Errorf("node A Run = %v, want context.Canceled", err)
		}
		if mode == "die-after-publish" && (err == nil || errors.Is(err, context.Canceled)) {
			t.Errorf("node A Run after its connection closed = %v, want a connection error", err)
		}
	case <-ctx.Done():
		t.Fatalf("node A did not die")
	}
	drained(ctx, t, js, n.Events, n.Durable, errB)
	stopB()
	if err := <-errB; !errors.Is(err, context.Canceled) {
		t.Errorf("node B Run = %v, want context.Canceled", err)
	}

	tl.mu.Lock()
	defer tl.mu.Unlock()
	t.Logf("node A finished %d events and died on sequence %d; node B finished %d; the alert stream dropped %d of B's alerts as duplicates",
		tl.byNode["A"], diedOn, tl.byNode["B"], pubB.Duplicates())
	if tl.byNode["A"] < dieAt-1 || tl.byNode["B"] == 0 {
		t.Errorf("work split A=%d B=%d: want A ≥ %d and B > 0", tl.byNode["A"], tl.byNode["B"], dieAt-1)
	}
	missing := 0
	for seq := int64(1); seq <= events; seq++ {
		if tl.done[seq] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d events never finished", missing, events)
	}
	if diedOn < 0 || tl.done[diedOn] == 0 {
		t.Errorf("the event node A died on (sequence %d) was not finished by node B", diedOn)
	}
	if mode == "die-after-publish" && pubB.Duplicates() == 0 {
		t.Errorf("node B republished the alert of sequence %d, but the alert stream reported no duplicate", diedOn)
	}
	checkAlerts(t, js, n.Alerts, events)
}

// asyncNode is alertout's AsyncHandler over badEngine, counting in tl the
// events it finished.
func asyncNode(node string, pub *alertout.Publisher, tl *tally) natsin.AsyncHandler {
	h := pub.AsyncHandler(badEngine{})
	return func(ctx context.Context, ev *event.Event, done func(error)) {
		off := ev.Offset
		h(ctx, ev, func(err error) {
			if err == nil {
				tl.add(node, off, 0)
			}
			done(err)
		})
	}
}
