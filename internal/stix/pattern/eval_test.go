package pattern

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sampleObservation is a process that opened a connection to 198.51.100.7,
// with its image file, plus a domain and a list-valued custom object.
func sampleObservation(t testing.TB) *Observation {
	t.Helper()
	const js = `[
	 {"type":"file","id":"file--1","name":"evil.exe","size":371712,
	  "hashes":{"SHA-256":"AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F","MD5":"cead3f77f6cda6ec00f57d76c9a6879f"},
	  "created":"2014-01-13T07:03:17Z","magic_number_hex":"ffd8","parent_directory_ref":"directory--1"},
	 {"type":"directory","id":"directory--1","path":"C:\\Windows\\System32"},
	 {"type":"process","id":"process--1","pid":4242,"command_line":"evil.exe -k netsvcs","image_ref":"file--1"},
	 {"type":"ipv4-addr","id":"ipv4-addr--1","value":"198.51.100.7"},
	 {"type":"ipv6-addr","id":"ipv6-addr--1","value":"2001:db8:dead:beef::1"},
	 {"type":"network-traffic","id":"network-traffic--1","dst_ref":"ipv4-addr--1","dst_port":443,"protocols":["tcp","tls"],"is_active":true},
	 {"type":"domain-name","id":"domain-name--1","value":"www.example.com","resolves_to_refs":["ipv4-addr--1"]},
	 {"type":"artifact","id":"artifact--1","payload_bin":"aGVsbG8="},
	 {"type":"x-custom","id":"x-custom--1","foo":[{"bar":"one"},{"bar":"two"}],"ratio":0.25}
	]`
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var scos []map[string]any
	if err := dec.Decode(&scos); err != nil {
		t.Fatal(err)
	}
	o, err := FromSCOs(t0, scos, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestEvaluate checks each operator on one observation.
func TestEvaluate(t *testing.T) {
	tests := []struct {
		pattern string
		want    bool
	}{
		{"[file:name = 'evil.exe']", true},
		{"[file:name = 'EVIL.exe']", false},
		{"[file:name != 'good.exe']", true},
		{"[file:name NOT = 'evil.exe']", false},
		{"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", true},
		{"[file:hashes.sha256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", true},
		{"[file:hashes.MD5 = 'CEAD3F77F6CDA6EC00F57D76C9A6879F']", true},
		{"[file:hashes.MD5 = '00000000000000000000000000000000']", false},
		{"[file:size = 371712]", true},
		{"[file:size > 371711 AND file:size < 371713 AND file:size >= 371712 AND file:size <= 371712]", true},
		{"[file:size > 371712]", false},
		{"[file:size = 371712.0]", true},
		{"[file:name < 'f' AND file:name > 'e']", true},
		{"[file:created = t'2014-01-13T07:03:17Z']", true},
		{"[file:created < t'2014-01-13T07:03:17.001Z']", true},
		{"[file:created > t'2014-01-13T07:03:17Z']", false},
		{"[file:magic_number_hex = h'ffd8']", true},
		{"[file:magic_number_hex = h'ffd9']", false},
		{"[artifact:payload_bin = b'aGVsbG8=']", true},
		{"[file:name IN ('a.exe', 'evil.exe')]", true},
		{"[file:name IN ('a.exe', 'b.exe')]", false},
		{"[file:name NOT IN ('a.exe', 'b.exe')]", true},
		{"[process:pid IN (1, 4242)]", true},
		{"[file:name LIKE 'evil%']", true},
		{"[file:name LIKE 'evil._xe']", true},
		{"[file:name LIKE 'evil_exe']", true},
		{"[file:name LIKE 'evil']", false},
		{"[file:name LIKE 'EVIL%']", false},
		{"[process:command_line MATCHES '^evil\\\\.exe\\\\s+-k']", true},
		{"[process:command_line MATCHES 'svchost']", false},
		{"[process:pid MATCHES '^42']", true},
		{"[process:pid LIKE '%24_']", true},
		{"[process:pid = '4242']", false},
		{"[ipv4-addr:value ISSUBSET '198.51.100.0/24']", true},
		{"[ipv4-addr:value ISSUBSET '198.51.101.0/24']", false},
		{"[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", true},
		{"[ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']", true},
		{"[ipv6-addr:value ISSUBSET '198.51.100.0/24']", false},
		{"[ipv4-addr:value ISSUPERSET '198.51.100.7/32']", true},
		{"[ipv4-addr:value ISSUPERSET '198.51.100.0/24']", false},
		{"[network-traffic:dst_ref.value = '198.51.100.7']", true},
		{"[network-traffic:dst_ref.value ISSUBSET '198.51.0.0/16' AND network-traffic:dst_port = 443]", true},
		{"[network-traffic:dst_ref.type = 'ipv4-addr']", true},
		{"[network-traffic:protocols[*] = 'tls']", true},
		{"[network-traffic:protocols[0] = 'tcp']", true},
		{"[network-traffic:protocols[0] = 'tls']", false},
		{"[network-traffic:protocols[5] = 'tls']", false},
		{"[network-traffic:is_active = true]", true},
		{"[network-traffic:is_active = false]", false},
		{"[domain-name:resolves_to_refs[*].value = '198.51.100.7']", true},
		{"[process:image_ref.parent_directory_ref.path = 'C:\\\\Windows\\\\System32']", true},
		{"[process:image_ref.hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']", true},
		{"[x-custom:foo[*].bar = 'two']", true},
		{"[x-custom:foo[0].bar = 'two']", false},
		{"[x-custom:ratio < 0.5 AND x-custom:ratio > -1]", true},
		{"[EXISTS file:hashes.MD5]", true},
		{"[EXISTS file:hashes.'SHA-1']", false},
		{"[NOT EXISTS file:hashes.'SHA-1']", true},
		{"[NOT EXISTS file:name]", false},
		{"[file:name = 'evil.exe' AND file:size = 1]", false},
		{"[file:name = 'evil.exe' OR file:size = 1]", true},
		{"[file:name = 'evil.exe' AND domain-name:value = 'www.example.com']", true},
		{"[file:name = 'evil.exe' AND domain-name:value = 'nope.example']", false},
		{"[(file:name = 'x' OR file:size = 371712) AND process:pid = 4242]", true},
		{"[user-account:user_id = '0']", false},
		{"[file:size = 'big']", false},
		{"[file:name > 5]", false},
	}
	obs := sampleObservation(t)
	for _, tt := range tests {
		p, err := Parse(tt.pattern)
		if err != nil {
			t.Errorf("Parse(%q) = %v", tt.pattern, err)
			continue
		}
		m, err := NewMatcher(p, Options{})
		if err != nil {
			t.Errorf("NewMatcher(%q) = %v", tt.pattern, err)
			continue
		}
		got := m.Observe(obs)
		if (len(got) > 0) != tt.want {
			t.Errorf("match %q on sample = %v, want %v", tt.pattern, got, tt.want)
		}
		if tt.want && len(got) > 0 && len(got[0].Hits) == 0 {
			t.Errorf("match %q on sample: no hits reported", tt.pattern)
		}
	}
}

func TestHitsAndOrigin(t *testing.T) {
	o := NewObject("ipv4-addr")
	o.Set("value", "10.1.2.3", "DestinationIp")
	nt := NewObject("network-traffic")
	nt.Set("dst_ref", o, "")
	obs := &Observation{Time: t0, Objects: []*Object{nt, o}}
	p, err := Parse("[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8']")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewMatcher(p, Options{})
	got := m.Observe(obs)
	if len(got) != 1 || len(got[0].Hits) != 1 {
		t.Fatalf("Observe = %+v, want one match with one hit", got)
	}
	want := Hit{Seq: 1, Path: "network-traffic:dst_ref.value", Value: "10.1.2.3", Origin: "DestinationIp"}
	if got[0].Hits[0] != want {
		t.Errorf("hit = %+v, want %+v", got[0].Hits[0], want)
	}
}

func TestFromObservedData(t *testing.T) {
	raw := `{"type":"observed-data","first_observed":"2015-12-21T19:00:00Z","objects":{
	  "0":{"type":"ipv4-addr","value":"198.51.100.3"},
	  "1":{"type":"network-traffic","src_ref":"0","dst_port":80}}}`
	obs, err := FromObservedData([]byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Parse("[network-traffic:src_ref.value = '198.51.100.3' AND network-traffic:dst_port = 80]")
	m, _ := NewMatcher(p, Options{})
	if got := m.Observe(obs); len(got) != 1 {
		t.Errorf("Observe(observed-data) = %v, want one match", got)
	}
	if !obs.Time.Equal(time.Date(2015, 12, 21, 19, 0, 0, 0, time.UTC)) {
		t.Errorf("time = %v, want first_observed", obs.Time)
	}
}
