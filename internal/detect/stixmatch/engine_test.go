package stixmatch

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/stix"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// newIndicator builds a decoded STIX 2.1 indicator; extra is JSON members
// added to the object (with a leading comma); valid_from is 2000-01-01
// unless extra sets it.
func newIndicator(t *testing.T, n int, pat, extra string) stix.Object {
	t.Helper()
	if !strings.Contains(extra, `"valid_from"`) {
		extra = `,"valid_from":"2000-01-01T00:00:00Z"` + extra
	}
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"rule %d",`+
		`"pattern":%q,"pattern_type":"stix"%s}`, n, n, pat, extra)
	o, _, err := stix.Decode([]byte(raw))
	if err != nil {
		t.Fatalf("stix.Decode(%s) = %v", raw, err)
	}
	return o
}

func fields(kv ...string) []event.Field {
	var out []event.Field
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, event.Field{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func ev(sec int, kv ...string) *event.Event {
	return event.New("test.jsonl", "jsonl", int64(sec), t0.Add(time.Duration(sec)*time.Second), []byte(`{"n":1}`), fields(kv...))
}

type got struct {
	offset int64
	rule   string
	level  string
	events int
	m      string
}

func runEngine(t *testing.T, e *Engine, evs []*event.Event) []got {
	t.Helper()
	var out []got
	for _, x := range evs {
		err := e.Process(context.Background(), x, func(a *detect.Alert) {
			var ms []string
			for _, m := range a.Matches {
				ms = append(ms, m.Field+"="+m.Value)
			}
			if a.Engine != "stix" || a.Indicator != a.RuleID || a.Source != "test.jsonl" || len(a.Event) == 0 {
				t.Errorf("alert %+v: want engine stix, indicator = rule id, source and event set", a)
			}
			out = append(out, got{a.Offset, a.RuleTitle, a.Level, a.Events, strings.Join(ms, ",")})
		})
		if err != nil {
			t.Fatalf("Process = %v", err)
		}
	}
	return out
}

func TestEngine(t *testing.T) {
	sysmonProc := ev(1, "EventID", "1", "Image", `C:\Users\bob\AppData\evil.exe`, "CommandLine", `evil.exe -enc AAAA`,
		"ParentImage", `C:\Windows\explorer.exe`, "User", `CORP\bob`,
		"Hashes", "SHA1=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709,MD5=CEAD3F77F6CDA6EC00F57D76C9A6879F,SHA256=AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F,IMPHASH=00")
	sysmonNet := ev(2, "EventID", "3", "Image", `C:\Users\bob\AppData\evil.exe`, "DestinationIp", "198.51.100.7",
		"DestinationPort", "443", "SourceIp", "10.0.0.5", "Protocol", "tcp")
	sysmonDNS := ev(3, "EventID", "22", "QueryName", "c2.bad.example", "Image", `C:\Users\bob\AppData\evil.exe`)
	sysmonFile := ev(4, "EventID", "11", "TargetFilename", `C:\Temp\drop.ps1`, "Image", `C:\Windows\System32\cmd.exe`)
	ecsNet := ev(5, "source.ip", "10.0.0.9", "destination.ip", "2001:db8::7", "destination.port", "8443", "url.full", "https://bad.example/x.php?id=1", "dns.question.name", "bad.example")
	zeekHTTP := ev(6, "id.orig_h", "10.0.0.5", "id.resp_h", "203.0.113.9", "id.resp_p", "80", "host", "files.bad.example", "uri", "/payload.bin")
	suricata := ev(7, "src_ip", "10.0.0.5", "dest_ip", "203.0.113.10", "dest_port", "53", "proto", "UDP", "dns.rrname", "evil.example.")
	ecsFile := ev(8, "file.path", "/tmp/x.sh", "file.hash.sha256", "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f")
	zeekSMTP := ev(9, "mailfrom", "ceo@bad.example", "rcptto", "a@corp.example", "rcptto", "b@corp.example")
	regSet := ev(10, "EventID", "13", "TargetObject", `HKLM\Software\Microsoft\Windows\CurrentVersion\Run\evil`, "Details", `C:\evil.exe`)
	all := []*event.Event{sysmonProc, sysmonNet, sysmonDNS, sysmonFile, ecsNet, zeekHTTP, suricata, ecsFile, zeekSMTP, regSet}

	tests := []struct {
		name, pattern, extra string
		want                 []got
	}{
		{"process image and command line",
			`[process:image_ref.name = 'evil.exe' AND process:command_line MATCHES '-enc\\s+[A-Za-z0-9+/=]+']`, "",
			[]got{{1, "rule 0", "high", 1, `Image=evil.exe,CommandLine=evil.exe -enc AAAA`}}},
		{"sysmon hashes, case-insensitive",
			`[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:name LIKE '%.exe']`, "",
			[]got{{1, "rule 0", "high", 1, "Hashes=AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F,Image=evil.exe"}}},
		{"ECS hash and path",
			`[file:hashes.SHA256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:parent_directory_ref.path = '/tmp']`, "",
			[]got{{8, "rule 0", "high", 1, "file.hash.sha256=aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f,file.path=/tmp"}}},
		{"network traffic with references across formats",
			`[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']`, "",
			[]got{{2, "rule 0", "high", 1, "DestinationIp=198.51.100.7,DestinationPort=443,Protocol=tcp"}}},
		{"IPv6 and ports from ECS",
			`[network-traffic:dst_ref.value ISSUBSET '2001:db8::/32' AND network-traffic:dst_port > 8000]`, "",
			[]got{{5, "rule 0", "high", 1, "destination.ip=2001:db8::7,destination.port=8443"}}},
		{"zeek host + uri makes a URL",
			`[url:value LIKE 'http://%.bad.example/%.bin']`, "",
			[]got{{6, "rule 0", "high", 1, "host+uri=http://files.bad.example/payload.bin"}}},
		{"domains from Sysmon, ECS, Zeek, Suricata",
			`[domain-name:value LIKE '%bad.example' OR domain-name:value = 'evil.example']`, "",
			[]got{{3, "rule 0", "high", 1, "QueryName=c2.bad.example"}, {5, "rule 0", "high", 1, "dns.question.name=bad.example"},
				{6, "rule 0", "high", 1, "host=files.bad.example"}, {7, "rule 0", "high", 1, "dns.rrname=evil.example"}}},
		{"email addresses",
			`[email-addr:value MATCHES '@bad\\.example$']`, "",
			[]got{{9, "rule 0", "high", 1, "mailfrom=ceo@bad.example"}}},
		{"registry run key",
			`[windows-registry-key:key LIKE '%\\CurrentVersion\\Run\\%' AND windows-registry-key:values[*].data LIKE '%.exe']`, "",
			[]got{{10, "rule 0", "high", 1, `TargetObject=HKLM\Software\Microsoft\Windows\CurrentVersion\Run\evil,Details=C:\evil.exe`}}},
		{"user and parent",
			`[process:creator_user_ref.account_login = 'bob' AND process:parent_ref.image_ref.name = 'explorer.exe']`, "",
			[]got{{1, "rule 0", "high", 1, "User=bob,ParentImage=explorer.exe"}}},
		{"dropped script after process start",
			`([process:image_ref.name = 'evil.exe'] FOLLOWEDBY [file:name LIKE '%.ps1']) WITHIN 60 SECONDS`, `,"confidence":50`,
			[]got{{4, "rule 0", "medium", 2, "TargetFilename=drop.ps1"}}},
		{"window too short",
			`([process:image_ref.name = 'evil.exe'] FOLLOWEDBY [email-addr:value = 'ceo@bad.example']) WITHIN 5 SECONDS`, "", nil},
		{"repeats",
			`[process:image_ref.name = 'evil.exe'] REPEATS 3 TIMES WITHIN 10 SECONDS`, `,"labels":["severity:critical"]`,
			[]got{{3, "rule 0", "critical", 3, "Image=evil.exe"}}},
		{"no longer valid",
			`[domain-name:value = 'evil.example']`, `,"valid_until":"2026-03-01T10:00:07Z"`, nil},
		{"not yet valid",
			`[domain-name:value LIKE '%example']`, `,"valid_from":"2026-03-01T10:00:06Z"`,
			[]got{{6, "rule 0", "high", 1, "host=files.bad.example"}, {7, "rule 0", "high", 1, "dns.rrname=evil.example"}}},
		{"valid until",
			`[domain-name:value = 'evil.example' OR domain-name:value = 'c2.bad.example']`, `,"valid_until":"2026-03-01T10:00:05Z"`,
			[]got{{3, "rule 0", "high", 1, "QueryName=c2.bad.example"}}},
		{"start stop",
			`[ipv4-addr:value ISSUBSET '203.0.113.0/24'] START t'2026-03-01T10:00:07Z' STOP t'2026-03-01T10:01:00Z'`, "",
			[]got{{7, "rule 0", "high", 1, "dest_ip=203.0.113.10"}}},
	}
	for _, tt := range tests {
		ind := newIndicator(t, 0, tt.pattern, tt.extra)
		e, rep := New([]stix.Object{ind}, Options{IncludeLookups: true})
		if rep.Loaded != 1 || len(rep.Errors) > 0 {
			t.Errorf("%s: New(%q) report = %+v, want one loaded", tt.name, tt.pattern, rep)
			continue
		}
		if diff := cmp.Diff(tt.want, runEngine(t, e, all), cmp.AllowUnexported(got{})); diff != "" {
			t.Errorf("%s: alerts of %q (-want +got):\n%s", tt.name, tt.pattern, diff)
		}
	}
}

