package jsonlines

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/shieldwall/shieldwall/internal/event"
)

func benchLines(b *testing.B, lines [][]byte, f func([]byte, []event.Field) ([]event.Field, error)) {
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var dst []event.Field
	var err error
	for b.Loop() {
		for _, l := range lines {
			if dst, err = f(l, dst[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(lines))/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkFlatten(b *testing.B) {
	windows, zeek := corpusLines(b)
	b.Run("windows/ours", func(b *testing.B) { benchLines(b, windows, Flatten) })
	b.Run("windows/encoding_json", func(b *testing.B) { benchLines(b, windows, refUnmarshal) })
	b.Run("zeek/ours", func(b *testing.B) { benchLines(b, zeek, Flatten) })
	b.Run("zeek/encoding_json", func(b *testing.B) { benchLines(b, zeek, refUnmarshal) })
}

func BenchmarkParse(b *testing.B) {
	windows, _ := corpusLines(b)
	var size int64
	for _, l := range windows {
		size += int64(len(l))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range windows {
			if _, err := (Parser{}).Parse("bench", 0, l); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(windows))/b.Elapsed().Seconds(), "lines/s")
}

// FuzzJSONLine checks the Decoder against encoding/json: both accept the
// same objects and produce the same fields in the same order.
func FuzzJSONLine(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":null}],"c":"\u00e9\ud83d\ude00"}`, `{"a":1e5,"b":-0.5,"a":{"x":true}}`, `{"a":"\x"}`, "{\"a\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	for _, s := range corpusSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		Lookup(line, TimeKeys) // must not panic on anything
		got, err := Flatten(line, nil)
		if errors.Is(err, ErrTooDeep) {
			return
		}
		valid := json.Valid(line) && utf8.Valid(line) && bytes.HasPrefix(bytes.TrimLeft(line, " \t\r\n"), []byte("{"))
		if valid != (err == nil) {
			t.Fatalf("Flatten(%q) error %v, encoding/json says valid object = %v", line, err, valid)
		}
		if !valid {
			return
		}
		want, err := refTokens(line)
		if err != nil {
			t.Fatalf("refTokens(%q): %v", line, err)
		}
		if len(want)+len(got) > 0 && !slices.Equal(want, got) {
			t.Fatalf("Flatten(%q) differs from encoding/json (-json +ours):\n%s", line, cmp.Diff(want, got))
		}
	})
}
