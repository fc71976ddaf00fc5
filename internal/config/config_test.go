package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden error files")

func TestGood(t *testing.T) {
	c, err := Load("testdata/good/sensor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Detection.Reload.Duration != 30*time.Second {
		t.Errorf("reload = %v, want 30s", c.Detection.Reload)
	}
	if got := c.Inputs[0].Name; got != "file:/var/log/sysmon/*.jsonl" {
		t.Errorf("default input name = %q", got)
	}
	if got := c.Inputs[1].Format; got != "auto" {
		t.Errorf("default format = %q, want auto", got)
	}
	if got := c.Detection.Placeholders["admins"]; len(got) != 2 {
		t.Errorf("placeholders = %v", got)
	}
}

func TestEmptyIsValid(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatalf("Parse(empty) = %v", err)
	}
	if c.Detection.Intel[0] != "default" || c.Detection.Sightings != "default" {
		t.Errorf("defaults not applied: %+v", c.Detection)
	}
}

// TestBadGolden checks that each bad file fails with exactly the message in
// its .golden file (go test ./internal/config -update rewrites them).
func TestBadGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no bad configs in testdata/bad")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, _ := os.ReadFile(f)
			_, err := Parse(b)
			if err == nil {
				t.Fatalf("Parse(%s) succeeded", f)
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644)
			}
			want, _ := os.ReadFile(golden)
			if got := err.Error() + "\n"; got != string(want) {
				t.Errorf("Parse(%s) error:\n%s\nwant:\n%s", f, got, want)
			}
		})
	}
}
