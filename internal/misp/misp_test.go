package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/stix"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const corpusDir = "../../../shared/corpora/misp/events"

// checkObjects fails t unless every object passes stix.Decode with no
// error, agrees with its decoded header, and every reference it makes
// resolves inside objs (or to an allowed external id).
func checkObjects(t *testing.T, objs []stix.Object, external ...string) {
	t.Helper()
	ids := map[string]bool{}
	for _, id := range external {
		ids[id] = true
	}
	for _, o := range objs {
		if ids[o.ID] {
			t.Errorf("duplicate id %s", o.ID)
		}
		ids[o.ID] = true
	}
	refRE := regexp.MustCompile(`"([a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"`)
	for _, o := range objs {
		got, issues, err := stix.Decode(o.Raw)
		if err != nil {
			t.Errorf("stix.Decode(%s) = %v\n%s", o.ID, err, o.Raw)
			continue
		}
		for _, is := range issues {
			t.Logf("stix.Decode(%s) warning: %v", o.ID, is)
		}
		if got.ID != o.ID || got.Type != o.Type || !got.Created.Equal(o.Created) || !got.Modified.Equal(o.Modified) {
			t.Errorf("object header %s/%s/%v/%v disagrees with its JSON %s/%s/%v/%v",
				o.ID, o.Type, o.Created, o.Modified, got.ID, got.Type, got.Created, got.Modified)
		}
		for _, m := range refRE.FindAllSubmatch(o.Raw, -1) {
			ref := string(m[1])
			if ref == o.ID || strings.HasPrefix(ref, "extension-definition--") {
				continue
			}
			if !ids[ref] {
				t.Errorf("%s refers to %s, which is not in the result", o.ID, ref)
			}
		}
	}
}

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("MISP corpus not found at %s (see shared/corpora/README.md)", corpusDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Convert(bytes.NewReader(b), Options{})
			if err != nil {
				t.Fatalf("Convert = %v", err)
			}
			if len(res.Objects) < 2 {
				t.Fatalf("Convert produced %d objects, want a report and an identity at least", len(res.Objects))
			}
			checkObjects(t, res.Objects)
			var ev struct {
				Event struct {
					UUID      string
					Attribute []json.RawMessage
					Object    []json.RawMessage
				}
			}
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			last := res.Objects[len(res.Objects)-1]
			if want := "report--" + ev.Event.UUID; last.ID != want {
				t.Errorf("last object = %s, want %s", last.ID, want)
			}
			// Every attribute and object must have become something.
			counts := map[string]int{}
			for _, o := range res.Objects {
				counts[o.Type]++
			}
			uuids := map[string]bool{}
			for _, raw := range slices.Concat(ev.Event.Attribute, ev.Event.Object) {
				var a struct{ UUID string }
				_ = json.Unmarshal(raw, &a)
				uuids[a.UUID] = true
			}
			made := counts["indicator"] + counts["observed-data"] + counts["x-misp-attribute"] + counts["x-misp-object"]
			if made != len(uuids) {
				t.Errorf("%d distinct attributes and objects became %d objects (%v)", len(uuids), made, counts)
			}
			t.Logf("%d objects %v, %d warnings", len(res.Objects), counts, len(res.Warnings))
			for _, w := range res.Warnings {
				t.Logf("warning: %v", w)
			}
		})
	}
}

// goldenView is what the golden file records: the objects as JSON and the
// warnings as text.
type goldenView struct {
	Objects  []json.RawMessage `json:"objects"`
	Warnings []string          `json:"warnings"`
}

func render(t *testing.T, res Result) []byte {
	t.Helper()
	v := goldenView{Warnings: []string{}}
	for _, o := range res.Objects {
		v.Objects = append(v.Objects, json.RawMessage(o.Raw))
	}
	for _, w := range res.Warnings {
		v.Warnings = append(v.Warnings, w.Error())
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Convert(bytes.NewReader(b), Options{})
			if err != nil {
				t.Fatalf("Convert = %v", err)
			}
			checkObjects(t, res.Objects)
			got := render(t, res)
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Convert(%s) mismatch (-want +got):\n%s", f, diff)
			}
		})
	}
}

