package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// putRaw decodes and stores STIX objects in the fixture's collection.
func (f *fixture) putRaw(raws ...string) {
	f.t.Helper()
	var objs []stix.Object
	for _, raw := range raws {
		o, _, err := stix.Decode([]byte(raw))
		if err != nil {
			f.t.Fatalf("%v: %s", err, raw)
		}
		objs = append(objs, o)
	}
	if _, err := f.db.Put(context.Background(), f.coll.ID, objs); err != nil {
		f.t.Fatal(err)
	}
}

var (
	intelRowRE  = regexp.MustCompile(`<td class="src">([a-z0-9-]+--[0-9a-f-]+)</td>`)
	intelNextRE = regexp.MustCompile(`<a href="/intel\?([^"]+)" rel="next">`)
)

func TestIntelSearch(t *testing.T) {
	f := newFixture(t)
	var raws []string
	for i := range 60 {
		raws = append(raws, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Beacon host %02d","pattern":"[domain-name:value = 'b%02d.example.net']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, i, i, i))
	}
	raws = append(raws,
		`{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Zebra RAT","aliases":["StripedBeacon"],"is_family":true}`,
		`{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--00000000-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Command and Scripting Interpreter","external_references":[{"source_name":"mitre-attack","external_id":"T1059"}]}`,
		`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000003","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","name":"Old sinkhole","revoked":true,"pattern":"[ipv4-addr:value = '192.0.2.9']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`)
	f.putRaw(raws...)
	c := f.login("vic")
	rows := func(path string) ([]string, string, string) {
		t.Helper()
		status, body, _ := c.get(path)
		if status != http.StatusOK || !strings.Contains(body, `id="intel-results"`) {
			t.Fatalf("GET %s = %d\n%.500s", path, status, body)
		}
		var ids []string
		for _, m := range intelRowRE.FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
		}
		next := ""
		if m := intelNextRE.FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
		}
		return ids, next, body
	}
	for _, tc := range []struct {
		name, path string
		want       []string // ids expected, in order; nil: none
		more       bool
		text       string // also on the page
	}{
		{"empty search: newest first", "/intel", nil, true, "Next page"},
		{"no match", "/intel?q=zzqx-no-such-text", nil, false, "Nothing found."},
		{"alias, substring, other case", "/intel?q=stripedbeac", []string{"malware--00000000-0000-4000-8000-000000000001"}, false, "Zebra RAT"},
		{"ATT&CK id", "/intel?q=T1059", []string{"attack-pattern--00000000-0000-4000-8000-000000000002"}, false, "Command and Scripting"},
		{"type filter", "/intel?q=beacon&type=malware", []string{"malware--00000000-0000-4000-8000-000000000001"}, false, ""},
		{"type filter, no text", "/intel?type=attack-pattern", []string{"attack-pattern--00000000-0000-4000-8000-000000000002"}, false, ""},
		{"revoked is found and marked", "/intel?q=sinkhole", []string{"indicator--00000000-0000-4000-8000-000000000003"}, false, `<span class="badge">revoked</span>`},
		{"pattern", "/intel?q=b07.example", []string{"indicator--00000007-0000-4000-8000-000000000000"}, false, ""},
		{"two words in any order", "/intel?q=b07.example+host", []string{"indicator--00000007-0000-4000-8000-000000000000"}, false, ""},
	} {
		ids, next, body := rows(tc.path)
		if tc.want != nil && strings.Join(ids, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: GET %s found %v, want %v", tc.name, tc.path, ids, tc.want)
		}
		if tc.want == nil && tc.path != "/intel" && len(ids) > 0 {
			t.Errorf("%s: GET %s found %v, want nothing", tc.name, tc.path, ids)
		}
		if (next != "") != tc.more {
			t.Errorf("%s: GET %s: next link %q, want one: %v", tc.name, tc.path, next, tc.more)
		}
		if !strings.Contains(body, tc.text) {
			t.Errorf("%s: GET %s lacks %q", tc.name, tc.path, tc.text)
		}
	}
	// The empty search starts with the newest object stored.
	if ids, _, _ := rows("/intel"); len(ids) != 50 || ids[0] != "indicator--00000000-0000-4000-8000-000000000003" {
		t.Errorf("GET /intel: %d rows starting %v; want 50, newest first", len(ids), ids[:min(1, len(ids))])
	}
	// Paging: 60 beacons and the malware whose alias holds "beacon", 50 a page.
	var all []string
	path := "/intel?q=beacon"
	for range 3 {
		ids, next, _ := rows(path)
		all = append(all, ids...)
		if next == "" {
			break
		}
		path = "/intel?" + next
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Errorf("paging: %s on two pages", id)
		}
		seen[id] = true
	}
	if len(all) != 61 || all[0] != "malware--00000000-0000-4000-8000-000000000001" || all[60] != "indicator--00000000-0000-4000-8000-000000000000" {
		t.Errorf("paging q=beacon: %d results (first %v); want 61, the malware first and the first indicator last", len(all), all[:min(1, len(all))])
	}
}

func TestObjectGraphOfSighting(t *testing.T) {
	f := newFixture(t)
	f.putRaw(
		`{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Zebra RAT","is_family":true}`,
		`{"type":"identity","spec_version":"2.1","id":"identity--00000000-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Northern HQ","identity_class":"organization"}`,
		`{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000003","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","sighting_of_ref":"malware--00000000-0000-4000-8000-000000000001","where_sighted_refs":["identity--00000000-0000-4000-8000-000000000002"]}`)
	c := f.login("vic")
	for _, id := range []string{"malware--00000000-0000-4000-8000-000000000001", "identity--00000000-0000-4000-8000-000000000002"} {
		status, body, _ := c.get("/intel/object?id=" + id)
		if status != http.StatusOK || !strings.Contains(body, "Relationships (1)") || !strings.Contains(body, "sighted") {
			t.Errorf("object page of %s: %d, want the sighting in its graph\n%.300s", id, status, body)
		}
	}
}
