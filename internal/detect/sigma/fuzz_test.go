package sigma

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// FuzzParseRule parses and compiles arbitrary rule files and runs the result
// over one event: nothing may panic or hang.
func FuzzParseRule(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.txt"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		c, err := parseCaseFile(string(data))
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		for _, r := range c.rules {
			f.Add([]byte(r))
		}
	}
	ev := event.New("fuzz", "json", 0, timeZero, nil, []event.Field{
		{Name: "Channel", Value: "Microsoft-Windows-Sysmon/Operational"}, {Name: "EventID", Value: "1", Kind: event.Number},
		{Name: "Image", Value: `C:\Windows\System32\cmd.exe`}, {Name: "CommandLine", Value: "cmd /c whoami -all"},
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRule("fuzz.yml", data)
		if err != nil {
			return
		}
		m, _ := Compile(rules, Options{Placeholders: map[string][]string{"x": {"a", "b"}}})
		emit := func(a *detect.Alert) {
			if a.Engine != "sigma" {
				t.Fatalf("alert engine %q", a.Engine)
			}
		}
		if err := m.Process(context.Background(), ev, emit); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzCondition checks that the condition parser never panics and that
// what it accepts prints back to a condition that parses to the same tree.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		"sel", "a and b", "a or b and not c", "(a or b) and not (c and d)", "1 of sel_*",
		"all of them", "1 of them and not filter", "not not a", "a and", "((a)", "sel | count() > 5",
		"2 of x*", "any of y", "all of sel* or 1 of filter_*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseCondition(s)
		if err != nil {
			return
		}
		again, err := parseCondition(e.String())
		if err != nil {
			t.Fatalf("parseCondition(%q) = %v; its rendering %q does not parse: %v", s, e, e.String(), err)
		}
		if again.String() != e.String() {
			t.Fatalf("parseCondition(%q) renders %q, re-parsed renders %q", s, e.String(), again.String())
		}
	})
}
