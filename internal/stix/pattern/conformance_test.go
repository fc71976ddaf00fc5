package pattern

import (
	"testing"
	"time"
)

// These scenarios restate, as test vectors, the observation-expression and
// temporal-qualifier cases of the OASIS reference matcher
// (oasis-open/cti-pattern-matcher, stix2matcher/test/v21/
// test_observation_exprs.py and test_temporal_qualifiers.py, BSD-3-Clause),
// with STIX 2.1 keywords and t'' timestamps. The reference matcher works on
// a batch; ours is fed the same observations in time order.

type person struct {
	at   string
	name string
	age  int64
}

func runPeople(t *testing.T, pattern string, people []person) bool {
	t.Helper()
	p, err := Parse(pattern)
	if err != nil {
		t.Fatalf("Parse(%q) = %v", pattern, err)
	}
	m, err := NewMatcher(p, Options{})
	if err != nil {
		t.Fatalf("NewMatcher(%q) = %v", pattern, err)
	}
	matched := false
	for _, pp := range people {
		tm, err := time.Parse(time.RFC3339Nano, pp.at)
		if err != nil {
			t.Fatal(err)
		}
		o := NewObject("person")
		o.Set("name", pp.name, "")
		o.Set("age", pp.age, "")
		if len(m.Observe(&Observation{Time: tm, Objects: []*Object{o}})) > 0 {
			matched = true
		}
	}
	return matched
}

func TestConformanceObservationOperators(t *testing.T) {
	people := []person{ // time order: alice, carol, bob
		{"2004-10-11T21:44:58Z", "alice", 10},
		{"2006-11-03T07:42:18.96Z", "carol", 22},
		{"2008-05-09T01:21:58.6Z", "bob", 17},
	}
	tests := []struct {
		pattern string
		want    bool
	}{
		{"[person:name='alice'] AND [person:age>20]", true},
		{"[person:name='alice'] OR [person:name='carol']", true},
		{"[person:name='alice'] OR [person:name='zelda']", true},
		{"[person:age>10] OR [person:name='bob'] OR [person:name>'amber']", true},
		{"[person:name='alice'] FOLLOWEDBY [person:name>'bill']", true},
		{"[person:age > 20] OR ([person:name > 'zelda'] FOLLOWEDBY [person:age < 0])", true},
		{"[person:age > 20] OR [person:name > 'zelda'] AND [person:age < 0]", true},
		{"([person:name='carol'] FOLLOWEDBY [person:name < 'elizabeth']) AND [person:age < 15]", true},
		{"[person:name='alice'] AND [person:name='zelda']", false},
		{"[person:name='alice'] AND [person:age=10]", false},
		{"[person:name='alice'] FOLLOWEDBY [person:age=10]", false},
		{"[person:name='mary'] OR [person:name='zelda']", false},
		{"[person:age > 70] OR [person:name > 'zelda'] AND [person:name MATCHES '^...?$']", false},
		{"[person:name='bob'] FOLLOWEDBY [person:age<15]", false},
		{"[person:age > 20] OR [person:name > 'zelda'] FOLLOWEDBY [person:age < 0]", false},
		{"([person:age > 20] OR [person:name > 'zelda']) AND [person:age < 0]", false},
		{"[person:name='carol'] FOLLOWEDBY [person:name < 'elizabeth'] AND [person:age < 15]", false},
	}
	for _, tt := range tests {
		if got := runPeople(t, tt.pattern, people); got != tt.want {
			t.Errorf("match %q = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

func TestConformanceQualifiers(t *testing.T) {
	people := []person{
		{"1994-11-29T13:37:52Z", "alice", 1},
		{"1994-11-29T13:37:57Z", "bob", 2},
		{"1994-11-29T13:38:02Z", "carol", 3},
	}
	tests := []struct {
		pattern string
		want    bool
	}{
		{"[person:name = 'bob'] WITHIN 1 SECONDS", true},
		{"[person:name = 'bob'] WITHIN .0001 SECONDS", true},
		{"[person:name = 'alice'] AND [person:name < 'carol'] WITHIN 1 SECONDS", true},
		{"([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 5 SECONDS", true},
		{"([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 6 SECONDS", true},
		{"([person:name = 'alice'] OR [person:name = 'darlene']) WITHIN 1 SECONDS", true},
		{"[person:name = 'bob'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"[person:name LIKE 'a%'] AND [person:name = 'bob'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"([person:name LIKE 'a%'] AND [person:name = 'bob']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"[person:name = 'alice'] OR [person:name = 'darlene'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"([person:name = 'alice'] OR [person:name = 'darlene']) START t'1994-11-29T13:37:52Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"[person:name MATCHES ''] REPEATS 2 TIMES START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'", true},
		{"([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 4 SECONDS", false},
		{"([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 4.9999 SECONDS", false},
		{"[person:name = 'elizabeth'] WITHIN 10 SECONDS", false},
		{"([person:name < 'alice'] OR [person:name = 'darlene']) WITHIN 10 SECONDS", false},
		{"[person:name = 'bob'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:59Z'", false},
		{"([person:name LIKE 'a%'] AND [person:name = 'bob']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z'", false},
		{"([person:name LIKE 'z%'] OR [person:name = 'darlene']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z'", false},
		{"[person:name MATCHES ''] REPEATS 3 TIMES START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'", false},
		{"[person:name NOT LIKE 'foo'] START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z' REPEATS 3 TIMES", false},
	}
	for _, tt := range tests {
		if got := runPeople(t, tt.pattern, people); got != tt.want {
			t.Errorf("match %q = %v, want %v", tt.pattern, got, tt.want)
		}
	}
	for _, bad := range []string{
		"[person:name = 'alice'] WITHIN 0 SECONDS",
		"[person:name = 'alice'] WITHIN 1 SECOND",
		"[person:name = 'alice'] WITHIN -123.367 SECONDS",
		"[person:name = 'hannah'] START t'1994-11-29t13:37:58Z' STOP t'1994-11-29T13:37:58Z'",
		"[person:name = 'hannah'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:58z'",
		"[person:name = 'hannah'] START t'1994-11-29T13:37Z' STOP t'1994-11-29T13:37:58Z'",
		"[person:name = 'hannah'] START t'1994-11-29T13:37:58Z'",
		"[person:name = 'bob'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:58Z'",
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = nil error, want an error", bad)
		}
	}
}
