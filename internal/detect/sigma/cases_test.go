package sigma

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// caseFile is one testdata/cases/*.txt file (format in testdata/cases/README.md).
type caseFile struct {
	rules        []string // one rule file per "=== rule" section
	events       []string
	expect       []string
	errors       []string
	placeholders map[string][]string
}

func parseCaseFile(data string) (*caseFile, error) {
	c := &caseFile{}
	section := ""
	var ph strings.Builder
	var rules []*strings.Builder
	for n, line := range strings.Split(data, "\n") {
		if strings.HasPrefix(line, "=== ") {
			section = strings.TrimSpace(line[4:])
			if section == "rule" {
				rules = append(rules, &strings.Builder{})
			}
			switch section {
			case "rule", "events", "expect", "error", "placeholders":
			default:
				return nil, fmt.Errorf("line %d: unknown section %q", n+1, section)
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch section {
		case "":
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				return nil, fmt.Errorf("line %d: text before the first section", n+1)
			}
		case "rule":
			rules[len(rules)-1].WriteString(line + "\n")
		case "placeholders":
			ph.WriteString(line + "\n")
		case "events":
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				c.events = append(c.events, trimmed)
			}
		case "expect":
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") && trimmed != "none" {
				c.expect = append(c.expect, strings.Join(strings.Fields(trimmed), " "))
			}
		case "error":
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				c.errors = append(c.errors, trimmed)
			}
		}
	}
	for _, r := range rules {
		c.rules = append(c.rules, r.String())
	}
	if ph.Len() > 0 {
		if err := yaml.Unmarshal([]byte(ph.String()), &c.placeholders); err != nil {
			return nil, fmt.Errorf("placeholders: %w", err)
		}
	}
	if len(c.rules) == 0 {
		return nil, fmt.Errorf("no === rule section")
	}
	return c, nil
}

// caseEvent turns one JSON object into an event: nested objects become
// dotted names, arrays repeated names; "_time" (RFC 3339) sets the time.
func caseEvent(line string, i int) (*event.Event, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	var t time.Time
	if s, ok := m["_time"].(string); ok {
		var err error
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return nil, fmt.Errorf("_time: %w", err)
		}
		delete(m, "_time")
	}
	format := "json"
	if f, ok := m["_format"].(string); ok {
		format = f
		delete(m, "_format")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var fs []event.Field
	var flat func(prefix string, v any)
	flat = func(prefix string, v any) {
		if o, ok := v.(map[string]any); ok {
			for k, x := range o {
				flat(prefix+"."+k, x)
			}
			return
		}
		fs = appendJSON(fs, prefix, v)
	}
	for _, k := range keys {
		flat(k, m[k])
	}
	return event.New("case", format, int64(i), t, []byte(line), fs), nil
}

func TestCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no case files in testdata/cases")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseCaseFile(string(data))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			runCase(t, c)
		})
	}
}

func runCase(t *testing.T, c *caseFile) {
	var rules []*Rule
	var loadErrs []string
	for i, doc := range c.rules {
		rs, err := ParseRule(fmt.Sprintf("rule%d", i+1), []byte(doc))
		if err != nil {
			loadErrs = append(loadErrs, err.Error())
			continue
		}
		rules = append(rules, rs...)
	}
	m, errs := Compile(rules, Options{Placeholders: c.placeholders})
	for _, e := range errs {
		loadErrs = append(loadErrs, e.Error())
	}
	for _, want := range c.errors {
		found := false
		for _, e := range loadErrs {
			if strings.Contains(e, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("load errors %q do not mention %q", loadErrs, want)
		}
	}
	if len(c.errors) == 0 && len(loadErrs) > 0 {
		t.Errorf("unexpected load errors: %q", loadErrs)
	}
	var got []string
	ctx := context.Background()
	var idx int
	emit := func(a *detect.Alert) {
		s := a.RuleID + " " + strconv.Itoa(idx)
		if a.Events > 1 {
			s += " events=" + strconv.Itoa(a.Events)
		}
		got = append(got, s)
	}
	for i, line := range c.events {
		ev, err := caseEvent(line, i)
		if err != nil {
			t.Fatalf("event %d %s: %v", i, line, err)
		}
		idx = i
		if err := m.Process(ctx, ev, emit); err != nil {
			t.Fatalf("Process(event %d): %v", i, err)
		}
	}
	idx = len(c.events)
	if err := m.Flush(ctx, emit); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	want := c.expect
	sort.Strings(got)
	sort.Strings(want)
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("alerts (rule-id event-index) mismatch (-want +got):\n%s", diff)
	}
}
