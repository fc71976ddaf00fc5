package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readAll drains a BundleReader: objects, per-element errors, terminal error.
func readAll(br *BundleReader) (objs []string, elemErrs []string, err error) {
	for i := 0; i < 1e6; i++ {
		raw, err := br.Next()
		var ee *ElementError
		switch {
		case err == io.EOF:
			return objs, elemErrs, nil
		case errors.As(err, &ee):
			elemErrs = append(elemErrs, ee.Error())
		case err != nil:
			return objs, elemErrs, err
		default:
			objs = append(objs, string(raw))
		}
	}
	return objs, elemErrs, errors.New("reader does not end")
}

func TestBundleReader(t *testing.T) {
	const a, b = `{"type":"x-a","id":"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`, `{"type":"x-b"}`
	tests := []struct {
		name     string
		in       string
		want     []string
		elemErrs []string
		spec     string
		id       string
		wantErr  string
	}{
		{name: "type first", in: `{"type":"bundle","id":"bundle--1","objects":[` + a + `,` + b + `]}`, want: []string{a, b}, id: "bundle--1"},
		{name: "objects first", in: `{"objects":[` + a + `],"spec_version":"2.0","type":"bundle","id":"bundle--2"}`, want: []string{a}, spec: "2.0", id: "bundle--2"},
		{name: "2.0 spec_version before", in: `{"spec_version":"2.0","objects":[` + b + `],"type":"bundle"}`, want: []string{b}, spec: "2.0"},
		{name: "whitespace and unknown keys", in: " {\n \"x_note\": {\"a\": [1,2]},\n \"type\": \"bundle\",\n \"objects\": [\n " + a + " ]\n }\n", want: []string{a}},
		{name: "empty objects", in: `{"type":"bundle","objects":[]}`},
		{name: "no objects", in: `{"type":"bundle","id":"bundle--3"}`, id: "bundle--3"},
		{name: "non-object elements", in: `{"type":"bundle","objects":[1,` + a + `,"s",[` + b + `],null]}`, want: []string{a},
			elemErrs: []string{"bundle object 0: not a JSON object", "bundle object 2: not a JSON object", "bundle object 3: not a JSON object", "bundle object 4: not a JSON object"}},
		{name: "truncated in object", in: `{"type":"bundle","objects":[` + a + `,{"type":"x`, want: []string{a}, wantErr: "stix bundle: unexpected end of input"},
		{name: "truncated after list", in: `{"type":"bundle","objects":[` + a + `]`, want: []string{a}, wantErr: "stix bundle: unexpected end of input"},
		{name: "broken framing", in: `{"type":"bundle","objects":[` + a + ` ` + b + `]}`, want: []string{a}, wantErr: "stix bundle: expected comma after array element"},
		{name: "wrong type", in: `{"type":"report","objects":[` + a + `]}`, wantErr: `stix bundle: type is "report", not "bundle"`},
		{name: "not an object", in: `[` + a + `]`, wantErr: "stix bundle: not a JSON object"},
		{name: "objects not a list", in: `{"type":"bundle","objects":{}}`, wantErr: "stix bundle: objects must be a list"},
		{name: "objects twice", in: `{"type":"bundle","objects":[` + a + `],"objects":[]}`, want: []string{a}, wantErr: "stix bundle: objects appears twice"},
		{name: "trailing data", in: `{"type":"bundle","objects":[]} {}`, wantErr: "stix bundle: data after the bundle"},
		{name: "empty input", in: ``, wantErr: "stix bundle: unexpected end of input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := NewBundleReader(strings.NewReader(tt.in))
			objs, elemErrs, err := readAll(br)
			if diff := cmp.Diff(tt.want, objs); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.elemErrs, elemErrs); diff != "" {
				t.Errorf("element errors (-want +got):\n%s", diff)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
				if _, again := br.Next(); again == nil || again.Error() != gotErr {
					t.Errorf("Next after terminal error = %v, want %v again", again, err)
				}
			}
			if gotErr != tt.wantErr {
				t.Errorf("terminal error = %q, want %q", gotErr, tt.wantErr)
			}
			if tt.wantErr == "" {
				if br.SpecVersion() != tt.spec || br.ID() != tt.id {
					t.Errorf("SpecVersion, ID = %q, %q; want %q, %q", br.SpecVersion(), br.ID(), tt.spec, tt.id)
				}
			}
		})
	}
}

// bigBundle streams a bundle of n indicators without holding it.
type bigBundle struct {
	n, i int
	buf  []byte
	done bool
}

func (g *bigBundle) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.done:
			return 0, io.EOF
		case g.i == 0 && g.n >= 0 && g.buf == nil:
			g.buf = []byte(`{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[`)
			g.i = -1
		case g.i < 0 || g.i < g.n:
			if g.i < 0 {
				g.i = 0
			}
			sep := ","
			if g.i == 0 {
				sep = ""
			}
			g.buf = fmt.Appendf(nil, "%s%s", sep, strings.Replace(bases["indicator"], "Poison Ivy Malware", fmt.Sprintf("indicator %d", g.i), 1))
			g.i++
		default:
			g.buf = []byte(`]}`)
			g.done = true
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func TestBundleReaderHuge(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 20000
	}
	br := NewBundleReader(&bigBundle{n: n})
	var before, after runtime.MemStats
	count := 0
	for {
		raw, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("object %d: %v", count, err)
		}
		if count == 1000 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
		count++
		if count%50000 == 0 {
			if _, _, err := Decode(raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if count != n {
		t.Fatalf("read %d objects, want %d", count, n)
	}
	// About 70 MB of input went through; the heap must not follow it.
	if grow := int64(after.HeapAlloc) - int64(before.HeapAlloc); grow > 4<<20 {
		t.Errorf("heap grew by %d bytes over %d objects", grow, n)
	}
}

func TestBundleWriter(t *testing.T) {
	var buf bytes.Buffer
	bw := NewBundleWriter(&buf)
	objs := []string{bases["indicator"], bases["malware"], "{\n \"type\": \"x-c\" }"}
	for _, o := range objs {
		if err := bw.Write(json.RawMessage(o)); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Write(json.RawMessage(`[1]`)); err == nil {
		t.Error("Write([1]) succeeded, want error")
	}
	if err := bw.Write(json.RawMessage(`{`)); err == nil {
		t.Error("Write({) succeeded, want error")
	}
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Write(json.RawMessage(`{}`)); err == nil {
		t.Error("Write after Close succeeded")
	}
	var got struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.Bytes())
	}
	if got.Type != "bundle" || checkIdentifier(got.ID) != "" || !strings.HasPrefix(got.ID, "bundle--") || len(got.Objects) != 3 {
		t.Errorf("bundle = %s", buf.Bytes())
	}
	if string(got.Objects[2]) != `{"type":"x-c"}` {
		t.Errorf("object 2 = %s, want compacted", got.Objects[2])
	}
	// Round trip through the reader.
	objsRead, _, err := readAll(NewBundleReader(&buf))
	if err != nil || len(objsRead) != 3 {
		t.Errorf("reading back: %d objects, %v", len(objsRead), err)
	}

	var empty bytes.Buffer
	ew := NewBundleWriter(&empty)
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(empty.String(), `"objects":[]}`) || !json.Valid(empty.Bytes()) {
		t.Errorf("empty bundle = %s", empty.String())
	}
}
