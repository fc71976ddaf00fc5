package ioc

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// seeds returns the kind/value pairs of testdata/seeds.txt.
func seeds(f *testing.F) [][2]string {
	f.Helper()
	file, err := os.Open("testdata/seeds.txt")
	if err != nil {
		f.Fatalf("fuzz seeds: %v", err)
	}
	defer file.Close()
	var out [][2]string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "\t"); ok {
			out = append(out, [2]string{k, v})
		}
	}
	if err := sc.Err(); err != nil {
		f.Fatalf("fuzz seeds: %v", err)
	}
	return out
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range seeds(f) {
		if s[0] == "url" {
			f.Add(s[1])
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := NormalizeURL(in)
		if err != nil {
			return
		}
		again, err := NormalizeURL(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeURL(%q) = %q, but NormalizeURL(%q) = %q, %v: not idempotent", in, n, n, again, err)
		}
	})
}

func FuzzAdd(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, kindName, value string) {
		k, err := ParseKind(kindName)
		if err != nil {
			k = Kind(len(kindName) % int(numKinds))
		}
		b := NewBuilder(0)
		if err := b.Add(k, value, Ref{ID: "indicator--fuzz"}); err != nil {
			return
		}
		ix, err := b.Build()
		if err != nil {
			t.Fatalf("Build() after Add(%v, %q) = %v", k, value, err)
		}
		if ix.Len() != 1 {
			t.Fatalf("Len() = %d after Add(%v, %q), want 1", ix.Len(), k, value)
		}
		if strings.Contains(value, "/") && (k == IPv4 || k == IPv6) {
			return // a network: looked up by address, not by its text
		}
		if refs, ok := ix.Lookup(k, value); !ok || refs[0].ID != "indicator--fuzz" {
			t.Fatalf("Lookup(%v, %q) = %v, %v after adding it, want a hit", k, value, refs, ok)
		}
	})
}
