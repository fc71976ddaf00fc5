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

func TestParseBandwidth(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"9600", 9600, true}, {"9.6kbit", 9600, true}, {"64kbit", 64000, true}, {"2 Mbit", 2000000, true}, {"1gbit", 1e9, true}, {"0", 0, true}, {"-1", 0, false}, {"fast", 0, false}, {"", 0, false}} {
		got, err := ParseBandwidth(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseBandwidth(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestPeersGood(t *testing.T) {
	c, err := Load("testdata/good/sensor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Federation.Peers[0]
	if p.Link.Bandwidth.BitsPerSecond != 64000 || p.Link.Interval.Duration != time.Minute || p.Link.Compression != "zstd" || p.Into != "default" {
		t.Errorf("peer defaults/values wrong: %+v", p)
	}
	if p.Strip["sighting"][0] != "where_sighted_refs" {
		t.Errorf("strip = %v", p.Strip)
	}
}
