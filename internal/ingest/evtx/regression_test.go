package evtx

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/event"
)

const sigmaRegression = "../../../../shared/corpora/sigma/regression_data"

// readNestedJSON reads the one or more concatenated JSON objects of a
// regression sample's rendering.
func readNestedJSON(path string) ([]map[string]any, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	dec := json.NewDecoder(fh)
	dec.UseNumber()
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

// expectedFields flattens Event.System / Event.EventData / Event.UserData of
// a nested rendering to the names our flat fields use. Values are kept as
// decoded (string, json.Number, bool, nil, []any).
func expectedFields(rec map[string]any) map[string]any {
	out := map[string]any{}
	ev, _ := rec["Event"].(map[string]any)
	sys, _ := ev["System"].(map[string]any)
	attrs := func(v any) map[string]any {
		m, _ := v.(map[string]any)
		a, _ := m["#attributes"].(map[string]any)
		return a
	}
	for k, v := range sys {
		switch k {
		case "Provider":
			for a, x := range attrs(v) {
				if n := systemAttr(k, a); n != "" {
					out[n] = x
				}
			}
		case "TimeCreated", "Correlation", "Execution", "Security":
			for a, x := range attrs(v) {
				if n := systemAttr(k, a); n != "" {
					out[n] = x
				}
			}
		default:
			if m, ok := v.(map[string]any); ok {
				v = m["#text"]
			}
			out[k] = v
		}
	}
	if ed, ok := ev["EventData"].(map[string]any); ok {
		for k, v := range ed {
			if k == "#attributes" || k == "Data" || k == "Binary" {
				continue
			}
			out[k] = v
		}
	}
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, v := range m {
			if k == "#attributes" {
				continue
			}
			if sub, ok := v.(map[string]any); ok {
				if _, hasText := sub["#text"]; !hasText {
					walk(sub)
					continue
				}
				v = sub["#text"]
			}
			out[k] = v
		}
	}
	if ud, ok := ev["UserData"].(map[string]any); ok {
		walk(ud)
	}
	return out
}

// sameValue says whether our rendering got matches the other renderer's
// value want, allowing for the ways the two renderers differ: GUID case
// and braces, ISO vs Python timestamps (and python-evtx's float rounding
// of FILETIME), hex vs base64 binary, \r\n vs \n, booleans, string arrays.
func sameValue(want any, got event.Field) bool {
	switch w := want.(type) {
	case nil:
		return got.Kind == event.Null || got.Value == ""
	case bool:
		return strings.EqualFold(got.Value, fmt.Sprint(w))
	case json.Number:
		return got.Value == w.String()
	case []any:
		var sb strings.Builder
		for _, x := range w {
			fmt.Fprintf(&sb, "<string>%v</string>\n", x)
		}
		return strings.ReplaceAll(sb.String(), "\r\n", "\n") == got.Value
	case string:
		w = strings.ReplaceAll(w, "\r\n", "\n")
		w = strings.ReplaceAll(w, "\r", "\n")
		if w == got.Value {
			return true
		}
		g := got.Value
		// evtx_dump trims surrounding white space.
		if strings.TrimSpace(w) == strings.TrimSpace(g) {
			return true
		}
		if strings.EqualFold(strings.Trim(g, "{}"), strings.Trim(w, "{}")) {
			return true
		}
		// Hex numbers: evtx_dump does not pad them.
		if strings.HasPrefix(w, "0x") && strings.HasPrefix(g, "0x") {
			a, errA := strconv.ParseUint(w[2:], 16, 64)
			b, errB := strconv.ParseUint(g[2:], 16, 64)
			if errA == nil && errB == nil && a == b {
				return true
			}
		}
		if tw, err := time.Parse(time.RFC3339Nano, w); err == nil {
			if tg, ok := parsePyTime([]byte(g)); ok {
				d := tg.Sub(tw)
				// python-evtx goes through a float64 of the FILETIME,
				// which holds it to 16 ticks: a few microseconds off.
				return d <= 4*time.Microsecond && d >= -4*time.Microsecond
			}
		}
		if hb, err := hex.DecodeString(w); err == nil {
			if bb, err := base64.StdEncoding.DecodeString(g); err == nil && string(hb) == string(bb) {
				return true
			}
		}
	}
	return false
}

// TestSigmaRegressionSamples parses every .evtx of the Sigma regression
// data without error and compares the values present in the nested JSON
// rendering beside each.
func TestSigmaRegressionSamples(t *testing.T) {
	files := evtxFiles(t, sigmaRegression)
	var records, compared int
	for _, p := range files {
		evs := readAll(t, p)
		jp := strings.TrimSuffix(p, ".evtx") + ".json"
		want, err := readNestedJSON(jp)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", jp, err)
			continue
		}
		if len(want) != len(evs) {
			t.Errorf("%s: %d records, JSON rendering has %d", p, len(evs), len(want))
			continue
		}
		for i, w := range want {
			records++
			exp := expectedFields(w)
			names := make([]string, 0, len(exp))
			for k := range exp {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, name := range names {
				got, ok := evs[i].Get(name)
				if !ok {
					if exp[name] == nil {
						continue // an empty value we leave out
					}
					t.Errorf("%s record %d: field %s missing, want %v", p, i, name, exp[name])
					continue
				}
				compared++
				if !sameValue(exp[name], got) {
					t.Errorf("%s record %d: %s = %q (%v), want %#v", p, i, name, got.Value, got.Kind, exp[name])
				}
			}
		}
	}
	if len(files) == 0 || records == 0 {
		t.Fatalf("no regression samples read under %s", sigmaRegression)
	}
	t.Logf("%d files, %d records, %d values compared", len(files), records, compared)
}
