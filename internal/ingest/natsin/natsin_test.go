package natsin_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/natsin"
)

func TestNewRefusesIncompleteConfig(t *testing.T) {
	for _, cfg := range []natsin.Config{
		{Durable: "d"},
		{Stream: "S"},
		{Stream: "S", Durable: "d", Batch: -1},
		{Stream: "S", Durable: "d", PullExpiry: -time.Second},
		{Stream: "S", Durable: "d", PullExpiry: 500 * time.Millisecond},
	} {
		if _, err := natsin.New(context.Background(), nil, cfg, nil); err == nil {
			t.Errorf("New(%+v) = nil error, want an error", cfg)
		}
	}
}

type seen struct {
	Source, Format string
	Offset         int64
	N, Bad         string
}

func TestRunDeliversEventsAndAcks(t *testing.T) {
	url := natsURL(t)
	_, js := connect(t, url)
	n := setup(t, js)
	publishEvents(t, js, n.EventSubj, 20)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in, err := natsin.New(ctx, js, natsin.Config{Stream: n.Events, Subject: n.EventSubj, Durable: n.Durable, Batch: 8}, jsonDecoder{})
	if err != nil {
		t.Fatal(err)
	}
	var got []seen
	runCtx, stop := context.WithCancel(ctx)
	err = in.Run(runCtx, func(_ context.Context, ev *event.Event) error {
		nv, _ := ev.Value("n")
		bv, _ := ev.Value("bad")
		got = append(got, seen{ev.Source, ev.Format, ev.Offset, nv, bv})
		if len(got) == 20 {
			stop()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	var want []seen
	for i := range 20 {
		bad := "0"
		if isBad(i) {
			bad = "1"
		}
		want = append(want, seen{"nats://" + n.Events + "/" + n.EventSubj, "jsonl", int64(i + 1), strconv.Itoa(i), bad})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	drained(ctx, t, js, n.Events, n.Durable)
}

func TestFailingMessageIsDeadLettered(t *testing.T) {
	url := natsURL(t)
	_, js := connect(t, url)
	n := setup(t, js)
	publishEvents(t, js, n.EventSubj, 5)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := natsin.Config{Stream: n.Events, Subject: n.EventSubj, Durable: n.Durable,
		MaxDeliver: 3, NakDelay: 20 * time.Millisecond, DeadLetter: n.DeadSubj}
	in, err := natsin.New(ctx, js, cfg, jsonDecoder{})
	if err != nil {
		t.Fatal(err)
	}
	calls := map[int64]int{}
	runCtx, stop := context.WithCancel(ctx)
	go func() {
		drained(ctx, t, js, n.Events, n.Durable)
		stop()
	}()
	err = in.Run(runCtx, func(_ context.Context, ev *event.Event) error {
		calls[ev.Offset]++
		if ev.Offset == 3 {
			return errors.New("poison record")
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(map[int64]int{1: 1, 2: 1, 3: 3, 4: 1, 5: 1}, calls); diff != "" {
		t.Errorf("handler calls per offset (-want +got):\n%s", diff)
	}
	checkDeadLetter(ctx, t, js, n, "3", "handler failed 3 times, last: poison record")
}

// checkDeadLetter fails unless the dead-letter stream holds exactly the
// event of sequence seq, with reason.
func checkDeadLetter(ctx context.Context, t *testing.T, js jetstream.JetStream, n names, seq, reason string) {
	t.Helper()
	s, err := js.Stream(ctx, n.Dead)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("dead-letter stream holds %d messages, want 1", info.State.Msgs)
	}
	m, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	i, _ := strconv.Atoi(seq)
	bad := "0"
	if isBad(i - 1) {
		bad = "1"
	}
	want := map[string]string{
		"body":               `{"n":` + strconv.Itoa(i-1) + `,"bad":"` + bad + `"}`,
		natsin.HeaderReason:  reason,
		natsin.HeaderStream:  n.Events,
		natsin.HeaderSubject: n.EventSubj,
		natsin.HeaderSeq:     seq,
	}
	got := map[string]string{"body": string(m.Data)}
	for k := range want {
		if k != "body" {
			got[k] = m.Header.Get(k)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead letter (-want +got):\n%s", diff)
	}
}

func TestUnsettledMessageIsDeadLetteredAfterMaxDeliver(t *testing.T) {
	url := natsURL(t)
	_, js := connect(t, url)
	n := setup(t, js)
	publishEvents(t, js, n.EventSubj, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := natsin.Config{Stream: n.Events, Subject: n.EventSubj, Durable: n.Durable,
		MaxDeliver: 2, AckWait: 500 * time.Millisecond, DeadLetter: n.DeadSubj, Batch: 1}
	// Two runs each die (cancel, no ack) while handling sequence 1.
	var mu sync.Mutex
	calls := map[int64]int{}
	for range 2 {
		in, err := natsin.New(ctx, js, cfg, jsonDecoder{})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, die := context.WithCancel(ctx)
		err = in.Run(runCtx, func(ctx context.Context, ev *event.Event) error {
			mu.Lock()
			calls[ev.Offset]++
			mu.Unlock()
			if ev.Offset == 1 {
				die()
				return ctx.Err()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after cancel = %v, want context.Canceled", err)
		}
	}
	// The third delivery goes to the dead-letter subject without a handler call.
	in, err := natsin.New(ctx, js, cfg, jsonDecoder{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	go func() {
		drained(ctx, t, js, n.Events, n.Durable)
		stop()
	}()
	if err := in.Run(runCtx, func(_ context.Context, ev *event.Event) error {
		mu.Lock()
		calls[ev.Offset]++
		mu.Unlock()
		return nil
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(map[int64]int{1: 2, 2: 1}, calls); diff != "" {
		t.Errorf("handler calls per offset (-want +got):\n%s", diff)
	}
	checkDeadLetter(ctx, t, js, n, "1", "delivered 2 times without being settled (handler crashed or timed out)")
}