func TestNewReport(t *testing.T) {
	objs := []stix.Object{
		newIndicator(t, 1, "[domain-name:value = 'a.example']", ""),                                      // look-up
		newIndicator(t, 2, "[domain-name:value LIKE '%.example']", ""),                                   // loaded
		newIndicator(t, 3, "[domain-name:value LIKE '%.example']", `,"revoked":true`),                    // revoked
		newIndicator(t, 4, "[domain-name:value = 'a.example'] FOLLOWEDBY [url:value = 'http://x/']", ""), // loaded
		newIndicator(t, 5, "rule x { condition: true }", ""),                                             // yara
		newIndicator(t, 6, "[domain-name:value MATCHES '(?<=a)b']", ""),                                  // error
	}
	objs[4].Raw = []byte(strings.Replace(string(objs[4].Raw), `"pattern_type":"stix"`, `"pattern_type":"yara"`, 1))
	e, rep := New(objs, Options{})
	if rep.Loaded != 2 || rep.Lookups != 1 || rep.Revoked != 1 || rep.Other != 1 || len(rep.Errors) != 1 || e.Rules() != 2 {
		t.Errorf("New report = %+v, rules %d; want loaded 2, lookups 1, revoked 1, other 1, errors 1", rep, e.Rules())
	}
	if len(rep.Errors) == 1 && !strings.Contains(rep.Errors[0].Error(), "RE2") {
		t.Errorf("error = %v, want it to name RE2", rep.Errors[0])
	}
}
