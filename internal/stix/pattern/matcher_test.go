package pattern

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// ev is one observation of an x-e object named name at t0+sec.
type ev struct {
	sec  float64
	name string
}

func evObs(e ev) *Observation {
	o := NewObject("x-e")
	o.Set("name", e.name, "name")
	return &Observation{Time: t0.Add(time.Duration(e.sec * float64(time.Second))), Objects: []*Object{o}}
}

// run feeds the events and returns, per event that completed a match, the
// event index (1-based sequence) and the sequences of its first match.
func run(t *testing.T, pattern string, evs []ev) []string {
	t.Helper()
	p, err := Parse(pattern)
	if err != nil {
		t.Fatalf("Parse(%q) = %v", pattern, err)
	}
	m, err := NewMatcher(p, Options{})
	if err != nil {
		t.Fatalf("NewMatcher(%q) = %v", pattern, err)
	}
	var out []string
	for _, e := range evs {
		ms := m.Observe(evObs(e))
		if len(ms) > 0 {
			out = append(out, fmt.Sprint(ms[0].Seqs))
		}
	}
	return out
}

func TestMatcherQualifiers(t *testing.T) {
	a, b, c := "a", "b", "c"
	tests := []struct {
		name, pattern string
		evs           []ev
		want          []string
	}{
		{"single", "[x-e:name = 'a']", []ev{{0, a}, {1, b}, {2, a}}, []string{"[1]", "[3]"}},
		{"and needs both", "[x-e:name = 'a'] AND [x-e:name = 'b']", []ev{{0, a}, {1, a}, {2, b}}, []string{"[2 3]"}},
		{"and either order", "[x-e:name = 'a'] AND [x-e:name = 'b']", []ev{{0, b}, {5, a}}, []string{"[1 2]"}},
		{"and distinct observations", "[x-e:name = 'a'] AND [x-e:name LIKE 'a%']", []ev{{0, a}, {1, a}}, []string{"[1 2]"}},
		{"or", "[x-e:name = 'a'] OR [x-e:name = 'b']", []ev{{0, c}, {1, b}, {2, a}}, []string{"[2]", "[3]"}},
		{"followedby order", "[x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']", []ev{{0, b}, {1, a}}, nil},
		{"followedby", "[x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']", []ev{{0, b}, {1, a}, {2, c}, {3, b}}, []string{"[2 4]"}},
		{"followedby same time", "[x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']", []ev{{1, a}, {1, b}}, []string{"[1 2]"}},
		{"followedby same time, right first", "[x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']", []ev{{0, b}, {1, b}, {1, a}}, []string{"[2 3]"}},
		{"followedby keeps scanning", "[x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']", []ev{{0, a}, {1, c}, {2, a}, {3, b}}, []string{"[3 4]"}},
		{"within inside", "([x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']) WITHIN 10 SECONDS", []ev{{0, a}, {10, b}}, []string{"[1 2]"}},
		{"within outside", "([x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']) WITHIN 10 SECONDS", []ev{{0, a}, {10.5, b}}, nil},
		{"within slides", "([x-e:name = 'a'] AND [x-e:name = 'b']) WITHIN 10 SECONDS", []ev{{0, a}, {11, a}, {20, b}}, []string{"[2 3]"}},
		{"within fractional", "([x-e:name = 'a'] AND [x-e:name = 'b']) WITHIN 0.5 SECONDS", []ev{{0, a}, {0.4, b}, {1, b}}, []string{"[1 2]"}},
		{"repeats", "[x-e:name = 'a'] REPEATS 3 TIMES", []ev{{0, a}, {1, b}, {2, a}, {3, a}, {4, a}}, []string{"[1 3 4]", "[3 4 5]"}},
		{"repeats within", "[x-e:name = 'a'] REPEATS 3 TIMES WITHIN 5 SECONDS", []ev{{0, a}, {3, a}, {6, a}, {7, a}, {8, a}}, []string{"[2 3 4]", "[3 4 5]"}},
		{"repeats within none", "[x-e:name = 'a'] REPEATS 3 TIMES WITHIN 5 SECONDS", []ev{{0, a}, {4, a}, {8, a}, {12, a}}, nil},
		{"start stop", "[x-e:name = 'a'] START t'2026-01-02T03:04:07Z' STOP t'2026-01-02T03:04:10Z'",
			[]ev{{0, a}, {2, a}, {4.999, a}, {5, a}}, []string{"[2]", "[3]"}},
		{"followedby chain", "[x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b'] FOLLOWEDBY [x-e:name = 'c']",
			[]ev{{0, a}, {1, c}, {2, b}, {3, c}}, []string{"[1 3 4]"}},
		{"and of or", "([x-e:name = 'a'] OR [x-e:name = 'b']) AND [x-e:name = 'c']", []ev{{0, b}, {1, c}}, []string{"[1 2]"}},
		{"qualified operand", "[x-e:name = 'a'] REPEATS 2 TIMES FOLLOWEDBY [x-e:name = 'b']", []ev{{0, a}, {1, b}, {2, a}, {3, b}}, []string{"[1 3 4]"}},
	}
	for _, tt := range tests {
		got := run(t, tt.pattern, tt.evs)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: matches of %q = %v, want %v", tt.name, tt.pattern, got, tt.want)
		}
	}
}

// TestMatcherBoundedMemory feeds many non-completing observations and
// checks that the partial matches stay bounded by the window or the cap.
func TestMatcherBoundedMemory(t *testing.T) {
	tests := []struct {
		pattern string
		max     int
	}{
		{"([x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']) WITHIN 10 SECONDS", 12},
		{"[x-e:name = 'a'] REPEATS 10000 TIMES WITHIN 5 SECONDS", 7},
		{"[x-e:name = 'a'] FOLLOWEDBY [x-e:name = 'b']", 100},
	}
	for _, tt := range tests {
		p, err := Parse(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := NewMatcher(p, Options{MaxPartials: 100})
		for i := range 5000 {
			m.Observe(evObs(ev{float64(i), "a"}))
		}
		if got := m.Partials(); got > tt.max || got == 0 {
			t.Errorf("%q: %d partial matches after 5000 observations, want 1..%d", tt.pattern, got, tt.max)
		}
	}
}

func TestMatcherHits(t *testing.T) {
	p, _ := Parse("[x-e:name = 'a'] FOLLOWEDBY [x-e:name LIKE 'b%']")
	m, _ := NewMatcher(p, Options{})
	m.Observe(evObs(ev{0, "a"}))
	ms := m.Observe(evObs(ev{1, "bz"}))
	if len(ms) != 1 {
		t.Fatalf("Observe = %v, want one match", ms)
	}
	var got []string
	for _, h := range ms[0].Hits {
		got = append(got, fmt.Sprintf("%d %s=%s (%s)", h.Seq, h.Path, h.Value, h.Origin))
	}
	want := "1 x-e:name=a (name); 2 x-e:name=bz (name)"
	if strings.Join(got, "; ") != want {
		t.Errorf("hits = %q, want %q", strings.Join(got, "; "), want)
	}
	if !ms[0].First.Equal(t0) || !ms[0].Last.Equal(t0.Add(time.Second)) {
		t.Errorf("First, Last = %v, %v, want %v, %v", ms[0].First, ms[0].Last, t0, t0.Add(time.Second))
	}
}
