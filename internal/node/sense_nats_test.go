package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/store"
)

// TestSenseNATS runs a node whose input is a JetStream stream and whose
// alerts also go to JetStream: the alert is stored and published once.
func TestSenseNATS(t *testing.T) {
	url := os.Getenv("SHIELDWALL_TEST_NATS")
	if url == "" {
		t.Skip("SHIELDWALL_TEST_NATS is not set (e.g. nats://127.0.0.1:4222); .ci/run sets it")
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	tag := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	events, alertsStream := "SWEV_"+tag, "SWAL_"+tag
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: events, Subjects: []string{"swtest." + tag + ".events"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		js.DeleteStream(context.Background(), events)
		js.DeleteStream(context.Background(), alertsStream)
	})

	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	os.MkdirAll(rules, 0o755)
	os.WriteFile(filepath.Join(rules, "whoami.yml"), []byte(whoamiRule), 0o644)
	n := open(t, filepath.Join(dir, "data"))
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
detection:
  sigma: [%q]
  alerts_nats: {url: %q, stream: %s, prefix: swtest.%s.alerts}
inputs:
  - type: nats
    nats: {url: %q, stream: %s, durable: sensors}
`, rules, url, alertsStream, tag, url, events)))
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []string{`C:\\Windows\\System32\\whoami.exe`, `C:\\Windows\\notepad.exe`, `C:\\Temp\\calc.exe`} {
		body := fmt.Sprintf(`{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":"%s"}`, img)
		if _, err := js.Publish(ctx, "swtest."+tag+".events", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Sense(sctx, SenseOptions{Detection: cfg.Detection, Inputs: cfg.Inputs}) }()
	waitFor(t, "the alert stored", func() bool {
		as, _ := n.Store.(store.Alerts).Alerts(ctx, store.AlertFilter{})
		return len(as) == 1
	})
	waitFor(t, "every event acknowledged", func() bool {
		c, err := js.Consumer(ctx, events, "sensors")
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Sense: %v", err)
	}
	st, err := js.Stream(ctx, alertsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(ctx)
	if info.State.Msgs != 1 {
		t.Errorf("alert stream holds %d messages, want 1", info.State.Msgs)
	}
}
