package alertout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/detect/alertout"
	"github.com/shieldwall/shieldwall/internal/event"
)

func TestSubject(t *testing.T) {
	p := alertout.New(nil, alertout.Config{Prefix: "sw.alerts."})
	for _, tt := range []struct{ level, want string }{
		{"high", "sw.alerts.high"},
		{"Critical", "sw.alerts.critical"},
		{"", "sw.alerts.unknown"},
		{"a.b *>", "sw.alerts.a_b___"},
		{"low-ish_1", "sw.alerts.low-ish_1"},
	} {
		if got := p.Subject(tt.level); got != tt.want {
			t.Errorf("Subject(%q) = %q, want %q", tt.level, got, tt.want)
		}
	}
}

// connect returns a JetStream client to SHIELDWALL_TEST_NATS, or skips.
func connect(t testing.TB) jetstream.JetStream {
	t.Helper()
	url := os.Getenv("SHIELDWALL_TEST_NATS")
	if url == "" {
		t.Skip("SHIELDWALL_TEST_NATS not set (e.g. nats://127.0.0.1:4222): skipping the JetStream test")
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}

// alertStream makes a uniquely named alert stream, deleted at the end.
func alertStream(t testing.TB, js jetstream.JetStream) (stream, prefix string) {
	t.Helper()
	u := fmt.Sprintf("%d", time.Now().UnixNano())
	stream, prefix = "SWTEST_ALERTS_"+u, "swtest."+u+".alerts"
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, alertout.StreamConfig(stream, prefix, time.Minute)); err != nil {
		t.Fatalf("create stream %s: %v", stream, err)
	}
	t.Cleanup(func() {
		if err := js.DeleteStream(context.Background(), stream); err != nil {
			t.Errorf("delete stream %s: %v", stream, err)
		}
	})
	return stream, prefix
}

func TestPublishDuplicate(t *testing.T) {
	js := connect(t)
	stream, prefix := alertStream(t, js)
	ctx := context.Background()
	p := alertout.New(js, alertout.Config{Prefix: prefix})

	a := &detect.Alert{Engine: "sigma", RuleID: "r1", Level: "high", Source: "f", Offset: 1,
		Event: json.RawMessage(`{"bad":"1"}`)}
	for i, want := range []bool{false, true} {
		again := *a
		again.ID = ""
		dup, err := p.Publish(ctx, &again)
		if err != nil || dup != want {
			t.Fatalf("Publish #%d = %v, %v; want %v, nil", i+1, dup, err, want)
		}
	}
	other := &detect.Alert{Engine: "sigma", RuleID: "r1", Level: "low", Source: "f", Offset: 2}
	if dup, err := p.Publish(ctx, other); err != nil || dup {
		t.Fatalf("Publish(other) = %v, %v; want false, nil", dup, err)
	}

	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatalf("GetMsg(1): %v", err)
	}
	if want := prefix + ".high"; msg.Subject != want {
		t.Errorf("subject = %q, want %q", msg.Subject, want)
	}
	if got, want := msg.Header.Get(jetstream.MsgIDHeader), detect.AlertID(a); got != want {
		t.Errorf("Nats-Msg-Id = %q, want %q", got, want)
	}
	var got detect.Alert
	if err := json.Unmarshal(msg.Data, &got); err != nil {
		t.Fatalf("decode stored alert: %v", err)
	}
	want := *a
	want.ID = detect.AlertID(a)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored alert (-want +got):\n%s", diff)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("stream holds %d messages, want 2 (the duplicate dropped)", info.State.Msgs)
	}
}

func TestPublishWithoutStream(t *testing.T) {
	js := connect(t)
	p := alertout.New(js, alertout.Config{Prefix: fmt.Sprintf("swtest.nostream.%d", time.Now().UnixNano()), AckTimeout: 2 * time.Second})
	if _, err := p.Publish(context.Background(), &detect.Alert{Engine: "e", RuleID: "r"}); err == nil {
		t.Errorf("Publish to a subject no stream captures = nil error, want an error")
	}
}

type badEngine struct{ fail bool }

func (e badEngine) Process(_ context.Context, ev *event.Event, emit detect.Emit) error {
	if v, _ := ev.Value("bad"); v == "1" {
		emit(&detect.Alert{Engine: "test", RuleID: "bad", Level: "medium", Source: ev.Source, Offset: ev.Offset})
	}
	if e.fail {
		return errors.New("engine broke")
	}
	return nil
}

func TestHandler(t *testing.T) {
	js := connect(t)
	stream, prefix := alertStream(t, js)
	ctx := context.Background()
	p := alertout.New(js, alertout.Config{Prefix: prefix})

	h := p.Handler(badEngine{})
	for i, bad := range []string{"1", "0", "1", "1"} {
		ev := event.New("src", "jsonl", int64(i%3), time.Time{}, nil, []event.Field{{Name: "bad", Value: bad}})
		if err := h(ctx, ev); err != nil {
			t.Fatalf("handler(event %d) = %v", i, err)
		}
	}
	ev := event.New("src", "jsonl", 9, time.Time{}, nil, []event.Field{{Name: "bad", Value: "1"}})
	if err := badHandler(p)(ctx, ev); err == nil || !strings.Contains(err.Error(), "engine broke") {
		t.Errorf("handler with a failing engine = %v, want the engine's error", err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Offsets 0, 2 and 0 again (a duplicate), then 9 from the failing engine.
	if info.State.Msgs != 3 {
		t.Errorf("stream holds %d alerts, want 3", info.State.Msgs)
	}
}

func badHandler(p *alertout.Publisher) func(context.Context, *event.Event) error {
	return p.Handler(badEngine{fail: true})
}

func TestAsyncHandler(t *testing.T) {
	js := connect(t)
	stream, prefix := alertStream(t, js)
	ctx := context.Background()
	p := alertout.New(js, alertout.Config{Prefix: prefix})

	type outcome struct {
		i   int
		err error
	}
	results := make(chan outcome, 10)
	h := p.AsyncHandler(badEngine{})
	hFail := p.AsyncHandler(badEngine{fail: true})
	for i, bad := range []string{"1", "0", "1", "1", "1"} {
		ev := event.New("src", "jsonl", int64(i%4), time.Time{}, nil, []event.Field{{Name: "bad", Value: bad}})
		handle := h
		if i == 4 {
			handle = hFail
		}
		handle(ctx, ev, func(err error) { results <- outcome{i, err} })
	}
	got := map[int]string{}
	for range 5 {
		select {
		case r := <-results:
			got[r.i] = fmt.Sprint(r.err)
		case <-time.After(10 * time.Second):
			t.Fatalf("done not called for every event; got %v", got)
		}
	}
	want := map[int]string{0: "<nil>", 1: "<nil>", 2: "<nil>", 3: "<nil>", 4: "alertout: engine on src@0: engine broke"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes by event (-want +got):\n%s", diff)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Offsets 0, 2, 3, then 0 again (a duplicate, from the failing engine).
	if info.State.Msgs != 3 || p.Duplicates() != 1 {
		t.Errorf("stream holds %d alerts and %d duplicates were dropped, want 3 and 1", info.State.Msgs, p.Duplicates())
	}
}
