package ioclist

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/stix"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var now = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestDetect(t *testing.T) {
	tests := []struct {
		in    string
		typ   Type
		value string
	}{
		{"1.2.3.4", IPv4, "1.2.3.4"},
		{" 1.2.3.4\t", IPv4, "1.2.3.4"},
		{"1[.]2[.]3[.]4", IPv4, "1.2.3.4"},
		{"10.0.0.0/8", IPv4CIDR, "10.0.0.0/8"},
		{"10.1.2.3/8", IPv4CIDR, "10.0.0.0/8"},
		{"10.1.2.3/32", IPv4, "10.1.2.3"},
		{"2001:DB8::1", IPv6, "2001:db8::1"},
		{"2001:db8::/32", IPv6CIDR, "2001:db8::/32"},
		{"::ffff:1.2.3.4", IPv4, "1.2.3.4"},
		{"Evil.Example.", Domain, "evil.example"},
		{"evil[.]example", Domain, "evil.example"},
		{"evil(.)example", Domain, "evil.example"},
		{"evil[dot]example", Domain, "evil.example"},
		{"bad_host.evil.example", Domain, "bad_host.evil.example"},
		{"xn--80ak6aa92e.com", Domain, "xn--80ak6aa92e.com"},
		{"пример.рф", Domain, "пример.рф"},
		{"http://evil.example/a", URL, "http://evil.example/a"},
		{"hxxp://evil[.]example/a", URL, "http://evil.example/a"},
		{"HXXPS://evil.example", URL, "https://evil.example"},
		{"hxxps[:]//evil[.]example/x", URL, "https://evil.example/x"},
		{"fxp://files.evil.example/", URL, "ftp://files.evil.example/"},
		{"evil.example/gate.php", URL, "evil.example/gate.php"},
		{"http://evil.example/it's", URL, "http://evil.example/it's"},
		{"user@evil.example", Email, "user@evil.example"},
		{"User[@]Evil[.]Example", Email, "User@evil.example"},
		{"user(at)evil.example", Email, "user@evil.example"},
		{"D41D8CD98F00B204E9800998ECF8427E", MD5, "d41d8cd98f00b204e9800998ecf8427e"},
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{strings.Repeat("ab", 32), SHA256, strings.Repeat("ab", 32)},
		{strings.Repeat("cd", 64), SHA512, strings.Repeat("cd", 64)},
	}
	for _, tt := range tests {
		typ, v, err := Detect(tt.in)
		if err != nil || typ != tt.typ || v != tt.value {
			t.Errorf("Detect(%q) = %q, %q, %v, want %q, %q", tt.in, typ, v, err, tt.typ, tt.value)
		}
	}
	for _, bad := range []string{
		"", "   ", "localhost", "999.1.1.1", "1.2.3", "10.0.0.0/33", "fe80::1%eth0",
		"not an indicator", "evil.123", "-evil.example", "evil..example", "http://", "http:// x",
		"@evil.example", "a@b@evil.example", strings.Repeat("g", 32), strings.Repeat("a", 33),
		"a.b/path with space",
	} {
		if typ, v, err := Detect(bad); err == nil {
			t.Errorf("Detect(%q) = %q, %q, nil; want an error", bad, typ, v)
		}
	}
}

func TestPattern(t *testing.T) {
	tests := []struct {
		typ   Type
		value string
		want  string
	}{
		{IPv4, "1.2.3.4", "[ipv4-addr:value = '1.2.3.4']"},
		{IPv4CIDR, "10.0.0.0/8", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"},
		{IPv6, "2001:db8::1", "[ipv6-addr:value = '2001:db8::1']"},
		{IPv6CIDR, "2001:db8::/32", "[ipv6-addr:value ISSUBSET '2001:db8::/32']"},
		{Domain, "x.example", "[domain-name:value = 'x.example']"},
		{URL, "http://x.example/it's", `[url:value = 'http://x.example/it\'s']`},
		{URL, `http://x.example/a\b`, `[url:value = 'http://x.example/a\\b']`},
		{URL, `http://x.example/\'`, `[url:value = 'http://x.example/\\\'']`},
		{Email, "o'brien@x.example", `[email-addr:value = 'o\'brien@x.example']`},
		{MD5, "d41d8cd98f00b204e9800998ecf8427e", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
		{SHA1, "da39", "[file:hashes.'SHA-1' = 'da39']"},
		{SHA256, "e3b0", "[file:hashes.'SHA-256' = 'e3b0']"},
		{SHA512, "cf83", "[file:hashes.'SHA-512' = 'cf83']"},
	}
	for _, tt := range tests {
		if got := Pattern(tt.typ, tt.value); got != tt.want {
			t.Errorf("Pattern(%q, %q) = %s, want %s", tt.typ, tt.value, got, tt.want)
		}
	}
}

// collect reads everything, checking every object with stix.Decode.
func collect(t testing.TB, seq func(func(stix.Object, error) bool)) (objs []stix.Object, lineErrs []*LineError) {
	t.Helper()
	for o, err := range seq {
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("fatal error: %v", err)
			}
			lineErrs = append(lineErrs, le)
			continue
		}
		d, issues, derr := stix.Decode(o.Raw)
		if derr != nil {
			t.Fatalf("stix.Decode(%s) = %v", o.Raw, derr)
		}
		for _, is := range issues {
			t.Logf("stix.Decode(%s) warning: %v", o.ID, is)
		}
		if d.ID != o.ID || d.Type != o.Type || !d.Created.Equal(o.Created) || !d.Modified.Equal(o.Modified) {
			t.Fatalf("object header %+v disagrees with its JSON %+v", o, d)
		}
		objs = append(objs, o)
	}
	return objs, lineErrs
}

