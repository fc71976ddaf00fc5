package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzDecode(f *testing.F) {
	addSeeds(f, "testdata/objects/*.json")
	for _, b := range bases {
		f.Add([]byte(b))
	}
	for _, tl := range TLPs() {
		f.Add([]byte(tl.Object.Raw))
	}
	if m, _ := filepath.Glob(filepath.Join(corpusDir, "oasis-examples/*.json")); len(m) > 0 {
		for _, file := range m {
			data, _ := os.ReadFile(file)
			br := NewBundleReader(bytes.NewReader(data))
			for {
				raw, err := br.Next()
				if err != nil {
					break
				}
				f.Add([]byte(raw))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, warns, err := Decode(data)
		if err != nil {
			var ie *InvalidError
			if !errors.As(err, &ie) || len(ie.Issues) == 0 {
				t.Fatalf("Decode error %v is not a non-empty *InvalidError", err)
			}
			for _, is := range ie.Issues {
				if is.Severity != SeverityError {
					t.Fatalf("warning in InvalidError: %v", is)
				}
			}
			return
		}
		// Accepted input is JSON for encoding/json too, and Raw is exactly
		// its compacted form.
		if !json.Valid(data) {
			t.Fatalf("Decode accepted invalid JSON %q", data)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, data); err != nil || !bytes.Equal(c.Bytes(), o.Raw) {
			t.Fatalf("Raw %q is not the compacted input", o.Raw)
		}
		for _, w := range warns {
			if w.Severity != SeverityWarning {
				t.Fatalf("error among warnings: %v", w)
			}
		}
		if o.Type == "" || (o.ID == "" && o.Type != "") {
			t.Fatalf("valid object without type or id: %+v", o)
		}
		// Upgrading a valid 2.1 object changes nothing.
		up, changed, err := Upgrade(data)
		if err != nil || changed || !bytes.Equal(up, data) {
			t.Fatalf("Upgrade of a valid 2.1 object = %q, %v, %v", up, changed, err)
		}
	})
}

func FuzzBundleReader(f *testing.F) {
	addSeeds(f, "testdata/bundles/*.json")
	f.Add([]byte(`{"objects":[1,{"type":"x"}],"type":"bundle","spec_version":"2.0"}`))
	f.Add([]byte(`{"type":"bundle","objects":[{"a":[{}]}, "x"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := NewBundleReader(bytes.NewReader(data))
		malformed := false // an element was refused as malformed JSON
		for i := 0; ; i++ {
			if i > len(data)+2 {
				t.Fatalf("reader returned %d results from %d bytes", i, len(data))
			}
			raw, err := br.Next()
			if err == io.EOF {
				if !malformed && !json.Valid(data) {
					t.Fatalf("reader ended cleanly on invalid JSON %q", data)
				}
				return
			}
			var ee *ElementError
			if errors.As(err, &ee) {
				malformed = malformed || strings.HasPrefix(ee.Err.Error(), "malformed JSON")
				continue
			}
			if err != nil {
				if _, again := br.Next(); again == nil {
					t.Fatalf("terminal error %v not sticky", err)
				}
				return
			}
			if !json.Valid(raw) || raw[0] != '{' {
				t.Fatalf("element %q is not a JSON object", raw)
			}
		}
	})
}

// FuzzParseJSON checks the package's JSON parser against encoding/json.
func FuzzParseJSON(f *testing.F) {
	for _, b := range bases {
		f.Add([]byte(b))
	}
	f.Add([]byte(`["\ud83d\ude00", "\ud800", 1e5, -0.5, {"a":null}, true, false]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSON(data)
		valid := json.Valid(data)
		if err == nil && !valid {
			t.Fatalf("parseJSON accepted invalid JSON %q", data)
		}
		if err != nil {
			var se *syntaxError
			if valid && !(errors.As(err, &se) && se.msg == errBadUTF8.Error()) && !bytes.Contains([]byte(err.Error()), []byte("max depth")) {
				t.Fatalf("parseJSON rejected valid JSON %q: %v", data, err)
			}
			return
		}
		var want, got any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber() // numbers beyond float64 are still JSON
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		out := appendJSON(nil, &v, false)
		dec = json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("appendJSON output %q invalid: %v", out, err)
		}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if !bytes.Equal(wb, gb) {
			t.Fatalf("value mismatch:\n%s\n%s", wb, gb)
		}
	})
}
