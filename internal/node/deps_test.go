package node

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRules enforces the import rules of docs/architecture.md
// with `go list -deps`, so a layering mistake fails CI rather than review.
func TestDependencyRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const mod = "github.com/shieldwall/shieldwall/internal/"
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"stix", []string{"net/http", "database/sql", mod + "store"}},
		{"store", []string{"net/http", "database/sql", mod + "taxii", mod + "store/sqlitestore"}},
		{"store/sqlitestore", []string{"net/http", mod + "taxii", mod + "auth", mod + "intel"}},
		{"taxii", []string{"database/sql", mod + "store/sqlitestore", mod + "node"}},
		{"taxii/taxiiserver", []string{"database/sql", mod + "store/sqlitestore", mod + "node", mod + "intel"}},
		{"auth", []string{"database/sql", mod + "store/sqlitestore", mod + "node"}},
		{"misp", []string{"net/http", "database/sql", mod + "store"}},
		{"ioclist", []string{"net/http", "database/sql", mod + "store"}},
		{"intel", []string{"net/http", mod + "store/sqlitestore", mod + "node"}},
		{"store/pgstore", []string{"net/http", mod + "taxii", mod + "auth", mod + "intel", mod + "store/sqlitestore"}},
		{"event", []string{"net/http", "database/sql", mod + "store", mod + "stix"}},
		{"stix/pattern", []string{"net/http", "database/sql", mod + "store"}},
		{"policy", []string{"net/http", "database/sql", mod + "store"}},
		{"config", []string{"net/http", "database/sql", mod + "store"}},
		{"identity", []string{"net/http", "database/sql", mod + "store"}},
		{"federation/sealed", []string{"net/http", "database/sql", mod + "store"}},
		{"hunt", []string{"net/http", "database/sql", mod + "store"}},
		{"web", []string{"database/sql", mod + "store/sqlitestore", mod + "store/pgstore", mod + "node", mod + "taxii/taxiiserver"}},
	}
	// Detection engines and inputs take data as parameters and hand alerts
	// to a callback: never a store, a database or HTTP.
	for _, p := range []string{"detect", "detect/sigma", "detect/ioc", "detect/stixmatch", "detect/alertout",
		"ingest", "ingest/evtx", "ingest/jsonlines", "ingest/suricata", "ingest/zeek", "ingest/syslog", "ingest/natsin"} {
		rules = append(rules, struct {
			pkg       string
			forbidden []string
		}{p, []string{"database/sql", mod + "store", mod + "taxii", mod + "node"}})
	}
	// Format packages never import their parent.
	for _, p := range []string{"ingest/evtx", "ingest/jsonlines", "ingest/suricata", "ingest/zeek", "ingest/syslog"} {
		rules = append(rules, struct {
			pkg       string
			forbidden []string
		}{p, []string{mod + "ingest", "net/http"}})
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", mod+r.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", r.pkg, err, out)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		for _, f := range r.forbidden {
			if deps[f] {
				t.Errorf("internal/%s imports %s (forbidden by docs/architecture.md)", r.pkg, f)
			}
		}
	}
}
