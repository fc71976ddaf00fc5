package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const corpusDir = "../../../shared/corpora/stix"

// corpusFiles returns the STIX bundles and objects of the shared corpus, or
// skips the test when the corpus is absent.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("STIX corpus not found at %s (shared/corpora absent): %v", corpusDir, err)
	}
	var files []string
	for _, pat := range []string{
		"oasis-examples/*.json",
		"attack/*.json",
		"oasis-json-schemas/examples/*.json",
		"oasis-json-schemas/examples/threat-reports/*.json",
	} {
		m, err := filepath.Glob(filepath.Join(corpusDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 15 {
		t.Fatalf("found only %d corpus files", len(files))
	}
	return files
}

// corpusObjects calls fn for every object of file, whether the file is a
// bundle or a single object.
func corpusObjects(t testing.TB, file string, fn func(raw json.RawMessage)) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if head.Type != "bundle" {
		fn(data)
		return 1
	}
	br := NewBundleReader(bytes.NewReader(data))
	n := 0
	for {
		raw, err := br.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		n++
		fn(raw)
	}
}

func TestCorpusValidates(t *testing.T) {
	total := 0
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			nerr := 0
			n := corpusObjects(t, f, func(raw json.RawMessage) {
				o, _, err := Decode(raw)
				if err != nil {
					if nerr++; nerr <= 20 {
						t.Errorf("Decode: %v", err)
					}
					return
				}
				// Round trip: Raw is the input, as a JSON value.
				var want, got any
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(o.Raw, &got); err != nil {
					t.Fatalf("Raw of %s is not JSON: %v", o.ID, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Raw of %s differs from input (-want +got):\n%s", o.ID, diff)
				}
				var compact bytes.Buffer
				_ = json.Compact(&compact, raw)
				if !bytes.Equal(compact.Bytes(), o.Raw) {
					t.Errorf("Raw of %s is not the compacted input", o.ID)
				}
			})
			if nerr > 0 {
				t.Errorf("%d of %d objects invalid", nerr, n)
			}
			total += n
		})
	}
	if total < 24771+2148 {
		t.Errorf("validated %d objects, want at least %d", total, 24771+2148)
	}
}
