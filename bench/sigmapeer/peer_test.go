package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	sigma "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
	"github.com/google/go-cmp/cmp"
)

func TestFilterAccepts(t *testing.T) {
	tests := []struct {
		category, service, channel, id string
		want                           bool
	}{
		{"process_creation", "", sysmonChannel, "1", true},
		{"process_creation", "", sysmonChannel, "3", false},
		{"process_creation", "", "Security", "1", false},
		{"registry_event", "", "microsoft-windows-sysmon/operational", "13", true},
		{"", "security", "Security", "4624", true},
		{"", "security", "System", "7045", false},
		{"ps_script", "", "Microsoft-Windows-PowerShell/Operational", "4104", true},
		{"ps_script", "", "Microsoft-Windows-PowerShell/Operational", "4103", false},
		{"", "no-such-service", "Anything", "1", true},
	}
	for _, tt := range tests {
		if got := compile(tt.category, tt.service).accepts(tt.channel, tt.id); got != tt.want {
			t.Errorf("compile(%q, %q).accepts(%q, %q) = %v, want %v", tt.category, tt.service, tt.channel, tt.id, got, tt.want)
		}
	}
}

// TestSigmaGoConfig checks that the generated config restricts a sigma-go
// rule to its log source the same way as filter.accepts.
func TestSigmaGoConfig(t *testing.T) {
	cfg, err := sigma.ParseConfig([]byte(sigmaGoConfig()))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	rule, err := sigma.ParseRule([]byte(`title: t
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\cmd.exe'}
  condition: sel
`))
	if err != nil {
		t.Fatalf("ParseRule: %v", err)
	}
	ev := evaluator.ForRule(rule, evaluator.WithConfig(cfg))
	ctx := context.Background()
	for _, tt := range []struct {
		channel string
		id      any
		want    bool
	}{
		{sysmonChannel, 1, true},
		{sysmonChannel, 11, false},
		{"Security", 1, false},
	} {
		got, err := ev.RelevantToEvent(ctx, "windows", map[string]any{"Channel": tt.channel, "EventID": tt.id})
		if err != nil || got != tt.want {
			t.Errorf("RelevantToEvent(%q, %v) = %v, %v, want %v", tt.channel, tt.id, got, err, tt.want)
		}
	}
}

func TestReadRecords(t *testing.T) {
	p := filepath.Join("..", "..", "..", "shared", "corpora", "evtx-attack-samples", "python-evtx.jsonl")
	recs, total, err := readRecords(p, 10, true)
	if err != nil {
		if strings.Contains(err.Error(), "no such file") {
			t.Skipf("EVTX attack samples not found at %s: %v", p, err)
		}
		t.Fatalf("readRecords: %v", err)
	}
	if total != 7167 || len(recs) != 717 {
		t.Errorf("readRecords(every 10) = %d of %d records, want 717 of 7167", len(recs), total)
	}
	got := []string{recs[0].channel, recs[0].eventID}
	if diff := cmp.Diff([]string{sysmonChannel, "11"}, got); diff != "" {
		t.Errorf("first record channel and EventID (-want +got):\n%s", diff)
	}
}
