package stixmatch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/stix"
)

const zeekDir = "../../../../shared/corpora/otrf/zeek/apt29/day1/zeek"

// jsonEvents reads JSON-lines files into events with flat fields (nested
// objects are not expected; lists become repeated fields), sorted by the
// time tf extracts, and returns the decoded records alongside.
func jsonEvents(t *testing.T, tf func(map[string]any) time.Time, paths ...string) ([]*event.Event, []map[string]any) {
	t.Helper()
	type rec struct {
		ev *event.Event
		m  map[string]any
	}
	var recs []rec
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Skipf("corpus file not found (see shared/corpora/README.md): %v", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 4<<20)
		for n := 0; sc.Scan(); n++ {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s line %d: %v", path, n+1, err)
			}
			var fs []event.Field
			for k, v := range m {
				switch x := v.(type) {
				case []any:
					for _, e := range x {
						fs = append(fs, event.Field{Name: k, Value: fmt.Sprint(e)})
					}
				case float64:
					fs = append(fs, event.Field{Name: k, Value: strconv.FormatFloat(x, 'f', -1, 64), Kind: event.Number})
				default:
					fs = append(fs, event.Field{Name: k, Value: fmt.Sprint(x)})
				}
			}
			raw := append([]byte(nil), sc.Bytes()...)
			recs = append(recs, rec{event.New(path, "jsonl", int64(n), tf(m), raw, fs), m})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	slices.SortStableFunc(recs, func(a, b rec) int { return a.ev.Time.Compare(b.ev.Time) })
	evs := make([]*event.Event, len(recs))
	ms := make([]map[string]any, len(recs))
	for i, r := range recs {
		evs[i], ms[i] = r.ev, r.m
	}
	return evs, ms
}

func zeekTime(m map[string]any) time.Time {
	ts, _ := m["ts"].(float64)
	sec, frac := math.Modf(ts)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

type corpusCase struct {
	pattern string
	want    func(map[string]any) bool
}

// runCorpus checks that each pattern alerts exactly on the records the
// oracle selects (counted), and on at least one.
func runCorpus(t *testing.T, evs []*event.Event, recs []map[string]any, tests []corpusCase) {
	t.Helper()
	for i, tt := range tests {
		want := 0
		for _, m := range recs {
			if tt.want(m) {
				want++
			}
		}
		e, rep := New([]stix.Object{newIndicator(t, i, tt.pattern, "")}, Options{IncludeLookups: true})
		if rep.Loaded != 1 {
			t.Fatalf("New(%q) = %+v", tt.pattern, rep)
		}
		n := 0
		for _, x := range evs {
			if err := e.Process(context.Background(), x, func(*detect.Alert) { n++ }); err != nil {
				t.Fatal(err)
			}
		}
		if n != want || want == 0 {
			t.Errorf("%q over %d records: %d alerts, want %d (and more than 0)", tt.pattern, len(evs), n, want)
		}
	}
}

// TestZeekCorpus runs patterns over real Zeek http and dns logs and
// compares the alert counts with counts computed directly from the records.
func TestZeekCorpus(t *testing.T) {
	evs, recs := jsonEvents(t, zeekTime, filepath.Join(zeekDir, "http.log"), filepath.Join(zeekDir, "dns.log"))
	runCorpus(t, evs, recs, []corpusCase{
		{"[url:value LIKE 'http://192.168.0.4/%']",
			func(m map[string]any) bool { return str(m, "host") == "192.168.0.4" && str(m, "uri") != "" }},
		{"[domain-name:value LIKE '%.dmevals.local']",
			func(m map[string]any) bool {
				return strings.HasSuffix(str(m, "query"), ".dmevals.local") || strings.HasSuffix(str(m, "host"), ".dmevals.local")
			}},
		{"[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8' AND network-traffic:dst_port = 53 AND network-traffic:protocols[*] = 'udp']",
			func(m map[string]any) bool {
				ip, _ := m["id_resp_h"].(string)
				p, _ := m["id_resp_p"].(float64)
				return strings.HasPrefix(ip, "10.") && p == 53 && str(m, "proto") == "udp"
			}},
	})
}

const windowsFile = "../../../../shared/corpora/otrf/atomic/windows/defense_evasion/host/cmd_process_herpaderping_snippingtool_2020-10-2708290130.json"

// TestWindowsCorpus runs patterns over a real Sysmon + Security JSON-lines
// dataset (OTRF) against oracles computed from the records.
func TestWindowsCorpus(t *testing.T) {
	evs, recs := jsonEvents(t, func(m map[string]any) time.Time {
		tm, _ := time.Parse(time.RFC3339Nano, str(m, "@timestamp"))
		return tm
	}, windowsFile)
	base := func(p string) string { return p[strings.LastIndexAny(p, `\/`)+1:] }
	runCorpus(t, evs, recs, []corpusCase{
		// The parent is a process object of the observation too, so a
		// ParentImage of that name matches as STIX semantics say.
		{"[process:image_ref.name = 'ProcessHerpaderping.exe']",
			func(m map[string]any) bool {
				for _, k := range []string{"Image", "NewProcessName", "ParentImage", "ParentProcessName"} {
					if base(str(m, k)) == "ProcessHerpaderping.exe" {
						return true
					}
				}
				return false
			}},
		{"[process:image_ref.name = 'ProcessHerpaderping.exe' AND process:parent_ref.image_ref.name = 'cmd.exe']",
			func(m map[string]any) bool {
				img, parent := str(m, "Image")+str(m, "NewProcessName"), str(m, "ParentImage")+str(m, "ParentProcessName")
				return base(img) == "ProcessHerpaderping.exe" && base(parent) == "cmd.exe"
			}},
		{"[EXISTS file:hashes.'SHA-256' AND file:name LIKE '%.dll']",
			func(m map[string]any) bool {
				return strings.Contains(str(m, "Hashes"), "SHA256=") && strings.HasSuffix(base(str(m, "ImageLoaded")), ".dll")
			}},
		{"[windows-registry-key:key LIKE 'HKLM\\\\%' AND windows-registry-key:values[*].data LIKE '%']",
			func(m map[string]any) bool {
				return strings.HasPrefix(str(m, "TargetObject"), `HKLM\`) && str(m, "Details") != ""
			}},
		{"[process:parent_ref.image_ref.name = 'cmd.exe' AND process:creator_user_ref.account_login = 'wardog']",
			func(m map[string]any) bool {
				u := str(m, "User")
				if u == "" {
					u = str(m, "SubjectUserName")
				}
				p := str(m, "ParentImage")
				if p == "" {
					p = str(m, "ParentProcessName")
				}
				return strings.HasSuffix(u, "wardog") && base(p) == "cmd.exe"
			}},
	})
}