// objectsByID indexes a result's objects by id, decoded.
func objectsByID(t *testing.T, res Result) map[string]map[string]any {
	t.Helper()
	m := map[string]map[string]any{}
	for _, o := range res.Objects {
		var v map[string]any
		if err := json.Unmarshal(o.Raw, &v); err != nil {
			t.Fatal(err)
		}
		m[o.ID] = v
	}
	return m
}

func TestPatterns(t *testing.T) {
	b, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(bytes.NewReader(b), Options{})
	if err != nil {
		t.Fatal(err)
	}
	byID := objectsByID(t, res)
	const p = "indicator--11111111-1111-4111-8111-0000000000"
	tests := []struct{ id, want string }{
		{p + "01", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7']"},
		{p + "02", "[network-traffic:src_ref.type = 'ipv6-addr' AND network-traffic:src_ref.value ISSUBSET '2001:db8::/32']"},
		{p + "03", "[domain-name:value = 'evil.example']"},
		{p + "04", "[domain-name:value = 'c2.evil.example']"},
		{p + "05", "[domain-name:value = 'evil.example' AND domain-name:resolves_to_refs[*].value = '203.0.113.5']"},
		{p + "06", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 8443]"},
		{p + "07", `[url:value = 'http://evil.example/a?q=\'x\'&b=\\y']`},
		{p + "08", "[email-message:from_ref.value = 'phish@evil.example']"},
		{p + "09", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
		{p + "0a", "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"},
		{p + "0b", `[file:name = 'drop\'per.exe' AND file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']`},
		{p + "0c", `[file:name = 'C:\\Users\\Public\\run.bat']`},
		{p + "0d", `[mutex:name = 'Global\\xyz']`},
		{p + "0e", `[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run']`},
		{p + "0f", `[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Run' AND windows-registry-key:values[*].data = 'C:\\evil.exe']`},
		{p + "10", "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/5.0 (evil)']"},
		{p + "11", "[autonomous-system:number = 64500]"},
		{p + "12", "[mac-addr:value = '00:1a:2b:3c:4d:5e']"},
		{p + "13", "[x509-certificate:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']"},
		{"indicator--31111111-1111-4111-8111-000000000001", "[file:name = 'invoice.pdf.exe' AND file:hashes.MD5 = '098f6bcd4621d373cade4e832627b4f6' AND file:size = 1024]"},
		{"indicator--31111111-1111-4111-8111-000000000003", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.77' AND network-traffic:dst_port = 995] AND [domain-name:value = 'mail.evil.example']"},
	}
	for _, tt := range tests {
		o, ok := byID[tt.id]
		if !ok {
			t.Errorf("no %s", tt.id)
			continue
		}
		if got := o["pattern"]; got != tt.want {
			t.Errorf("%s pattern = %v, want %v", tt.id, got, tt.want)
		}
	}
	// Not indicators: unmapped, invalid, not to_ids, deleted.
	for id, typ := range map[string]string{
		"x-misp-attribute--11111111-1111-4111-8111-000000000014": "x-misp-attribute",
		"x-misp-attribute--11111111-1111-4111-8111-000000000015": "x-misp-attribute",
		"x-misp-attribute--11111111-1111-4111-8111-000000000016": "x-misp-attribute",
		"observed-data--11111111-1111-4111-8111-000000000017":    "observed-data",
		"observed-data--11111111-1111-4111-8111-000000000018":    "observed-data",
		"observed-data--11111111-1111-4111-8111-00000000001a":    "observed-data",
		"observed-data--31111111-1111-4111-8111-000000000002":    "observed-data",
		"x-misp-object--31111111-1111-4111-8111-000000000004":    "x-misp-object",
	} {
		if o, ok := byID[id]; !ok || o["type"] != typ {
			t.Errorf("no %s", id)
		}
	}
	if _, ok := byID["indicator--11111111-1111-4111-8111-00000000001b"]; ok {
		t.Errorf("deleted attribute converted")
	}
	// Warnings name the attribute.
	var unmapped int
	for _, w := range res.Warnings {
		if errors.Is(w, ErrUnmapped) {
			unmapped++
		}
	}
	if unmapped != 2 { // ja3 attribute and pe object
		t.Errorf("%d ErrUnmapped warnings, want 2: %v", unmapped, res.Warnings)
	}
	// Galaxy clusters: SDOs, and relationships from the attribute's indicator.
	gozi := byID["malware--1a2b3c4d-0000-4000-8000-000000000001"]
	if gozi == nil || gozi["name"] != "Gozi" || !cmp.Equal(gozi["aliases"], []any{"Ursnif", "ISFB"}) || gozi["is_family"] != true {
		t.Errorf("Gozi malware = %v", gozi)
	}
	var rels []string
	for _, o := range byID {
		if o["type"] == "relationship" && o["source_ref"] == p+"09" {
			rels = append(rels, o["relationship_type"].(string)+" "+strings.SplitN(o["target_ref"].(string), "--", 2)[0])
		}
	}
	slices.Sort(rels)
	if diff := cmp.Diff([]string{"indicates attack-pattern", "indicates malware"}, rels); diff != "" {
		t.Errorf("relationships of the md5 indicator (-want +got):\n%s", diff)
	}
	for _, o := range byID {
		if o["type"] == "attack-pattern" {
			if o["name"] != "Phishing" || !strings.Contains(fmt.Sprint(o["external_references"]), "T1566") {
				t.Errorf("attack-pattern = %v", o)
			}
		}
	}
	// Sightings: one sighting and one opinion of the first indicator.
	if s := byID["sighting--21111111-1111-4111-8111-000000000001"]; s == nil || s["sighting_of_ref"] != p+"01" {
		t.Errorf("sighting = %v", s)
	}
	if s := byID["opinion--21111111-1111-4111-8111-000000000002"]; s == nil || s["opinion"] != "strongly-disagree" {
		t.Errorf("opinion = %v", s)
	}
	// Report: name, published, labels with tags and galaxies.
	r := byID["report--5c7e7b0e-1e0c-4b0a-9c5e-1a2b3c4d5e6f"]
	if r["published"] != "2024-03-01T13:33:20.000Z" || r["created_by_ref"] != "identity--5a68c02d-959c-4c8a-a571-0dcac0a8060a" {
		t.Errorf("report = %v", r)
	}
	wantLabels := []any{"type:OSINT", `misp-galaxy:threat-actor="APT28"`, `misp-galaxy:ransomware="LockBit"`}
	if diff := cmp.Diff(wantLabels, r["labels"]); diff != "" {
		t.Errorf("report labels (-want +got):\n%s", diff)
	}
	if refs := r["object_refs"].([]any); len(refs) != len(res.Objects)-3 { // all but the report and the two markings
		t.Errorf("report has %d refs, result %d objects", len(refs), len(res.Objects))
	}
}

// The OASIS TLP 2.0 marking-definition ids, spelled out so that the test
// does not trust the code it checks.
const (
	tlpClear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	tlpGreen       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	tlpAmber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	tlpAmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	tlpRed         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

func TestTLP(t *testing.T) {
	tests := []struct {
		eventTag, attrTag, defaultTLP string
		wantEvent, wantAttr           string // marking ids; "" none
	}{
		{"tlp:clear", "", "", tlpClear, tlpClear},
		{"tlp:white", "", "", tlpClear, tlpClear},
		{"tlp:green", "", "", tlpGreen, tlpGreen},
		{"TLP:AMBER", "", "", tlpAmber, tlpAmber},
		{"tlp:amber+strict", "", "", tlpAmberStrict, tlpAmberStrict},
		{"tlp:red", "", "", tlpRed, tlpRed},
		{"", "", "", "", ""},
		{"", "", "green", tlpGreen, tlpGreen},
		{"tlp:amber", "", "green", tlpAmber, tlpAmber},
		{"tlp:green", "tlp:red", "", tlpGreen, tlpRed},
		{"tlp:amber", "tlp:clear", "", tlpAmber, tlpAmber}, // strictest wins
		{"", "tlp:amber+strict", "", "", tlpAmberStrict},
	}
	for _, tt := range tests {
		ev := map[string]any{
			"uuid": "5c7e7b0e-1e0c-4b0a-9c5e-1a2b3c4d5e6f", "info": "t", "timestamp": "1709290000",
			"Attribute": []any{map[string]any{
				"uuid": "11111111-1111-4111-8111-000000000001", "type": "domain", "category": "Network activity",
				"to_ids": true, "value": "x.example", "Tag": tagList(tt.attrTag),
			}},
			"Tag": tagList(tt.eventTag),
		}
		b, _ := json.Marshal(map[string]any{"Event": ev})
		res, err := Convert(bytes.NewReader(b), Options{DefaultTLP: tt.defaultTLP})
		if err != nil {
			t.Fatal(err)
		}
		checkObjects(t, res.Objects)
		byID := objectsByID(t, res)
		got := func(id string) string {
			refs, _ := byID[id]["object_marking_refs"].([]any)
			if len(refs) != 1 {
				if len(refs) > 1 {
					t.Errorf("%s has %d markings", id, len(refs))
				}
				return ""
			}
			return refs[0].(string)
		}
		if g := got("report--5c7e7b0e-1e0c-4b0a-9c5e-1a2b3c4d5e6f"); g != tt.wantEvent {
			t.Errorf("event %q attr %q default %q: report marking %q, want %q", tt.eventTag, tt.attrTag, tt.defaultTLP, g, tt.wantEvent)
		}
		if g := got("indicator--11111111-1111-4111-8111-000000000001"); g != tt.wantAttr {
			t.Errorf("event %q attr %q default %q: indicator marking %q, want %q", tt.eventTag, tt.attrTag, tt.defaultTLP, g, tt.wantAttr)
		}
		for _, want := range []string{tt.wantEvent, tt.wantAttr} {
			if want != "" {
				if m := byID[want]; m == nil || m["type"] != "marking-definition" {
					t.Errorf("marking definition %s missing from the result", want)
				}
			}
		}
		// Every produced object (bar markings) carries the event marking.
		if tt.wantEvent != "" {
			for id, o := range byID {
				if o["type"] != "marking-definition" && o["object_marking_refs"] == nil {
					t.Errorf("%s has no marking", id)
				}
			}
		}
	}
}

func TestSharedObservableKeepsStrictestMarking(t *testing.T) {
	attr := func(n int, tlp string) map[string]any {
		return map[string]any{
			"uuid": fmt.Sprintf("11111111-1111-4111-8111-00000000000%d", n), "type": "domain", "category": "Network activity",
			"to_ids": false, "value": "shared.example", "timestamp": "1709290000", "Tag": tagList(tlp),
		}
	}
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"uuid": "5c7e7b0e-1e0c-4b0a-9c5e-1a2b3c4d5e6f", "info": "t", "timestamp": "1709290000",
		"Attribute": []any{attr(1, "tlp:green"), attr(2, "tlp:red"), attr(3, "tlp:clear")},
	}})
	res, err := Convert(bytes.NewReader(b), Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, res.Objects)
	var n int
	for _, o := range res.Objects {
		if o.Type != "domain-name" {
			continue
		}
		n++
		var v struct {
			Refs []string `json:"object_marking_refs"`
		}
		_ = json.Unmarshal(o.Raw, &v)
		if !cmp.Equal(v.Refs, []string{tlpRed}) {
			t.Errorf("shared domain-name marked %v, want TLP:RED", v.Refs)
		}
	}
	if n != 1 {
		t.Errorf("%d domain-name objects, want 1", n)
	}
}

func tagList(name string) []any {
	if name == "" {
		return nil
	}
	return []any{map[string]any{"name": name}}
}

func TestDeterministic(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	corpus, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	for _, f := range append(files, corpus...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r1, err1 := Convert(bytes.NewReader(b), Options{})
		r2, err2 := Convert(bytes.NewReader(b), Options{})
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", f, err1, err2)
		}
		if diff := cmp.Diff(r1.Objects, r2.Objects); diff != "" {
			t.Errorf("%s: two conversions differ:\n%s", f, diff)
		}
	}
}

