package pattern

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpusDir = "../../../../shared/corpora/stix"

// stixIndicators finds every indicator with pattern_type stix (or none, as
// in STIX 2.0) anywhere in the JSON files under dir, keyed by "file: id".
func stixIndicators(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("STIX corpus not found at %s (see shared/corpora/README.md): %v", dir, err)
	}
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return nil // not JSON (a schema fragment test file, say): nothing to find
		}
		var visit func(any)
		visit = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				pat, isStr := x["pattern"].(string)
				pt, _ := x["pattern_type"].(string)
				if x["type"] == "indicator" && isStr && (pt == "" || pt == "stix") {
					id, _ := x["id"].(string)
					out[path+": "+id] = pat
				}
				for _, e := range x {
					visit(e)
				}
			case []any:
				for _, e := range x {
					visit(e)
				}
			}
		}
		visit(v)
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return out
}

func TestCorpusIndicatorsParse(t *testing.T) {
	inds := stixIndicators(t, corpusDir)
	if len(inds) == 0 {
		t.Fatalf("no STIX indicators found under %s", corpusDir)
	}
	lookups := 0
	for where, src := range inds {
		p, err := Parse(src)
		if err != nil {
			t.Errorf("%s: Parse(%q) = %v, want success", where, src, err)
			continue
		}
		if _, ok := p.Lookups(); ok {
			lookups++
		}
		roundTrip(t, src, p)
	}
	t.Logf("%d STIX indicators parsed, %d of them plain look-ups", len(inds), lookups)
}
