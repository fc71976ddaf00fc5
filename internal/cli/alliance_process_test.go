package cli

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// allianceNode is one shieldwall node process of TestProcessAlliance.
type allianceNode struct {
	name, org, nation, relation string
	dir, cfg                    string
	port                        int
	admin                       string
	proc                        *process
}

// expectedHoldings says, for each indicator (named LEVEL-CREATOR), which
// nodes must hold it once the alliance has synced. It is written by hand
// from TLP 2.0 as docs/federation.md states it, not computed by the policy
// code: the nations and the partner push to the hub, the hub relays.
//   - CLEAR and GREEN reach everyone (GREEN: the community, partner included).
//   - A nation's AMBER and AMBER+STRICT go to the hub (named recipient) and
//     stop there: the hub received them and the others are other
//     organisations.
//   - The hub's own AMBER and AMBER+STRICT go to the nations (named
//     recipients), not to the partner (not named).
//   - The partner does not name the hub as recipient: its AMBER stays home.
//   - RED never leaves its node.
var expectedHoldings = map[string][]string{
	"clear-hub": {"hub", "fr", "de", "pl", "partner"}, "green-hub": {"hub", "fr", "de", "pl", "partner"},
	"amber-hub": {"hub", "fr", "de", "pl"}, "amberstrict-hub": {"hub", "fr", "de", "pl"}, "red-hub": {"hub"},

	"clear-fr": {"hub", "fr", "de", "pl", "partner"}, "green-fr": {"hub", "fr", "de", "pl", "partner"},
	"amber-fr": {"hub", "fr"}, "amberstrict-fr": {"hub", "fr"}, "red-fr": {"fr"},

	"clear-de": {"hub", "fr", "de", "pl", "partner"}, "green-de": {"hub", "fr", "de", "pl", "partner"},
	"amber-de": {"hub", "de"}, "amberstrict-de": {"hub", "de"}, "red-de": {"de"},

	"clear-pl": {"hub", "fr", "de", "pl", "partner"}, "green-pl": {"hub", "fr", "de", "pl", "partner"},
	"amber-pl": {"hub", "pl"}, "amberstrict-pl": {"hub", "pl"}, "red-pl": {"pl"},

	"clear-partner": {"hub", "fr", "de", "pl", "partner"}, "green-partner": {"hub", "fr", "de", "pl", "partner"},
	"amber-partner": {"partner"}, "amberstrict-partner": {"partner"}, "red-partner": {"partner"},
}