func TestDocumentForms(t *testing.T) {
	b, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	var wrapped struct{ Event json.RawMessage }
	if err := json.Unmarshal(b, &wrapped); err != nil {
		t.Fatal(err)
	}
	want, err := Convert(bytes.NewReader(b), Options{})
	if err != nil {
		t.Fatal(err)
	}
	second := bytes.Replace(wrapped.Event, []byte("5c7e7b0e-1e0c-4b0a-9c5e-1a2b3c4d5e6f"), []byte("5c7e7b0e-1e0c-4b0a-9c5e-1a2b3c4d5e70"), 1)
	forms := map[string]struct {
		doc     string
		reports int
	}{
		"bare":          {string(wrapped.Event), 1},
		"list":          {"[" + string(b) + "," + string(second) + "]", 2},
		"response":      {`{"response":[` + string(b) + `,{"Event":` + string(second) + `}]}`, 2},
		"bare list":     {"[" + string(wrapped.Event) + "]", 1},
		"leading space": {"\n  " + string(b), 1},
	}
	for name, f := range forms {
		res, err := Convert(strings.NewReader(f.doc), Options{})
		if err != nil {
			t.Errorf("%s: Convert = %v", name, err)
			continue
		}
		checkObjects(t, res.Objects)
		reports := 0
		for _, o := range res.Objects {
			if o.Type == "report" {
				reports++
			}
		}
		if reports != f.reports {
			t.Errorf("%s: %d reports, want %d", name, reports, f.reports)
		}
		if f.reports == 1 {
			if diff := cmp.Diff(want.Objects, res.Objects); diff != "" {
				t.Errorf("%s: differs from the wrapped form:\n%s", name, diff)
			}
		}
	}
	for _, bad := range []string{"", "42", `"x"`, "{", "[1]", `{"response": 3}`, "{}"} {
		if _, err := Convert(strings.NewReader(bad), Options{}); err == nil {
			t.Errorf("Convert(%q) = nil error, want one", bad)
		}
	}
}

