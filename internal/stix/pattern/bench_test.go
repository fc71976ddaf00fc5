package pattern

import (
	"testing"
	"time"
)

const benchPattern = "([file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' OR file:name LIKE 'evil%'] " +
	"FOLLOWEDBY [network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND network-traffic:dst_port IN (443, 8443)]) WITHIN 300 SECONDS"

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPattern)))
	for b.Loop() {
		if _, err := Parse(benchPattern); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatch feeds the sample observation (which satisfies both sides)
// to a matcher with a 300-second window, one second apart.
func BenchmarkMatch(b *testing.B) {
	p, err := Parse(benchPattern)
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewMatcher(p, Options{})
	if err != nil {
		b.Fatal(err)
	}
	obs := sampleObservation(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		obs.Time = t0.Add(time.Duration(i) * time.Second)
		i++
		m.Observe(obs)
	}
}

// BenchmarkMatchMiss is the common case: an observation that satisfies no
// comparison.
func BenchmarkMatchMiss(b *testing.B) {
	p, _ := Parse(benchPattern)
	m, _ := NewMatcher(p, Options{})
	o := NewObject("process")
	o.Set("command_line", "notepad.exe", "")
	obs := &Observation{Time: t0, Objects: []*Object{o}}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(obs)
	}
}
