package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// TestProcessFederation runs an alliance hub and a nation as two real
// shieldwall node processes. The nation pushes what its policy allows to
// the hub's inbox for it: TLP:GREEN and TLP:CLEAR arrive, TLP:RED and
// unmarked objects do not; policy explain says why; the nation's peer
// state shows the link. Then the same nation seals an offline bundle for
// the hub, which opens it once and refuses it the second time.
func TestProcessFederation(t *testing.T) { processFederation(t, "") }

// TestProcessFederationHubOnPostgres is TestProcessFederation with the hub
// keeping its store, and so its federation state, in PostgreSQL.
func TestProcessFederationHubOnPostgres(t *testing.T) { processFederation(t, postgresDSN(t)) }

// processFederation runs the hub on the PostgreSQL database hubDB, or on
// SQLite when hubDB is "".
func processFederation(t *testing.T, hubDB string) {
	bin := shieldwallBinary(t)
	// onHub adds the hub's store to a command line.
	onHub := func(args ...string) []string {
		if hubDB != "" {
			args = append(args, "--db", hubDB)
		}
		return args
	}
	dir := t.TempDir()
	hubDir, frDir := filepath.Join(dir, "hub"), filepath.Join(dir, "fr")
	hubPort, frPort := freePort(t), freePort(t)
	hubCfg := writeFile(t, dir, "hub.yaml", fmt.Sprintf(`
node: {name: hub, organisation: ALLIANCE-CDC, data: %q, listen: "127.0.0.1:%d"}
federation:
  peers:
    - {name: fr, organisation: CERT-FR, nation: FRA, relation: member, into: default, link: {interval: 1s}}
`, hubDir, hubPort))
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("shieldwall %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return string(out)
	}
	// The hub's identity, and its token for the nation (named after it).
	var hubID struct {
		PublicKey    string `json:"public_key"`
		AgeRecipient string `json:"age_recipient"`
	}
	json.Unmarshal([]byte(run("identity", "show", "--config", hubCfg)), &hubID)
	frToken := strings.TrimSpace(run(onHub("token", "create", "--data", hubDir, "--name", "fr", "--role", "analyst")...))
	hubAdmin := strings.TrimSpace(run(onHub("token", "create", "--data", hubDir, "--name", "root", "--role", "admin")...))

	frCfg := writeFile(t, dir, "fr.yaml", fmt.Sprintf(`
node: {name: fr, organisation: CERT-FR, nation: FRA, data: %q, listen: "127.0.0.1:%d"}
federation:
  peers:
    - name: hub
      url: "http://127.0.0.1:%d/taxii2/root/"
      token: %q
      organisation: ALLIANCE-CDC
      relation: member
      public_key: %q
      age_recipient: %q
      push: [default]
      push_to: inbox-fr
      link: {interval: 1s}
`, frDir, frPort, hubPort, frToken, hubID.PublicKey, hubID.AgeRecipient))
	var frID struct {
		PublicKey    string `json:"public_key"`
		AgeRecipient string `json:"age_recipient"`
	}
	json.Unmarshal([]byte(run("identity", "show", "--config", frCfg)), &frID)
	frAdmin := strings.TrimSpace(run("token", "create", "--data", frDir, "--name", "root", "--role", "admin"))
	// The hub knows the nation's keys (for its offline bundles).
	os.WriteFile(hubCfg, []byte(fmt.Sprintf(`
node: {name: hub, organisation: ALLIANCE-CDC, data: %q, listen: "127.0.0.1:%d"}
federation:
  peers:
    - {name: fr, organisation: CERT-FR, nation: FRA, relation: member, into: default, public_key: %q, age_recipient: %q, link: {interval: 1s}}
`, hubDir, hubPort, frID.PublicKey, frID.AgeRecipient)), 0o644)

	ind := func(name, marking string) (string, string) {
		id := stix.NewID("indicator")
		refs := ""
		if marking != "" {
			refs = fmt.Sprintf(`,"object_marking_refs":[%q]`, marking)
		}
		return id, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":%q,"pattern":"[domain-name:value = '%s.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"%s}`, id, name, name, refs)
	}
	green, greenJSON := ind("green", stix.TLPGreenID)
	clear, clearJSON := ind("clear", stix.TLPClearID)
	red, redJSON := ind("red", stix.TLPRedID)
	unmarked, unmarkedJSON := ind("unmarked", "")
	bundle := writeFile(t, dir, "fr-intel.json", stixBundle(greenJSON, clearJSON, redJSON, unmarkedJSON))
	run("intel", "import", "--data", frDir, "-q", bundle)

	hub := start(t, nil, onHub("node", "--config", hubCfg)...)
	waitHealthy(t, hub, fmt.Sprintf("http://127.0.0.1:%d", hubPort))
	fr := start(t, nil, "node", "--config", frCfg)
	waitHealthy(t, fr, fmt.Sprintf("http://127.0.0.1:%d", frPort))

	hubHas := func() map[string]bool {
		_, body := call(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/taxii2/root/collections/default/objects/?match[type]=indicator", hubPort), bearer(hubAdmin), "")
		var env struct{ Objects []struct{ ID string } }
		json.Unmarshal(body, &env)
		got := map[string]bool{}
		for _, o := range env.Objects {
			got[o.ID] = true
		}
		return got
	}
	deadline := time.Now().Add(30 * time.Second)
	for !(hubHas()[green] && hubHas()[clear]) {
		if time.Now().After(deadline) {
			_, peers := call(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/api/v1/peers", frPort), bearer(frAdmin), "")
			_, inbox := call(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/taxii2/root/collections/inbox-fr/objects/", hubPort), bearer(hubAdmin), "")
			t.Fatalf("hub never received the GREEN and CLEAR indicators; it has %v\nfr peers: %s\nhub inbox-fr: %s\nfr stderr:\n%s\nhub stderr:\n%s", hubHas(), peers, tail(string(inbox), 1000), tail(fr.stderr.String(), 3000), tail(hub.stderr.String(), 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // another sync round
	got := hubHas()
	if got[red] || got[unmarked] {
		t.Errorf("hub holds %v: RED (%s) or unmarked (%s) leaked", got, red, unmarked)
	}
	// The nation's peer state and metrics.
	resp, body := call(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/api/v1/peers", frPort), bearer(frAdmin), "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"Peer":"hub"`) || !strings.Contains(string(body), `"Link":"connected"`) {
		t.Errorf("GET /api/v1/peers = %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/metrics", frPort), func(*http.Request) {}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token = %d, want 401", resp.StatusCode)
	}
	if resp, body := call(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/metrics", frPort), bearer(frAdmin), ""); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "hub") {
		t.Errorf("GET /metrics = %d %s", resp.StatusCode, tail(string(body), 500))
	}
	fr.stop(t)
	hub.stop(t)

	// policy explain tells why RED stayed home.
	out := run("policy", "explain", "--config", frCfg, "--peer", "hub", red)
	if !strings.Contains(out, "deny") || !strings.Contains(out, "TLP:RED") {
		t.Errorf("policy explain for the RED indicator:\n%s", out)
	}
	// Offline: a sealed bundle for the hub opens once, then is a replay.
	sealedPath := filepath.Join(dir, "for-hub.age")
	run("bundle", "seal", "--config", frCfg, "--peer", "hub", "--out", sealedPath)
	out = run(onHub("bundle", "open", "--config", hubCfg, sealedPath)...)
	if !strings.Contains(out, `"from": "fr"`) {
		t.Errorf("bundle open printed %s", out)
	}
	if err := exec.Command(bin, onHub("bundle", "open", "--config", hubCfg, sealedPath)...).Run(); err == nil {
		t.Error("opening the same sealed bundle twice succeeded; want it refused as a replay")
	}
}
