package natsin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/detect/alertout"
	"github.com/shieldwall/shieldwall/internal/event"
)

// natsURL returns SHIELDWALL_TEST_NATS or skips.
func natsURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("SHIELDWALL_TEST_NATS")
	if url == "" {
		t.Skip("SHIELDWALL_TEST_NATS not set (e.g. nats://127.0.0.1:4222): skipping the JetStream test")
	}
	return url
}

// connect opens a connection closed at the end of the test.
func connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

// names are the uniquely named streams and subjects of one test.
type names struct {
	Events, EventSubj   string // event stream and its subject
	Alerts, AlertPrefix string // alert stream and its subject prefix
	Dead, DeadSubj      string // dead-letter stream and subject
	Durable             string
}

// setup creates the three streams of a test, deleted at its end.
func setup(t testing.TB, js jetstream.JetStream) names {
	t.Helper()
	u := strconv.FormatInt(time.Now().UnixNano(), 36)
	n := names{
		Events: "SWTEST_EV_" + u, EventSubj: "swtest." + u + ".events",
		Alerts: "SWTEST_AL_" + u, AlertPrefix: "swtest." + u + ".alerts",
		Dead: "SWTEST_DL_" + u, DeadSubj: "swtest." + u + ".dead",
		Durable: "swtest_" + u,
	}
	ctx := context.Background()
	for _, cfg := range []jetstream.StreamConfig{
		{Name: n.Events, Subjects: []string{n.EventSubj}, Storage: jetstream.FileStorage},
		alertout.StreamConfig(n.Alerts, n.AlertPrefix, 2*time.Minute),
		{Name: n.Dead, Subjects: []string{n.DeadSubj}, Storage: jetstream.FileStorage},
	} {
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			t.Fatalf("create stream %s: %v", cfg.Name, err)
		}
		name := cfg.Name
		t.Cleanup(func() {
			if err := js.DeleteStream(context.Background(), name); err != nil {
				t.Errorf("delete stream %s: %v", name, err)
			}
		})
	}
	return n
}

// publishEvents publishes n records {"n":i,"bad":"1"|"0"} (bad when
// i%7 == 0) and waits for them to be stored; record i gets sequence i+1.
func publishEvents(t testing.TB, js jetstream.JetStream, subj string, n int) {
	t.Helper()
	publishRecords(t, js, subj, n, func(i int) []byte {
		bad := "0"
		if isBad(i) {
			bad = "1"
		}
		return fmt.Appendf(nil, `{"n":%d,"bad":"%s"}`, i, bad)
	})
}

// publishRecords publishes record(i) for i in [0, n), in chunks of 1,000
// (the client refuses too many unacknowledged publishes), and waits for
// every one to be stored.
func publishRecords(t testing.TB, js jetstream.JetStream, subj string, n int, record func(i int) []byte) {
	t.Helper()
	for i := range n {
		m := nats.NewMsg(subj)
		m.Data = record(i)
		if _, err := js.PublishMsgAsync(m); err != nil {
			t.Fatalf("publish record %d: %v", i, err)
		}
		if i%1000 == 999 || i == n-1 {
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(30 * time.Second):
				t.Fatalf("publishing %d records: no acknowledgement after 30 s", n)
			}
		}
	}
}

func isBad(i int) bool { return i%7 == 0 }

// jsonDecoder is a test-only decoder: the top-level members of a JSON
// object, each value as its JSON text (strings unquoted).
type jsonDecoder struct{}

func (jsonDecoder) DecodeFields(raw []byte, dst []event.Field) ([]event.Field, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return dst, fmt.Errorf("decode record: %w", err)
	}
	for k, v := range m {
		f := event.Field{Name: k, Value: string(v), Kind: event.Number}
		var s string
		if json.Unmarshal(v, &s) == nil {
			f.Value, f.Kind = s, event.String
		}
		dst = append(dst, f)
	}
	return dst, nil
}

// badEngine emits one alert per event whose field "bad" is "1".
type badEngine struct{}

