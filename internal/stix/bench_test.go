package stix

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkDecodeIndicator(b *testing.B) {
	raw := []byte(bases["indicator"])
	benchDecode(b, raw)
}

func BenchmarkDecodeAttackPattern(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "attack/enterprise-attack-2.1-rebuilt.json"))
	if err != nil {
		b.Skipf("ATT&CK corpus absent: %v", err)
	}
	br := NewBundleReader(bytes.NewReader(data))
	var raw []byte
	for {
		r, err := br.Next()
		if err != nil {
			b.Fatal("no attack-pattern in corpus")
		}
		if bytes.Contains(r[:40], []byte(`"attack-pattern"`)) {
			raw = r
			break
		}
	}
	benchDecode(b, raw)
}

func BenchmarkBundleReader(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		br := NewBundleReader(&bigBundle{n: 1000})
		for {
			if _, err := br.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchDecode(b *testing.B, raw []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	start := cpuTime()
	for b.Loop() {
		if _, _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "objects/cpu-s")
	}
}

// BenchmarkBaselineUnmarshalMap is the alternative Decode does not use:
// encoding/json into map[string]any, before any validation.
func BenchmarkBaselineUnmarshalMap(b *testing.B) {
	raw := []byte(bases["indicator"])
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "objects/cpu-s")
	}
}
