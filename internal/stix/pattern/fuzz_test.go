package pattern

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that errors are positioned
// inside the input, and that whatever parses renders to text that parses
// to the same rendering and compiles into a matcher.
func FuzzParse(f *testing.F) {
	for _, s := range readLines(f, "testdata/spec-examples.txt") {
		f.Add(s)
	}
	f.Add("[a-b:c[*].'d' NOT ISSUPERSET '::/0'] REPEATS 2 TIMES")
	obs := sampleObservation(f)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", s, err)
			}
			if se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("Parse(%q) error offset %d outside the input", s, se.Offset)
			}
			return
		}
		r := p.String()
		p2, err := Parse(r)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its rendering %q fails: %v", s, r, err)
		}
		if r2 := p2.String(); r2 != r {
			t.Fatalf("rendering of %q unstable: %q then %q", s, r, r2)
		}
		m, err := NewMatcher(p, Options{})
		if err != nil {
			t.Fatalf("NewMatcher(Parse(%q)) = %v", s, err)
		}
		m.Observe(obs)
		m.Observe(obs)
	})
}
