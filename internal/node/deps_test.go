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
