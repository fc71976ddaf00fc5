package stix

import (
	"strings"
	"testing"
)

func TestNewID(t *testing.T) {
	a, b := NewID("indicator"), NewID("indicator")
	if a == b || !strings.HasPrefix(a, "indicator--") || checkIdentifier(a) != "" || a[len("indicator--")+14] != '4' {
		t.Errorf("NewID = %q, %q", a, b)
	}
}

func TestSCOID(t *testing.T) {
	tests := []struct {
		typ  string
		in   any
		want string
	}{
		// Computed independently with Python's uuid.uuid5(namespace,
		// '{"value":"198.51.100.3"}'). The spec's example id for this address
		// (ff26c055-...) is illustrative, not derived.
		{"ipv4-addr", map[string]any{"value": "198.51.100.3"}, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		// Key order and HTML characters do not change the canonical form.
		{"url", map[string]any{"value": "https://a.example/?q=<x>&y"}, SCOID("url", struct {
			V string `json:"value"`
		}{"https://a.example/?q=<x>&y"})},
	}
	for _, tt := range tests {
		if got := SCOID(tt.typ, tt.in); got != tt.want {
			t.Errorf("SCOID(%s, %v) = %s, want %s", tt.typ, tt.in, got, tt.want)
		}
	}
	if got, _ := canonicalJSON(map[string]any{"b": 1e21, "a": 0.000001, "c": "<&>\u2028", "é": 1, "z": 100.0}); string(got) != `{"a":0.000001,"b":1e+21,"c":"<&>`+"\u2028"+`","z":100,"é":1}` {
		t.Errorf("canonicalJSON = %s", got)
	}
}
