package sigma

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDirsBadFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"good.yml":       "title: good\nid: good\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: x\n  condition: sel\n",
		"broken.yml":     "title: [unclosed\n",
		"nodetect.yaml":  "title: no detection\nid: nd\nlogsource: {product: windows}\n",
		"badmod.yml":     "title: m\nid: m\ndetection:\n  sel:\n    Image|nope: x\n  condition: sel\n",
		"ignored.txt":    "not a rule",
		"sub/other.yaml": "title: other\nid: other\ndetection:\n  k:\n    - evil\n  condition: k\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rs, errs, err := LoadDirs([]string{dir}, Options{})
	if err != nil {
		t.Fatalf("LoadDirs: %v", err)
	}
	if _, compiled := rs.Matcher.Stats(); compiled != 2 {
		t.Errorf("LoadDirs compiled %d rules, want 2", compiled)
	}
	want := map[string]string{"broken.yml": "yaml:", "nodetect.yaml": "missing detection", "badmod.yml": `unknown modifier "nope"`}
	if len(errs) != len(want) {
		t.Errorf("LoadDirs errors = %v, want %d", errs, len(want))
	}
	for _, e := range errs {
		sub, ok := want[filepath.Base(e.Path)]
		if !ok || !strings.Contains(e.Error(), sub) {
			t.Errorf("LoadError %v, want one for %s mentioning %q", e, filepath.Base(e.Path), sub)
		}
		if errors.Unwrap(e) == nil {
			t.Errorf("LoadError %v does not wrap its cause", e)
		}
	}
	if _, _, err := LoadDirs([]string{filepath.Join(dir, "absent")}, Options{}); err == nil {
		t.Errorf("LoadDirs(absent dir) error = nil, want one")
	}
}