func TestOptions(t *testing.T) {
	b, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	const me = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	res, err := Convert(bytes.NewReader(b), Options{CreatedByRef: me})
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, res.Objects, me)
	for _, o := range res.Objects {
		if o.ID == "identity--5a68c02d-959c-4c8a-a571-0dcac0a8060a" {
			t.Errorf("Orgc identity produced despite CreatedByRef")
		}
		var v struct {
			CreatedBy string `json:"created_by_ref"`
		}
		_ = json.Unmarshal(o.Raw, &v)
		if v.CreatedBy != "" && v.CreatedBy != me {
			t.Errorf("%s created_by_ref = %s, want %s", o.ID, v.CreatedBy, me)
		}
	}
	for _, bad := range []Options{{DefaultTLP: "purple"}, {CreatedByRef: "report--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}} {
		if _, err := Convert(bytes.NewReader(b), bad); err == nil {
			t.Errorf("Convert with %+v = nil error", bad)
		}
	}
}

func FuzzConvert(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"response":[{"Event":{"uuid":"x","Attribute":[{"type":"ip-dst|port","value":"::1|99999","to_ids":"1"}]}}]}`))
	f.Add([]byte(`[{"uuid":"5c7e7b0e-1e0c-4b0a-9c5e-1a2b3c4d5e6f","timestamp":"-1","Object":[{"name":"domain-ip","Attribute":[{"type":"ip-dst","value":"10.0.0.0/8"}]}]}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Convert(bytes.NewReader(b), Options{})
		if err != nil {
			return
		}
		for _, o := range res.Objects {
			if _, _, err := stix.Decode(o.Raw); err != nil {
				t.Fatalf("produced invalid object: %v\n%s", err, o.Raw)
			}
		}
		ids := map[string]bool{}
		for _, o := range res.Objects {
			if ids[o.ID] {
				t.Fatalf("duplicate id %s", o.ID)
			}
			ids[o.ID] = true
		}
	})
}

// BenchmarkConvert converts the largest corpus event.
func BenchmarkConvert(b *testing.B) {
	path := filepath.Join(corpusDir, "tests_reportlab_testfiles_very_long_event.json")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("MISP corpus not found: %v", err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(bytes.NewReader(data), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
