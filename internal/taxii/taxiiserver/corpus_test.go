package taxiiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// corpusDir is the shared corpora folder, from this package's directory.
const corpusDir = "../../../../shared/corpora/stix"

// readBundle returns the objects of a STIX bundle file, skipping the test
// when the corpora are absent.
func readBundle(tb testing.TB, path string) []json.RawMessage {
	tb.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		tb.Skipf("corpus %s absent (see ../shared/corpora/README.md)", path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var bundle struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(b, &bundle); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return bundle.Objects
}

// TestOASISExamples posts each OASIS example bundle and checks that every
// object is accounted for and that the stored ones come back byte for byte
// as compacted JSON.
func TestOASISExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "oasis-examples", "*.json"))
	if len(files) == 0 {
		t.Skipf("corpus %s/oasis-examples absent (see ../shared/corpora/README.md)", corpusDir)
	}
	f := newFixture(t)
	stored := 0
	for _, file := range files {
		objs := readBundle(t, file)
		body, _ := json.Marshal(map[string]any{"objects": objs})
		var st taxii.Status
		f.ok(req{method: http.MethodPost, path: objectsPath(collPrivate), body: string(body)}, http.StatusAccepted, &st)
		if st.TotalCount != len(objs) || st.SuccessCount+st.FailureCount != len(objs) {
			t.Errorf("%s: status %d = %d + %d, want %d objects", file, st.TotalCount, st.SuccessCount, st.FailureCount, len(objs))
		}
		for _, fl := range st.Failures {
			t.Logf("%s: refused %s: %s", filepath.Base(file), fl.ID, fl.Message)
		}
		for _, raw := range objs {
			var want bytes.Buffer
			json.Compact(&want, raw)
			var o struct{ ID, Modified string }
			json.Unmarshal(raw, &o)
			refused := false
			for _, fl := range st.Failures {
				refused = refused || fl.ID == o.ID
			}
			if refused {
				continue
			}
			var env envelopeOut
			f.ok(req{path: objectPath(collPrivate, o.ID) + "?match[version]=all"}, http.StatusOK, &env)
			found := false
			for _, got := range env.Objects {
				found = found || bytes.Equal(got, want.Bytes())
			}
			if !found {
				t.Errorf("%s: %s not served as posted:\nposted %s\nserved %s", filepath.Base(file), o.ID, want.Bytes(), env.Objects)
			}
			stored++
		}
	}
	if stored == 0 {
		t.Error("no example object was stored")
	}
}

// BenchmarkGetObjects serves pages of 1,000 objects of MITRE ATT&CK Mobile
// (about 2,100 real objects with custom properties) from a sqlitestore.
func BenchmarkGetObjects(b *testing.B) {
	objs := readBundle(b, filepath.Join(corpusDir, "attack", "mobile-attack-17.1.json"))
	f := newFixture(b)
	var valid []stix.Object
	for _, raw := range objs {
		if o, _, err := stix.Decode(raw); err == nil {
			valid = append(valid, o)
		}
	}
	if len(valid) < 1000 {
		b.Fatalf("only %d valid objects in the corpus", len(valid))
	}
	if _, err := f.db.Put(context.Background(), collShared, valid); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, path string }{
		{"objects", objectsPath(collShared) + "?limit=1000&match[version]=all"},
		{"manifest", collPath(collShared) + "manifest/?limit=1000&match[version]=all"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, bc.path, nil)
			r.Header.Set("Accept", taxii.MediaType)
			r.Header.Set("Authorization", "Bearer "+f.secrets[tokAlice])
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.n, w.status = 0, 0
				clear(w.header)
				f.srv.ServeHTTP(w, r)
				if w.status != http.StatusOK {
					b.Fatalf("GET = %d", w.status)
				}
			}
			b.SetBytes(int64(w.n))
		})
	}
}

// discardWriter counts what a handler writes, so that benchmarks measure
// the server rather than a recorder's growing buffer.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header  { return w.header }
func (w *discardWriter) WriteHeader(code int) { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}
