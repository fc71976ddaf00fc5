package sigma

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/evtx"
)

var corpusOnce struct {
	sync.Once
	rs   *RuleSet
	errs []LoadError
	err  error
}

// corpusRuleSet loads every corpus rule directory once per test binary.
func corpusRuleSet(t testing.TB) (*RuleSet, []LoadError) {
	d := sigmaDir(t)
	corpusOnce.Do(func() {
		var dirs []string
		for _, s := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting", "rules-placeholder", "rules-compliance"} {
			dirs = append(dirs, filepath.Join(d, s))
		}
		corpusOnce.rs, corpusOnce.errs, corpusOnce.err = LoadDirs(dirs, Options{Placeholders: corpusPlaceholders()})
	})
	if corpusOnce.err != nil {
		t.Fatalf("LoadDirs: %v", corpusOnce.err)
	}
	return corpusOnce.rs, corpusOnce.errs
}

type regressionInfo struct {
	RuleMetadata []struct {
		ID    string `yaml:"id"`
		Title string `yaml:"title"`
	} `yaml:"rule_metadata"`
	Tests []struct {
		Name       string `yaml:"name"`
		Type       string `yaml:"type"`
		MatchCount *int   `yaml:"match_count"`
		Path       string `yaml:"path"`
	} `yaml:"regression_tests_info"`
}

type regressionCase struct {
	dir, ruleID, title, evtxPath string
	want                         int
}

func regressionCases(t *testing.T) []regressionCase {
	root := filepath.Join(sigmaDir(t), "regression_data")
	var cases []regressionCase
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "info.yml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var info regressionInfo
		if err := yaml.Unmarshal(data, &info); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, tc := range info.Tests {
			// SigmaHQ's checker treats a positive test without a count as one match.
			want := 1
			if tc.MatchCount != nil {
				want = *tc.MatchCount
			}
			for _, rm := range info.RuleMetadata {
				cases = append(cases, regressionCase{dir: filepath.Dir(p), ruleID: rm.ID, title: rm.Title,
					evtxPath: filepath.Join(filepath.Dir(p), filepath.Base(tc.Path)), want: want})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk regression data: %v", err)
	}
	if len(cases) == 0 {
		t.Fatalf("no regression cases under %s", root)
	}
	return cases
}

func countAlerts(t *testing.T, m *Matcher, evs []*event.Event, ruleID string) (int, []string) {
	n := 0
	var fired []string
	for _, ev := range evs {
		err := m.Process(context.Background(), ev, func(a *detect.Alert) {
			if a.RuleID == ruleID {
				n++
			} else {
				fired = append(fired, a.RuleID)
			}
		})
		if err != nil {
			t.Fatalf("Process: %v", err)
		}
	}
	return n, fired
}

// sampleDisagrees lists samples whose info.yml count disagrees with the
// records in the sample, checked by hand; the test expects the count the
// records justify, so a change in behaviour still fails.
var sampleDisagrees = map[string]int{
	// Three Sysmon EventID 13 records set ZoneMap\Domains\bad-domain.com\...
	// (https, http, *) to DWORD (0x00000002); none is filtered. info.yml says 1.
	"45e112d0-7759-4c2a-aa36-9f8fb79d3393": 3,
	// Three Sysmon EventID 11 records create \procdump64.exe, \procdump64a.exe
	// and \procdump.exe, all in the endswith list. info.yml says 1.
	"8fbf3271-1ef6-4e94-8210-03c2317947f6": 3,
}

// runRegression checks every regression sample with events read by load.
func runRegression(t *testing.T, load func(regressionCase) ([]*event.Event, error)) {
	rs, _ := corpusRuleSet(t)
	known := map[string]bool{}
	for _, cr := range rs.Matcher.rules {
		known[cr.rule.ID] = true
	}
	cases := regressionCases(t)
	pass := 0
	var failures []string
	for _, c := range cases {
		evs, err := load(c)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s %s: reading sample: %v", c.ruleID, c.title, err))
			continue
		}
		if !known[c.ruleID] {
			failures = append(failures, fmt.Sprintf("%s %s: rule not compiled", c.ruleID, c.title))
			continue
		}
		got, _ := countAlerts(t, rs.Matcher, evs, c.ruleID)
		if n, ok := sampleDisagrees[c.ruleID]; ok {
			t.Logf("%s %s: info.yml says %d, the sample justifies %d, fired %d", c.ruleID, c.title, c.want, n, got)
			c.want = n
		}
		if got != c.want {
			failures = append(failures, fmt.Sprintf("%s %s: fired %d times on %d events, want %d (%s)", c.ruleID, c.title, got, len(evs), c.want, c.dir))
			continue
		}
		pass++
	}
	sort.Strings(failures)
	t.Logf("regression: %d of %d samples pass", pass, len(cases))
	for _, f := range failures {
		t.Errorf("%s", f)
	}
}

