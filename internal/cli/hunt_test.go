package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHuntContract checks the documented contract of shieldwall hunt on a
// SigmaHQ regression sample: one JSON object per alert with rule_id,
// rule_title, level and source, exactly match_count of them, the summary on
// stderr.
func TestHuntContract(t *testing.T) {
	rules := filepath.Join(corpora, "sigma/rules-emerging-threats/2026/Exploits/CVE-2026-33829")
	sample := filepath.Join(corpora, "sigma/regression_data/rules-emerging-threats/2026/Exploits/CVE-2026-33829/proc_creation_win_exploit_cve_2026_33829/7c3a5b1d-9e2f-4a8c-b5d7-1e0f3c6a9b2d.evtx")
	if _, err := os.Stat(sample); err != nil {
		t.Skipf("SigmaHQ regression sample absent (see ../shared/corpora/README.md): %v", err)
	}
	// The sample's folder holds the .evtx, its .json rendering (not a log:
	// one pretty-printed object) and info.yml; hunt the folder.
	r := mustRunCLI(t, 0, "hunt", "--sigma", rules, "--format", "jsonl", filepath.Dir(sample))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("hunt printed %d alerts, want 2 (match_count in info.yml):\n%s\nstderr:\n%s", len(lines), r.stdout, r.stderr)
	}
	for _, l := range lines {
		var a map[string]any
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("alert line %q: %v", l, err)
		}
		if a["rule_id"] != "7c3a5b1d-9e2f-4a8c-b5d7-1e0f3c6a9b2d" || a["level"] == "" || a["rule_title"] == "" || a["source"] != sample {
			t.Errorf("alert = %v; want rule 7c3a5b1d..., a level, a title and source %s", a, sample)
		}
	}
	for _, want := range []string{"sigma rules: 1 read, 1 compiled, 0 failed", "events: ", "alerts: 2", "Potential CVE-2026-33829 Exploitation"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stderr)
		}
	}
	mustRunCLI(t, 2, "hunt", sample)                                      // no rules
	mustRunCLI(t, 2, "hunt", "--sigma", rules, "--format", "xml", sample) // bad format
	mustRunCLI(t, 1, "hunt", "--sigma", rules, "/nonexistent/path")
}

func TestHuntIntel(t *testing.T) {
	dir := t.TempDir()
	intel := writeFile(t, dir, "iocs.txt", "evil.example.com\n203.0.113.7\n")
	logs := writeFile(t, dir, "dns.jsonl", `{"@timestamp":"2026-11-27T10:00:00Z","dns":{"question":{"name":"a.evil.example.com"}}}
{"@timestamp":"2026-11-27T10:00:01Z","dns":{"question":{"name":"good.example.org"}}}
{"@timestamp":"2026-11-27T10:00:02Z","destination":{"ip":"203.0.113.7"}}
`)
	r := mustRunCLI(t, 0, "hunt", "--intel", intel, "--format", "jsonl", logs)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("hunt with IOCs printed %d alerts, want 2 (subdomain and IP):\n%s\n%s", len(lines), r.stdout, r.stderr)
	}
	for _, l := range lines {
		if !strings.Contains(l, `"engine":"ioc"`) || !strings.Contains(l, `"indicator":"indicator--`) {
			t.Errorf("IOC alert %s lacks engine or indicator", l)
		}
	}
}

func TestRulesCheck(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "good.yml", `title: Whoami
id: 11111111-1111-4111-8111-111111111111
logsource: {category: process_creation, product: windows}
detection:
  sel: {Image|endswith: '\whoami.exe'}
  condition: sel
level: low
`)
	writeFile(t, dir, "badmod.yml", `title: Bad modifier
id: 22222222-2222-4222-8222-222222222222
logsource: {product: windows}
detection:
  sel: {Image|sometimes: x}
  condition: sel
`)
	writeFile(t, dir, "broken.yml", "title: [unclosed\n")
	r := mustRunCLI(t, 0, "rules", "check", "--sigma", dir)
	var out struct {
		Rules    int `json:"rules"`
		Compiled int `json:"compiled"`
		Failed   []struct {
			Path  string `json:"path"`
			Error string `json:"error"`
		} `json:"failed"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("rules check printed %q: %v", r.stdout, err)
	}
	if out.Rules != 3 || out.Compiled != 1 || len(out.Failed) != 2 {
		t.Fatalf("rules check = %+v; want 3 rules, 1 compiled, 2 failed", out)
	}
	if !strings.HasSuffix(out.Failed[0].Path, "badmod.yml") || !strings.Contains(out.Failed[0].Error, "sometimes") {
		t.Errorf("failure %+v does not name the bad modifier", out.Failed[0])
	}
	if !strings.HasSuffix(out.Failed[1].Path, "broken.yml") || out.Failed[1].Error == "" {
		t.Errorf("failure %+v has no reason", out.Failed[1])
	}
	mustRunCLI(t, 2, "rules", "check")
}

// TestHuntAttackSamples hunts over every EVTX attack sample with every
// Windows rule of the SigmaHQ corpus, as the issue asks: every file reads,
// no record is unreadable, and the known attacks are found.
func TestHuntAttackSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("hunts the whole EVTX corpus")
	}
	samples := filepath.Join(corpora, "evtx-attack-samples")
	rules := filepath.Join(corpora, "sigma/rules/windows")
	if _, err := os.Stat(samples); err != nil {
		t.Skipf("EVTX attack samples absent (see ../shared/corpora/README.md): %v", err)
	}
	// The folder also holds python-evtx.jsonl (the same records as JSON
	// lines), a README and a licence: hunt the .evtx files only.
	var files []string
	filepath.WalkDir(samples, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".evtx") {
			files = append(files, p)
		}
		return nil
	})
	r := mustRunCLI(t, 0, append([]string{"hunt", "--sigma", rules, "--format", "jsonl"}, files...)...)
	alerts := strings.Count(r.stdout, "\n")
	for _, want := range []string{
		"sigma rules: 2407 read, 2407 compiled, 0 failed",
		"files read: 228, skipped: 0",
		"events: 7167 ",
		// A few of the attacks the samples record.
		"Security Eventlog Cleared",
		"HackTool - UACMe Akagi Execution",
		"Remote Thread Creation In Uncommon Target Image",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("hunt summary lacks %q:\n%s", want, tail(r.stderr, 3000))
		}
	}
	if strings.Contains(r.stderr, "unreadable records") {
		t.Errorf("some records were unreadable:\n%s", tail(r.stderr, 3000))
	}
	if alerts < 800 {
		t.Errorf("%d alerts over the attack samples; the Sigma engine's own corpus test finds 876 matches", alerts)
	}
	t.Logf("%d alerts over %d files", alerts, len(files))
}
