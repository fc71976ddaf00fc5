package sigma

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

const alertRule = `title: Whoami
id: 11111111-2222-3333-4444-555555555555
level: medium
tags: [attack.discovery, attack.t1033]
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\whoami.exe'
    cli:
        CommandLine|contains: '/all'
    filter:
        User: 'SYSTEM'
    condition: sel and cli and not filter
`

func TestAlertFields(t *testing.T) {
	rules, err := ParseRule("r.yml", []byte(alertRule))
	if err != nil {
		t.Fatal(err)
	}
	m, errs := Compile(rules, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := event.New("f.evtx", "evtx", 42, ts, nil, []event.Field{
		{Name: "Channel", Value: "Microsoft-Windows-Sysmon/Operational"},
		{Name: "EventID", Value: "1", Kind: event.Number},
		{Name: "Image", Value: `C:\Windows\System32\WHOAMI.EXE`},
		{Name: "CommandLine", Value: "whoami /all"},
		{Name: "User", Value: "bob"},
	})
	want := []*detect.Alert{{
		Engine: "sigma", RuleID: "11111111-2222-3333-4444-555555555555", RuleTitle: "Whoami", Level: "medium",
		Tags: []string{"attack.discovery", "attack.t1033"}, Source: "f.evtx", Offset: 42, Time: ts, Events: 1,
		Matches: []detect.Match{{Field: "Image", Value: `C:\Windows\System32\WHOAMI.EXE`}, {Field: "CommandLine", Value: "whoami /all"}},
	}}
	for _, mm := range []*Matcher{m, m.Clone()} {
		var got []*detect.Alert
		if err := mm.Process(context.Background(), ev, func(a *detect.Alert) { got = append(got, a) }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Process alerts (-want +got):\n%s", diff)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Process(ctx, ev, func(*detect.Alert) {}); err == nil {
		t.Errorf("Process with a cancelled context = nil, want an error")
	}
}

// TestCorrelationMemoryBounded feeds 20,000 distinct groups, one a second,
// to a 1-minute correlation: expired groups must be swept.
func TestCorrelationMemoryBounded(t *testing.T) {
	rules, err := ParseRule("c.yml", []byte(`title: logon
id: logon
logsource: {product: windows, service: security}
detection:
    sel:
        EventID: 4625
    condition: sel
---
title: burst
id: burst
correlation:
    type: event_count
    rules: [logon]
    group-by: [IpAddress]
    timespan: 1m
    condition: {gte: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	m, errs := Compile(rules, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	alerts := 0
	for i := 0; i < 20000; i++ {
		ev := event.New("s", "evtx", int64(i), t0.Add(time.Duration(i)*time.Second), nil, []event.Field{
			{Name: "Channel", Value: "Security"}, {Name: "EventID", Value: "4625", Kind: event.Number},
			{Name: "IpAddress", Value: "10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250)},
		})
		if err := m.Process(context.Background(), ev, func(*detect.Alert) { alerts++ }); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.corr.corrs[0].groups); n > 2*sweepEvery {
		t.Errorf("after 20,000 one-event groups, %d groups are kept, want at most %d", n, 2*sweepEvery)
	}
	if alerts != 0 {
		t.Errorf("%d alerts for groups of one event each, want 0", alerts)
	}
}