// TestProcessAlliance runs an alliance hub, three nations and a partner as
// five real shieldwall node processes, with indicators at every TLP level
// created at every node, and checks that after sync each node holds
// exactly what expectedHoldings says. Then a nation is killed (SIGKILL)
// and restarted while new intelligence flows, and the alliance converges
// again with nothing lost, duplicated or leaked.
func TestProcessAlliance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five node processes")
	}
	bin := shieldwallBinary(t)
	dir := t.TempDir()
	nodes := []*allianceNode{
		{name: "hub", org: "ALLIANCE-CDC", relation: "member"},
		{name: "fr", org: "CERT-FR", nation: "FRA", relation: "member"},
		{name: "de", org: "CERT-DE", nation: "DEU", relation: "member"},
		{name: "pl", org: "CERT-PL", nation: "POL", relation: "member"},
		{name: "partner", org: "PARTNER-CERT", relation: "partner"},
	}
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
		return strings.TrimSpace(string(out))
	}
	hub := nodes[0]
	for _, n := range nodes {
		n.dir = filepath.Join(dir, n.name)
		n.port = freePort(t)
		n.cfg = filepath.Join(dir, n.name+".yaml")
	}
	// Tokens: the hub has one per spoke (named after it, for its inbox);
	// each spoke has one named "hub".
	tokens := map[string]string{} // "receiver/pusher" → token
	writeConfig := func(n *allianceNode) {
		var b strings.Builder
		fmt.Fprintf(&b, "node: {name: %s, organisation: %s, nation: %q, data: %q, listen: \"127.0.0.1:%d\"}\nfederation:\n  peers:\n",
			n.name, n.org, n.nation, n.dir, n.port)
		peer := func(p *allianceNode, recipient bool, relation string) {
			fmt.Fprintf(&b, "    - name: %s\n      organisation: %s\n      nation: %q\n      relation: %s\n      recipient: %v\n      into: default\n      link: {interval: 500ms}\n",
				p.name, p.org, p.nation, relation, recipient)
			if tok := tokens[p.name+"/"+n.name]; tok != "" {
				fmt.Fprintf(&b, "      url: \"http://127.0.0.1:%d/taxii2/root/\"\n      token: %q\n      push: [default]\n      push_to: inbox-%s\n", p.port, tok, n.name)
			}
		}
		if n == hub {
			for _, s := range nodes[1:] {
				peer(s, s.relation == "member", s.relation)
			}
		} else {
			peer(hub, n.relation == "member", "member")
		}
		writeFile(t, dir, n.name+".yaml", b.String())
	}
	// First pass: configurations without tokens, to make each identity.
	for _, n := range nodes {
		writeConfig(n)
		run("identity", "show", "--config", n.cfg)
		n.admin = run("token", "create", "--data", n.dir, "--name", "root", "--role", "admin")
	}
	for _, s := range nodes[1:] {
		tokens[hub.name+"/"+s.name] = run("token", "create", "--data", hub.dir, "--name", s.name, "--role", "analyst")
		tokens[s.name+"/"+hub.name] = run("token", "create", "--data", s.dir, "--name", hub.name, "--role", "analyst")
	}
	for _, n := range nodes {
		writeConfig(n)
	}
	markings := map[string]string{"clear": stix.TLPClearID, "green": stix.TLPGreenID, "amber": stix.TLPAmberID,
		"amberstrict": stix.TLPAmberStrictID, "red": stix.TLPRedID}
	indicator := func(name, marking string) string {
		return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":%q,"pattern":"[domain-name:value = '%s.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":[%q]}`,
			stix.NewID("indicator"), name, name, marking)
	}
	for _, n := range nodes {
		var objs []string
		for level, m := range markings {
			objs = append(objs, indicator(level+"-"+n.name, m))
		}
		run("intel", "import", "--data", n.dir, "-q", writeFile(t, dir, n.name+"-intel.json", stixBundle(objs...)))
	}
	startNode := func(n *allianceNode) {
		n.proc = start(t, nil, "node", "--config", n.cfg)
		waitHealthy(t, n.proc, fmt.Sprintf("http://127.0.0.1:%d", n.port))
	}
	for _, n := range nodes {
		startNode(n)
	}
	holdings := func(n *allianceNode) map[string]int {
		_, body := call(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/taxii2/root/collections/default/objects/?match[type]=indicator&match[version]=all", n.port), bearer(n.admin), "")
		var env struct{ Objects []struct{ Name string } }
		json.Unmarshal(body, &env)
		got := map[string]int{}
		for _, o := range env.Objects {
			got[o.Name]++
		}
		return got
	}
	want := func(extra map[string][]string) map[string][]string {
		w := map[string][]string{}
		for _, m := range []map[string][]string{expectedHoldings, extra} {
			for obj, at := range m {
				for _, n := range at {
					w[n] = append(w[n], obj)
				}
			}
		}
		return w
	}
	converge := func(expect map[string][]string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			var diffs []string
			for _, n := range nodes {
				got := holdings(n)
				var names []string
				for name, c := range got {
					names = append(names, name)
					if c > 1 {
						diffs = append(diffs, fmt.Sprintf("%s holds %s %d times", n.name, name, c))
					}
				}
				sort.Strings(names)
				exp := slices.Clone(expect[n.name])
				sort.Strings(exp)
				if !slices.Equal(names, exp) {
					diffs = append(diffs, fmt.Sprintf("%s holds %v, want %v", n.name, names, exp))
				}
			}
			if len(diffs) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no convergence after 90 s:\n%s", strings.Join(diffs, "\n"))
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	converge(want(nil))

	// Kill a nation without warning, create intelligence at the hub and at
	// another nation meanwhile, restart it: everything converges again.
	de := nodes[2]
	de.proc.cmd.Process.Signal(syscall.SIGKILL)
	<-de.proc.done
	hubBundle := writeFile(t, dir, "late-hub.json", stixBundle(indicator("green-late-hub", stix.TLPGreenID)))
	frBundle := writeFile(t, dir, "late-fr.json", stixBundle(indicator("clear-late-fr", stix.TLPClearID), indicator("red-late-fr", stix.TLPRedID)))
	run("intel", "import", "--data", hub.dir, "-q", hubBundle)
	run("intel", "import", "--data", nodes[1].dir, "-q", frBundle)
	time.Sleep(2 * time.Second) // the others sync while de is down
	startNode(de)
	converge(want(map[string][]string{
		"green-late-hub": {"hub", "fr", "de", "pl", "partner"},
		"clear-late-fr":  {"hub", "fr", "de", "pl", "partner"},
		"red-late-fr":    {"fr"},
	}))
	for _, n := range nodes {
		n.proc.stop(t)
	}
}
