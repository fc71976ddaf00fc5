package ioc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shieldwall/shieldwall/internal/stix"
)

// fakeLookups reads patterns of the form [type:path = 'v'] OR [type:path = 'w']
// (a stand-in for internal/stix/pattern in tests).
func fakeLookups(p string) ([]Lookup, bool) {
	var out []Lookup
	for term := range strings.SplitSeq(p, " OR ") {
		term = strings.TrimSpace(term)
		if !strings.HasPrefix(term, "[") || !strings.HasSuffix(term, "]") {
			return nil, false
		}
		lhs, rhs, ok := strings.Cut(term[1:len(term)-1], " = ")
		if !ok {
			return nil, false
		}
		typ, path, ok := strings.Cut(strings.TrimSpace(lhs), ":")
		if !ok || !strings.HasPrefix(rhs, "'") || !strings.HasSuffix(rhs, "'") {
			return nil, false
		}
		out = append(out, Lookup{ObjectType: typ, Path: path, Op: "=", Values: []string{rhs[1 : len(rhs)-1]}})
	}
	return out, true
}

func decode(t *testing.T, raw string) stix.Object {
	t.Helper()
	obj, _, err := stix.Decode([]byte(raw))
	if err != nil {
		t.Fatalf("stix.Decode(%s) = %v", raw, err)
	}
	return obj
}

const (
	indEvil    = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Evil C2","confidence":90,"labels":["malicious-activity"],"pattern":"[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '198.51.100.0/24'] OR [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","valid_until":"2027-01-01T00:00:00Z"}`
	indRevoked = `{"type":"indicator","spec_version":"2.1","id":"indicator--0a6f7b6e-6cb7-4d8a-8c54-0d3bb0b2a0c1","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","revoked":true,"pattern":"[domain-name:value = 'revoked.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`
	indComplex = `{"type":"indicator","spec_version":"2.1","id":"indicator--1b6f7b6e-6cb7-4d8a-8c54-0d3bb0b2a0c1","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[process:name = 'x' AND process:pid = 4]","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`
	indSigma   = `{"type":"indicator","spec_version":"2.1","id":"indicator--2b6f7b6e-6cb7-4d8a-8c54-0d3bb0b2a0c1","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"title: x","pattern_type":"sigma","valid_from":"2026-01-01T00:00:00Z"}`
	scoIPv4    = `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"192.0.2.77"}`
	scoURL     = `{"type":"url","spec_version":"2.1","id":"url--c1477287-23ac-5971-a010-5c287877fa60","value":"https://Bad.Example:443/dl?id=1"}`
	scoFile    = `{"type":"file","spec_version":"2.1","id":"file--5a27d487-c542-5f97-a131-a8866b477b46","hashes":{"MD5":"8D1F0A2D5C7B3E4F6A9B0C1D2E3F4A5B","SHA-1":"2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"}}`
	scoEmail   = `{"type":"email-addr","spec_version":"2.1","id":"email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3","value":"ceo@Phish.Example"}`
	scoDomain  = `{"type":"domain-name","spec_version":"2.1","id":"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","value":"bad.example"}`
	scoIPv6    = `{"type":"ipv6-addr","spec_version":"2.1","id":"ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1","value":"2001:db8::bad"}`
)

func TestAddObject(t *testing.T) {
	b := NewBuilder(0)
	c := Compiler{Lookups: fakeLookups}
	for _, raw := range []string{indEvil, indRevoked, scoIPv4, scoURL, scoFile, scoEmail, scoDomain, scoIPv6} {
		if err := c.AddObject(b, decode(t, raw)); err != nil {
			t.Fatalf("AddObject(%.60s…) = %v", raw, err)
		}
	}
	for _, raw := range []string{indComplex, indSigma} {
		if err := c.AddObject(b, decode(t, raw)); !errors.Is(err, ErrNotLookup) {
			t.Errorf("AddObject(%.60s…) = %v, want ErrNotLookup", raw, err)
		}
	}
	ix, err := b.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	want := Ref{ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Name: "Evil C2", Confidence: 90,
		Labels: []string{"malicious-activity"}, ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		kind  Kind
		value string
		want  string // id, "" for a miss
	}{
		{Domain, "www.evil.example", want.ID},
		{IPv4, "198.51.100.200", want.ID},
		{SHA256, "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F", want.ID},
		{Domain, "revoked.example", ""},
		{IPv4, "192.0.2.77", "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"},
		{URL, "https://bad.example/dl?id=1", "url--c1477287-23ac-5971-a010-5c287877fa60"},
		{MD5, "8d1f0a2d5c7b3e4f6a9b0c1d2e3f4a5b", "file--5a27d487-c542-5f97-a131-a8866b477b46"},
		{SHA1, "2AAE6C35C94FCFB415DBE95F408B9CE91EE846ED", "file--5a27d487-c542-5f97-a131-a8866b477b46"},
		{Email, "CEO@phish.example", "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3"},
		{Domain, "x.bad.example", "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"},
		{IPv6, "2001:db8:0::bad", "ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1"},
	}
	for _, tt := range tests {
		refs, ok := ix.Lookup(tt.kind, tt.value)
		got := ""
		if ok {
			got = refs[0].ID
		}
		if got != tt.want || len(refs) > 1 {
			t.Errorf("Lookup(%v, %q) = %v, want %q", tt.kind, tt.value, refs, tt.want)
		}
	}
	refs, _ := ix.Lookup(Domain, "evil.example")
	if len(refs) != 1 || !cmp.Equal(refs[0], want) {
		t.Errorf("Lookup(domain, evil.example) = %+v, want [%+v]", refs, want)
	}
}

func TestLookupKind(t *testing.T) {
	tests := []struct {
		l    Lookup
		want Kind
	}{
		{Lookup{ObjectType: "file", Path: "hashes.'SHA-256'", Op: "="}, SHA256},
		{Lookup{ObjectType: "file", Path: "hashes.MD5", Op: "IN"}, MD5},
		{Lookup{ObjectType: "file", Path: "hashes.'SHA3-256'", Op: "="}, KindInvalid},
		{Lookup{ObjectType: "ipv4-addr", Path: "value", Op: "ISSUBSET"}, IPv4},
		{Lookup{ObjectType: "domain-name", Path: "value", Op: "ISSUBSET"}, KindInvalid},
		{Lookup{ObjectType: "url", Path: "value", Op: "LIKE"}, KindInvalid},
		{Lookup{ObjectType: "email-message", Path: "from_ref.value", Op: "="}, Email},
	}
	for _, tt := range tests {
		got, _ := lookupKind(tt.l)
		if got != tt.want {
			t.Errorf("lookupKind(%+v) = %v, want %v", tt.l, got, tt.want)
		}
	}
}