func (badEngine) Process(_ context.Context, ev *event.Event, emit detect.Emit) error {
	if err := ev.Err(); err != nil {
		return err
	}
	if v, _ := ev.Value("bad"); v == "1" {
		emit(&detect.Alert{Engine: "test", RuleID: "bad", RuleTitle: "bad is 1", Level: "high",
			Source: ev.Source, Offset: ev.Offset, Events: 1, Event: append(json.RawMessage(nil), ev.Raw...)})
	}
	return nil
}

// storedAlert is one message of the alert stream.
type storedAlert struct {
	MsgID string
	Alert detect.Alert
	N     int // the "n" of the event behind it
}

// readAlerts reads every message of the alert stream.
func readAlerts(t testing.TB, js jetstream.JetStream, stream string) []storedAlert {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	total := int(info.State.Msgs)
	if total == 0 {
		return nil
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("ordered consumer on %s: %v", stream, err)
	}
	var out []storedAlert
	for len(out) < total {
		batch, err := c.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatalf("fetch alerts: %v", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			var sa storedAlert
			sa.MsgID = m.Headers().Get(jetstream.MsgIDHeader)
			if err := json.Unmarshal(m.Data(), &sa.Alert); err != nil {
				t.Fatalf("alert %q: %v", m.Data(), err)
			}
			var body struct{ N int }
			if err := json.Unmarshal(sa.Alert.Event, &body); err != nil {
				t.Fatalf("event of alert %q: %v", m.Data(), err)
			}
			sa.N = body.N
			out = append(out, sa)
		}
		if got == 0 {
			t.Fatalf("read %d of %d alerts, then nothing: %v", len(out), total, batch.Error())
		}
	}
	return out
}

// checkAlerts fails unless the alert stream holds exactly one alert per bad
// event among the first n.
func checkAlerts(t testing.TB, js jetstream.JetStream, stream string, n int) {
	t.Helper()
	alerts := readAlerts(t, js, stream)
	ids := make(map[string]int)
	events := make(map[int]int)
	for _, a := range alerts {
		ids[a.Alert.ID]++
		events[a.N]++
		if a.MsgID != a.Alert.ID {
			t.Errorf("alert of event %d: Nats-Msg-Id %q, body id %q", a.N, a.MsgID, a.Alert.ID)
		}
		if !isBad(a.N) {
			t.Errorf("alert for event %d, which is not bad", a.N)
		}
		if want := int64(a.N + 1); a.Alert.Offset != want {
			t.Errorf("alert for event %d has offset %d, want stream sequence %d", a.N, a.Alert.Offset, want)
		}
	}
	if len(ids) != len(alerts) {
		var dups []string
		for id, c := range ids {
			if c > 1 {
				dups = append(dups, fmt.Sprintf("%s×%d", id, c))
			}
		}
		t.Errorf("alert stream: %d messages, %d distinct ids; duplicated: %s", len(alerts), len(ids), strings.Join(dups, " "))
	}
	missing := 0
	want := 0
	for i := range n {
		if isBad(i) {
			want++
			if events[i] == 0 {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d bad events have no alert", missing, want)
	}
	t.Logf("alert stream: %d messages, %d distinct, %d expected", len(alerts), len(ids), want)
}

// drained waits until the durable has nothing pending or unacknowledged;
// it fails if a Run reports on one of running before.
func drained(ctx context.Context, t testing.TB, js jetstream.JetStream, stream, durable string, running ...<-chan error) {
	t.Helper()
	for {
		for i, ch := range running {
			select {
			case err := <-ch:
				t.Fatalf("consumer %d stopped before the durable was drained: %v", i, err)
			default:
			}
		}
		c, err := js.Consumer(ctx, stream, durable)
		if err != nil {
			t.Fatalf("consumer %s: %v", durable, err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatalf("consumer %s info: %v", durable, err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("durable %s not drained: %d pending, %d unacknowledged, %d pull requests waiting, delivered up to %d, acknowledged up to %d",
				durable, info.NumPending, info.NumAckPending, info.NumWaiting, info.Delivered.Stream, info.AckFloor.Stream)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
