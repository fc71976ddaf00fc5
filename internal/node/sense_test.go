package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

const whoamiRule = `title: Whoami Execution
id: 11111111-1111-4111-8111-111111111111
status: test
logsource: {category: process_creation, product: windows}
detection:
  sel: {Image|endswith: '\whoami.exe'}
  condition: sel
level: medium
tags: [attack.discovery, attack.t1033]
`

func putIndicator(t *testing.T, n *Node, value string) string {
	t.Helper()
	id := stix.NewID("indicator")
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"bad domain","pattern":"[domain-name:value = '%s']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","confidence":90}`, id, value)
	o, _, err := stix.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := n.Store.Collection(t.Context(), DefaultCollectionAlias)
	if _, err := n.Store.Put(t.Context(), c.ID, []stix.Object{o}); err != nil {
		t.Fatal(err)
	}
	return id
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestSense runs live sensing on a followed JSON-lines file with a Sigma
// rule and an indicator from the store: alerts are stored once, written as
// JSON lines, IOC hits become sightings, new intelligence is picked up
// while running, and a restart neither repeats nor loses events.
func TestSense(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	os.MkdirAll(rules, 0o755)
	os.WriteFile(filepath.Join(rules, "whoami.yml"), []byte(whoamiRule), 0o644)
	logPath := filepath.Join(dir, "sysmon.jsonl")
	n := open(t, filepath.Join(dir, "data"))
	n.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	bad := putIndicator(t, n, "evil.example.com")

	cfg, err := config.Parse([]byte(fmt.Sprintf(`
detection:
  sigma: [%q]
  reload: 1s
inputs:
  - name: sysmon
    type: file
    paths: [%q]
    format: jsonl
`, rules, logPath)))
	if err != nil {
		t.Fatal(err)
	}
	proc := func(img string) string {
		return fmt.Sprintf(`{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":%q,"UtcTime":"2026-11-27 10:00:00.000"}`, img)
	}
	dns := func(q string) string {
		return fmt.Sprintf(`{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":22,"QueryName":%q,"UtcTime":"2026-11-27 10:00:01.000"}`, q)
	}
	appendLines(t, logPath, proc(`C:\Windows\System32\whoami.exe`), proc(`C:\Windows\notepad.exe`), dns("a.evil.example.com"))

	alerts := func() []store.AlertRecord {
		as, err := n.Store.(store.Alerts).Alerts(context.Background(), store.AlertFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	run := func(out *syncBuffer) (stop func()) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- n.Sense(ctx, SenseOptions{Detection: cfg.Detection, Inputs: cfg.Inputs, Alerts: out})
		}()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Sense: %v", err)
			}
		}
	}
	var out1 syncBuffer
	stop := run(&out1)
	waitFor(t, "two alerts stored", func() bool { return len(alerts()) == 2 })
	// New intelligence arrives while running; the next event hits it.
	newer := putIndicator(t, n, "203.0.113.9.example.net")
	time.Sleep(2500 * time.Millisecond) // one reload period and more
	appendLines(t, logPath, dns("203.0.113.9.example.net"))
	waitFor(t, "the alert of the reloaded indicator", func() bool { return len(alerts()) == 3 })
	stop()

	var engines []string
	for _, a := range alerts() {
		engines = append(engines, a.Engine+":"+a.RuleID)
	}
	for _, want := range []string{"sigma:11111111-1111-4111-8111-111111111111", "ioc:" + bad, "ioc:" + newer} {
		if !strings.Contains(strings.Join(engines, " "), want) {
			t.Errorf("stored alerts %v lack %s", engines, want)
		}
	}
	if got := strings.Count(out1.String(), "\n"); got != 3 {
		t.Errorf("alerts file has %d lines, want 3:\n%s", got, out1.String())
	}
	var first map[string]any
	json.Unmarshal([]byte(strings.SplitN(out1.String(), "\n", 2)[0]), &first)
	if first["rule_id"] == nil || first["source"] != logPath {
		t.Errorf("alert line %v lacks rule_id or source %s", first, logPath)
	}
	// The IOC hits became sightings of their indicators, by this node.
	c, _ := n.Store.Collection(t.Context(), DefaultCollectionAlias)
	p, err := n.Store.Query(t.Context(), c.ID, store.Filter{Types: []string{"sighting"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 2 {
		t.Fatalf("%d sightings stored, want 2", len(p.Records))
	}
	for _, r := range p.Records {
		if !strings.Contains(string(r.Object.Raw), n.Identity.ID()) {
			t.Errorf("sighting %s does not name this node: %s", r.Object.ID, r.Object.Raw)
		}
	}

	// Restart: the events already read are not read again; a new one is.
	var out2 syncBuffer
	stop = run(&out2)
	appendLines(t, logPath, proc(`C:\Temp\whoami.exe`))
	waitFor(t, "the alert of the event after the restart", func() bool { return len(alerts()) == 4 })
	time.Sleep(1500 * time.Millisecond)
	stop()
	if got := strings.Count(out2.String(), "\n"); got != 1 {
		t.Errorf("after restart the alerts file got %d lines, want 1 (no event read twice):\n%s", got, out2.String())
	}
}

// TestIOCFieldsPerInput checks that an input's ioc_fields add fields to
// IOC matching without losing the defaults.
func TestIOCFieldsPerInput(t *testing.T) {
	objs, _, err := ReadIntelFiles(t.Context(), []string{writeTemp(t, "iocs.txt", "evil.example.com\n")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := BuildDetection(DetectionOptions{Intel: objs})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(line string) *event.Event {
		var fields []event.Field
		var m map[string]string
		json.Unmarshal([]byte(line), &m)
		for k, v := range m {
			fields = append(fields, event.Field{Name: k, Value: v})
		}
		return event.New("f", "jsonl", 0, time.Time{}, []byte(line), fields)
	}
	count := func(e detect.Engine, line string) int {
		n := 0
		e.Process(t.Context(), ev(line), func(*detect.Alert) { n++ })
		return n
	}
	custom := `{"remote_name":"a.evil.example.com"}`
	standard := `{"QueryName":"evil.example.com"}`
	plain := d.IntelEngineFor(IOCConfig(nil))
	withField := d.IntelEngineFor(IOCConfig(map[string]string{"remote_name": "host"}))
	if got := count(plain, custom); got != 0 {
		t.Errorf("default fields matched remote_name: %d alerts", got)
	}
	if got := count(withField, custom); got != 1 {
		t.Errorf("ioc_fields remote_name=host: %d alerts, want 1", got)
	}
	if got := count(withField, standard); got != 1 {
		t.Errorf("with ioc_fields the default QueryName field gave %d alerts, want 1", got)
	}
}

func writeTemp(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