// TestRegression reads each sample's .evtx with internal/ingest/evtx.
func TestRegression(t *testing.T) {
	runRegression(t, func(c regressionCase) ([]*event.Event, error) { return readEVTX(c.evtxPath) })
}

// TestRegressionJSON reads each sample's JSON rendering instead, which
// separates engine faults from EVTX parser faults.
func TestRegressionJSON(t *testing.T) {
	runRegression(t, func(c regressionCase) ([]*event.Event, error) {
		return readRenderedJSON(c.evtxPath[:len(c.evtxPath)-len(filepath.Ext(c.evtxPath))] + ".json")
	})
}

func readEVTX(path string) ([]*event.Event, error) {
	f, err := evtx.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*event.Event
	for {
		ev, err := f.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		// The reader may reuse the event: keep a copy of the fields.
		fs := append([]event.Field(nil), ev.Fields()...)
		out = append(out, event.New(ev.Source, ev.Format, ev.Offset, ev.Time, nil, fs))
	}
}

// readRenderedJSON reads the concatenated {"Event": {...}} objects of a
// sample's JSON rendering and flattens them the way python-evtx names fields.
func readRenderedJSON(path string) ([]*event.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out []*event.Event
	for i := 0; ; i++ {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		e, _ := doc["Event"].(map[string]any)
		var fs []event.Field
		sys, _ := e["System"].(map[string]any)
		var ts time.Time
		for k, v := range sys {
			switch k {
			case "Provider":
				for ak, av := range attrs(v) {
					fs = appendJSON(fs, "Provider_"+ak, av)
				}
			case "TimeCreated":
				if s, ok := attrs(v)["SystemTime"].(string); ok {
					fs = appendJSON(fs, "TimeCreated", s)
					ts, _ = time.Parse(time.RFC3339Nano, s)
				}
			case "Execution":
				for ak, av := range attrs(v) {
					if ak == "ProcessID" {
						ak = "ProcessID_System"
					}
					fs = appendJSON(fs, ak, av)
				}
			case "Security":
				if u, ok := attrs(v)["UserID"]; ok {
					fs = appendJSON(fs, "SecurityUserID", u)
				}
			case "Correlation":
				for ak, av := range attrs(v) {
					fs = appendJSON(fs, ak, av)
				}
			case "EventID":
				if m, ok := v.(map[string]any); ok {
					v = m["#text"]
				}
				fs = appendJSON(fs, k, v)
			default:
				fs = appendJSON(fs, k, v)
			}
		}
		for _, sec := range []string{"EventData", "UserData"} {
			flattenLeaves(e[sec], &fs)
		}
		out = append(out, event.New(path, "evtx", int64(i), ts, nil, fs))
	}
}

func attrs(v any) map[string]any {
	m, _ := v.(map[string]any)
	a, _ := m["#attributes"].(map[string]any)
	return a
}

func flattenLeaves(v any, fs *[]event.Field) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, x := range m {
		if k == "#attributes" {
			continue
		}
		if sub, ok := x.(map[string]any); ok {
			if _, hasText := sub["#text"]; hasText {
				*fs = appendJSON(*fs, k, sub["#text"])
				continue
			}
			flattenLeaves(sub, fs)
			continue
		}
		*fs = appendJSON(*fs, k, x)
	}
}

func appendJSON(fs []event.Field, name string, v any) []event.Field {
	switch x := v.(type) {
	case nil:
		return append(fs, event.Field{Name: name, Kind: event.Null})
	case string:
		return append(fs, event.Field{Name: name, Value: x})
	case json.Number:
		return append(fs, event.Field{Name: name, Value: x.String(), Kind: event.Number})
	case bool:
		return append(fs, event.Field{Name: name, Value: strconv.FormatBool(x), Kind: event.Bool})
	case []any:
		for _, e := range x {
			fs = appendJSON(fs, name, e)
		}
		return fs
	case map[string]any:
		b, _ := json.Marshal(x)
		return append(fs, event.Field{Name: name, Value: string(b)})
	}
	return fs
}