func golden(t *testing.T, name string, objs []stix.Object, errs []*LineError) {
	t.Helper()
	var b bytes.Buffer
	for _, o := range objs {
		var v any
		if err := json.Unmarshal(o.Raw, &v); err != nil {
			t.Fatal(err)
		}
		out, _ := json.MarshalIndent(v, "", "  ")
		b.Write(out)
		b.WriteByte('\n')
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "error: %v\n", e)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestReadPlain(t *testing.T) {
	f, err := os.Open("testdata/defanged.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs, errs := collect(t, ReadPlain(f, Options{Now: now, TLP: "green", Labels: []string{"feed:sample"}}))
	if len(objs) != 14 { // 13 indicators and the TLP:GREEN marking
		t.Errorf("ReadPlain produced %d objects, want 14", len(objs))
	}
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	if diff := cmp.Diff([]int{15, 17}, lines); diff != "" {
		t.Errorf("error lines (-want +got):\n%s", diff)
	}
	if objs[0].ID != "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" {
		t.Errorf("first object %s, want the TLP:GREEN marking", objs[0].ID)
	}
	golden(t, "defanged", objs, errs)
}

func TestReadPlainEdges(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		n        int   // indicators
		errLines []int // lines with errors
	}{
		{"empty", "", 0, nil},
		{"no final newline", "1.2.3.4", 1, nil},
		{"crlf", "1.2.3.4\r\nevil.example\r\n", 2, nil},
		{"bom", "\ufeff1.2.3.4\n", 1, nil},
		{"comments only", "# a\n  # b\n\n", 0, nil},
		{"long line", "1.2.3.4\n" + strings.Repeat("a", 100000) + "\n5.6.7.8\n", 2, []int{2}},
		{"bad then good", "nope\n\n1.2.3.4\nnope too\n", 1, []int{1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, errs := collect(t, ReadPlain(strings.NewReader(tt.in), Options{Now: now}))
			var lines []int
			for _, e := range errs {
				lines = append(lines, e.Line)
			}
			if len(objs) != tt.n || !cmp.Equal(lines, tt.errLines) {
				t.Errorf("ReadPlain(%.30q) = %d objects, error lines %v; want %d, %v", tt.in, len(objs), lines, tt.n, tt.errLines)
			}
		})
	}
}

func TestDeterministicIDs(t *testing.T) {
	in := "1.2.3.4\nEVIL[.]example\n"
	a, _ := collect(t, ReadPlain(strings.NewReader(in), Options{Now: now}))
	b, _ := collect(t, ReadPlain(strings.NewReader("evil.example\n1.2.3.4\n"), Options{Now: now.Add(time.Hour)}))
	if a[0].ID != b[1].ID || a[1].ID != b[0].ID {
		t.Errorf("re-import changed ids: %s %s vs %s %s", a[0].ID, a[1].ID, b[1].ID, b[0].ID)
	}
	if a[0].ID == a[1].ID {
		t.Errorf("two values share id %s", a[0].ID)
	}
	if got, want := IndicatorID(IPv4, "1.2.3.4"), a[0].ID; got != want {
		t.Errorf("IndicatorID = %s, want %s", got, want)
	}
	// The id is pinned: changing it would duplicate every indicator ever imported.
	if got := IndicatorID(IPv4, "1.2.3.4"); got != pinnedID {
		t.Errorf("IndicatorID(ipv4-addr, 1.2.3.4) = %s, want %s", got, pinnedID)
	}
}

const pinnedID = "indicator--443e3af3-7888-5fec-9550-d3d2af86cce6"

func TestReadCSV(t *testing.T) {
	f, err := os.Open("testdata/iocs.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs, errs := collect(t, ReadCSV(f, Options{Now: now, TLP: "green"}))
	golden(t, "iocs", objs, errs)
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	if diff := cmp.Diff([]int{5, 6, 7}, lines); diff != "" {
		t.Errorf("error lines (-want +got):\n%s", diff)
	}
	byID := map[string]map[string]any{}
	for _, o := range objs {
		var v map[string]any
		_ = json.Unmarshal(o.Raw, &v)
		byID[o.ID] = v
	}
	ip := byID[IndicatorID(IPv4, "198.51.100.7")]
	want := map[string]any{
		"description": "C2 server", "valid_from": "2024-01-01T00:00:00.000Z", "valid_until": "2024-06-01T00:00:00.000Z",
		"confidence": 80.0, "labels": []any{"apt", "c2"},
		"object_marking_refs": []any{"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"}, // row amber beats opts green
	}
	for k, v := range want {
		if !cmp.Equal(ip[k], v) {
			t.Errorf("ip indicator %s = %v, want %v", k, ip[k], v)
		}
	}
	dom := byID[IndicatorID(Domain, "evil.example")]
	if dom["description"] != `Phishing domain, "urgent"` || !cmp.Equal(dom["labels"], []any{"phishing", "lure"}) ||
		!cmp.Equal(dom["object_marking_refs"], []any{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}) {
		t.Errorf("domain indicator = %v", dom)
	}
}

func TestReadCSVVariants(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		patterns []string
		errLines []int
	}{
		{"no value column: first column", "ip,comment\n1.2.3.4,x\n", []string{"[ipv4-addr:value = '1.2.3.4']"}, nil},
		{"ioc column not first", "first_seen,ioc\n2024-01-01,evil.example\n", []string{"[domain-name:value = 'evil.example']"}, nil},
		{"upper-case header with BOM", "\ufeffVALUE,TYPE\nhttp://x.example/a,url\n", []string{"[url:value = 'http://x.example/a']"}, nil},
		{"misp types", "value,type\n1.2.3.4,ip-src\nx@y.example,email-src\nd41d8cd98f00b204e9800998ecf8427e,md5\n",
			[]string{"[ipv4-addr:value = '1.2.3.4']", "[email-addr:value = 'x@y.example']", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"}, nil},
		{"own types", "value,type\n10.0.0.0/8,cidr\n::1,ipv6\n", []string{"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "[ipv6-addr:value = '::1']"}, nil},
		{"short rows", "value,type,description\n1.2.3.4\n", []string{"[ipv4-addr:value = '1.2.3.4']"}, nil},
		{"comment lines", "value\n# skip\n1.2.3.4\n", []string{"[ipv4-addr:value = '1.2.3.4']"}, nil},
		{"bad dates", "value,valid_from,valid_until\n1.2.3.4,yesterday,\n1.2.3.5,2024-02-01,2024-01-01\n", nil, []int{2, 3}},
		{"quoted newline", "value,description\n1.2.3.4,\"two\nlines\"\nnope,x\n", []string{"[ipv4-addr:value = '1.2.3.4']"}, []int{4}},
		{"header only", "value\n", nil, nil},
		{"no header", "1.2.3.4,c2\nevil.example,x\n", []string{"[ipv4-addr:value = '1.2.3.4']", "[domain-name:value = 'evil.example']"}, nil},
		{"empty", "", nil, nil},
		{"semicolon labels", "value,labels\n1.2.3.4, a ; b;;c \n", []string{"[ipv4-addr:value = '1.2.3.4']"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, errs := collect(t, ReadCSV(strings.NewReader(tt.in), Options{Now: now}))
			var pats []string
			for _, o := range objs {
				var v struct{ Pattern string }
				_ = json.Unmarshal(o.Raw, &v)
				pats = append(pats, v.Pattern)
			}
			var lines []int
			for _, e := range errs {
				lines = append(lines, e.Line)
			}
			if !cmp.Equal(pats, tt.patterns) || !cmp.Equal(lines, tt.errLines) {
				t.Errorf("ReadCSV(%q) = %q, error lines %v; want %q, %v (errors: %v)", tt.in, pats, lines, tt.patterns, tt.errLines, errs)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{}, {Now: now, TLP: "purple"}, {Now: now, CreatedByRef: "report--1"}} {
		for _, read := range []func(io.Reader, Options) func(func(stix.Object, error) bool){
			func(r io.Reader, o Options) func(func(stix.Object, error) bool) { return ReadPlain(r, o) },
			func(r io.Reader, o Options) func(func(stix.Object, error) bool) { return ReadCSV(r, o) },
		} {
			var got error
			for _, err := range read(strings.NewReader("value\n1.2.3.4\n"), o) {
				got = err
			}
			var le *LineError
			if got == nil || errors.As(got, &le) {
				t.Errorf("options %+v: error %v, want a fatal one", o, got)
			}
		}
	}
	objs, _ := collect(t, ReadPlain(strings.NewReader("1.2.3.4\n"), Options{
		Now: now, IndicatorTypes: []string{"anomalous-activity"}, CreatedByRef: "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
	}))
	var v map[string]any
	_ = json.Unmarshal(objs[0].Raw, &v)
	if !cmp.Equal(v["indicator_types"], []any{"anomalous-activity"}) || v["created_by_ref"] != "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" {
		t.Errorf("indicator = %v", v)
	}
}

func TestStopEarly(t *testing.T) {
	n := 0
	for range ReadPlain(strings.NewReader("1.1.1.1\n2.2.2.2\n3.3.3.3\n"), Options{Now: now}) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("loop ran %d times after break", n)
	}
}

func fuzzCheck(t *testing.T, seq func(func(stix.Object, error) bool)) {
	for o, err := range seq {
		if err != nil {
			continue
		}
		if _, _, err := stix.Decode(o.Raw); err != nil {
			t.Fatalf("invalid object: %v\n%s", err, o.Raw)
		}
	}
}

func FuzzReadPlain(f *testing.F) {
	b, err := os.ReadFile("testdata/defanged.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	for _, l := range strings.Split(string(b), "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fuzzCheck(t, ReadPlain(strings.NewReader(in), Options{Now: now, TLP: "amber"}))
	})
}

func FuzzReadCSV(f *testing.F) {
	b, err := os.ReadFile("testdata/iocs.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("value,type\n1.2.3.4,ip\n")
	f.Fuzz(func(t *testing.T, in string) {
		fuzzCheck(t, ReadCSV(strings.NewReader(in), Options{Now: now}))
	})
}

// BenchmarkReadPlain measures lines per second over a mixed list.
func BenchmarkReadPlain(b *testing.B) {
	var buf bytes.Buffer
	const lines = 10000
	for i := range lines {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&buf, "10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
		case 1:
			fmt.Fprintf(&buf, "host%d[.]evil.example\n", i)
		case 2:
			fmt.Fprintf(&buf, "hxxp://evil.example/gate%d.php?id='%d'\n", i, i)
		case 3:
			fmt.Fprintf(&buf, "%064x\n", i)
		case 4:
			fmt.Fprintf(&buf, "# comment %d\n", i)
		}
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, err := range ReadPlain(bytes.NewReader(data), Options{Now: now, TLP: "green"}) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestAppendIndicator checks the hand-written encoder against encoding/json.
func TestAppendIndicator(t *testing.T) {
	c := 7
	for _, ind := range []indicatorJSON{
		{Type: "indicator", Name: "plain"},
		{Type: "indicator", Name: "q\"uote\\ <tag>&amp; \x00\x1f\t\n\r é \u2028\u2029 \xff bad", Description: "d",
			CreatedByRef: "identity--x", IndicatorTypes: []string{"a", "b"}, ValidUntil: "u", Confidence: &c,
			Labels: []string{"l\"1"}, ObjectMarkingRefs: []string{"m"}},
	} {
		want, err := json.Marshal(&ind)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendIndicator(nil, &ind); string(got) != string(want) {
			t.Errorf("appendIndicator = %s\nwant            %s", got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\x00\u2028\xff<>&é")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestValidFrom: Options.ValidFrom is the valid_from of lines and rows that
// name none; a CSV row's own valid_from still wins.
func TestValidFrom(t *testing.T) {
	epoch := time.Unix(0, 0).UTC()
	for _, tt := range []struct {
		name string
		read func(io.Reader, Options) iter.Seq2[stix.Object, error]
		in   string
		opts Options
		want []string
	}{
		{"plain, default", ReadPlain, "1.2.3.4\n", Options{Now: now}, []string{stix.FormatTime(now, 3)}},
		{"plain, epoch", ReadPlain, "1.2.3.4\n", Options{Now: now, ValidFrom: epoch}, []string{"1970-01-01T00:00:00.000Z"}},
		{"csv, epoch and a dated row", ReadCSV, "value,valid_from\n1.2.3.4,\n5.6.7.8,2026-03-04\n", Options{Now: now, ValidFrom: epoch},
			[]string{"1970-01-01T00:00:00.000Z", "2026-03-04T00:00:00.000Z"}},
		{"csv, valid_until after the epoch but before now", ReadCSV, "value,valid_until\n1.2.3.4,2020-01-01\n", Options{Now: now, ValidFrom: epoch},
			[]string{"1970-01-01T00:00:00.000Z"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs, errs := collect(t, tt.read(strings.NewReader(tt.in), tt.opts))
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			var got []string
			for _, o := range objs {
				var v struct {
					Type      string `json:"type"`
					ValidFrom string `json:"valid_from"`
				}
				_ = json.Unmarshal(o.Raw, &v)
				if v.Type == "indicator" {
					got = append(got, v.ValidFrom)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("valid_from (-want +got):\n%s", diff)
			}
		})
	}
}
