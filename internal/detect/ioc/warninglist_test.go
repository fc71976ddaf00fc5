package ioc

import (
	"errors"
	"os"
	"sync"
	"testing"
)

const warningListDir = "../../../../shared/corpora/misp/warninglists"

var realLists = sync.OnceValues(func() (*Suppressor, error) { return LoadWarningLists(warningListDir) })

func loadRealLists(t *testing.T) *Suppressor {
	t.Helper()
	if _, err := os.Stat(warningListDir); err != nil {
		t.Skipf("MISP warning lists not available at %s: %v", warningListDir, err)
	}
	s, err := realLists()
	if s == nil {
		t.Fatalf("LoadWarningLists(%s) = %v", warningListDir, err)
	}
	if err != nil {
		t.Logf("LoadWarningLists: some entries skipped: %v", err)
	}
	return s
}

func TestSuppressedRealLists(t *testing.T) {
	s := loadRealLists(t)
	tests := []struct {
		kind  Kind
		value string
		want  string // list name, "" when not suppressed
	}{
		{IPv4, "8.8.8.8", "List of known IPv4 public DNS resolvers"},
		{IPv4, "10.0.0.1", "List of RFC 1918 CIDR blocks"},
		{IPv4, "192.168.77.1", "List of RFC 1918 CIDR blocks"},
		{IPv4, "10.0.0.0/16", "List of RFC 1918 CIDR blocks"},
		{Domain, "google.com", "Top 1000 websites from Cisco Umbrella"},
		{Domain, "cdn.mozilla.net", "Top 10K most-used sites from Tranco"},
		{URL, "https://www.google.com/search?q=x", "Top 1000 websites from Cisco Umbrella"},
		{MD5, "D41D8CD98F00B204E9800998ECF8427E", "List of known hashes with common false-positives (based on Florian Roth input list)"},
		{SHA512, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", "List of known hashes for empty files"},
		{IPv6, "fe80::1", "List of IPv6 link local blocks"},
		{IPv4, "198.51.100.7", "List of RFC 5735 CIDR blocks"}, // TEST-NET-2
		{IPv4, "45.77.1.2", ""},
		{Domain, "10.in-addr.arpa", "List of RFC 6761 Special-Use Domain Names"},
		{Domain, "evil-c2-server.example", ""}, // string lists match exactly
		{Domain, "evil-c2-server.xyz", ""},
		{SHA256, "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", ""},
	}
	for _, tt := range tests {
		got, ok := s.Suppressed(tt.kind, tt.value)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("Suppressed(%v, %q) = %q, %v, want %q", tt.kind, tt.value, got, ok, tt.want)
		}
	}
}

func TestBuilderSuppresses(t *testing.T) {
	s := loadRealLists(t)
	b := NewBuilder(0)
	b.Suppressor = s
	err := b.Add(IPv4, "8.8.8.8", Ref{ID: "indicator--x"})
	var se *SuppressedError
	if !errors.As(err, &se) || se.List != "List of known IPv4 public DNS resolvers" {
		t.Errorf("Add(ipv4, 8.8.8.8) = %v, want a SuppressedError naming public DNS", err)
	}
	if err := b.Add(IPv4, "45.77.1.2", Ref{ID: "indicator--x"}); err != nil {
		t.Errorf("Add(ipv4, 45.77.1.2) = %v, want nil", err)
	}
}

func TestSuppressorTypes(t *testing.T) {
	s := NewSuppressor()
	lists := []WarningList{
		{Name: "subs", Type: "substring", List: []string{"windowsupdate"}, MatchingAttributes: []string{"url", "hostname"}},
		{Name: "re", Type: "regex", List: []string{`^https?://[^/]*\.corp\.example/`}, MatchingAttributes: []string{"url"}},
		{Name: "hashes-only", Type: "string", List: []string{"abc.example"}, MatchingAttributes: []string{"md5"}},
	}
	for _, l := range lists {
		if err := s.Add(l); err != nil {
			t.Fatalf("Add(%q) = %v", l.Name, err)
		}
	}
	if err := s.Add(WarningList{Name: "bad", Type: "regex", List: []string{"(?<=x)"}}); err == nil {
		t.Errorf("Add(bad regex) = nil, want an error")
	}
	tests := []struct {
		kind  Kind
		value string
		want  string
	}{
		{Domain, "a.WindowsUpdate.com", "subs"},
		{URL, "http://x.corp.example/login", "re"},
		{URL, "http://x.corp.example.evil/login", ""},
		{Domain, "abc.example", ""}, // the list applies to md5 only
		{Email, "a@windowsupdate.com", ""},
	}
	for _, tt := range tests {
		got, _ := s.Suppressed(tt.kind, tt.value)
		if got != tt.want {
			t.Errorf("Suppressed(%v, %q) = %q, want %q", tt.kind, tt.value, got, tt.want)
		}
	}
}
