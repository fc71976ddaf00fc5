package evtx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/event"
)

const attackSamples = "../../../../shared/corpora/evtx-attack-samples"

// evtxFiles lists the .evtx files under root, sorted.
func evtxFiles(t testing.TB, root string) []string {
	t.Helper()
	if _, err := os.Stat(root); err != nil {
		t.Skipf("corpus %s absent (%v): see shared/corpora/README.md", root, err)
	}
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".evtx") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// readAll reads every record of path, failing on any error.
func readAll(t testing.TB, path string) []*event.Event {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer f.Close()
	var evs []*event.Event
	for {
		ev, err := f.Next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			t.Errorf("%s: Next: %v", path, err)
			continue
		}
		evs = append(evs, ev)
	}
}

// refRecord is one line of python-evtx.jsonl: its fields in order and the
// file it came from.
type refRecord struct {
	source string
	fields []event.Field
	obj    map[string]any
}

// parseRefLine decodes one flat JSON object keeping the key order: a list
// becomes repeated fields, an integer a Number, null a Null.
func parseRefLine(line []byte) (refRecord, error) {
	var r refRecord
	if err := json.Unmarshal(line, &r.obj); err != nil {
		return r, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return r, err
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return r, err
		}
		key := kt.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return r, err
		}
		if key == "_source" {
			r.source = v.(string)
			delete(r.obj, key)
			continue
		}
		vs, ok := v.([]any)
		if !ok {
			vs = []any{v}
		}
		for _, x := range vs {
			switch x := x.(type) {
			case nil:
				r.fields = append(r.fields, event.Field{Name: key, Kind: event.Null})
			case string:
				r.fields = append(r.fields, event.Field{Name: key, Value: x})
			case json.Number:
				r.fields = append(r.fields, event.Field{Name: key, Value: x.String(), Kind: event.Number})
			default:
				return r, fmt.Errorf("key %s: unexpected %T", key, x)
			}
		}
	}
	return r, nil
}

func loadReference(t *testing.T) map[string][]refRecord {
	t.Helper()
	fh, err := os.Open(filepath.Join(attackSamples, "python-evtx.jsonl"))
	if err != nil {
		t.Skipf("reference conversion absent: %v", err)
	}
	defer fh.Close()
	ref := make(map[string][]refRecord)
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		r, err := parseRefLine(sc.Bytes())
		if err != nil {
			t.Fatalf("python-evtx.jsonl line %d: %v", n, err)
		}
		ref[r.source] = append(ref[r.source], r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestAttackSamplesMatchReference reads all 228 files of
// EVTX-ATTACK-SAMPLES and compares every record, field by field, with the
// python-evtx flat conversion (records are tied to their file by the
// "_source" base name; a base name used twice holds both files' records).
func TestAttackSamplesMatchReference(t *testing.T) {
	files := evtxFiles(t, attackSamples)
	ref := loadReference(t)
	ours := make(map[string][]*event.Event)
	for _, p := range files {
		ours[filepath.Base(p)] = append(ours[filepath.Base(p)], readAll(t, p)...)
	}
	var records, fields, bad int
	for name, want := range ref {
		got := ours[name]
		if len(got) != len(want) {
			t.Errorf("%s: %d records, reference has %d", name, len(got), len(want))
			continue
		}
		for i, w := range want {
			ev := got[i]
			records++
			fields += len(w.fields)
			if diff := cmp.Diff(w.fields, ev.Fields(), cmp.AllowUnexported(event.Field{})); diff != "" {
				bad++
				if bad <= 10 {
					t.Errorf("%s record %d (id %d): fields differ (-reference +ours):\n%s", name, i, ev.Offset, diff)
				}
				continue
			}
			var raw map[string]any
			if err := json.Unmarshal(ev.Raw, &raw); err != nil {
				t.Errorf("%s record %d: Raw is not JSON: %v", name, i, err)
			} else if diff := cmp.Diff(w.obj, raw); diff != "" {
				bad++
				t.Errorf("%s record %d: Raw differs (-reference +ours):\n%s", name, i, diff)
			}
			if id := fmt.Sprint(ev.Offset); id != fieldValue(ev, "EventRecordID") {
				t.Errorf("%s record %d: Offset %s, EventRecordID %s", name, i, id, fieldValue(ev, "EventRecordID"))
			}
			// Time is exact; the TimeCreated text went through python-evtx's
			// float rounding, a few microseconds at most.
			if tc, ok := parsePyTime([]byte(fieldValue(ev, "TimeCreated"))); !ok {
				t.Errorf("%s record %d: TimeCreated %q does not parse", name, i, fieldValue(ev, "TimeCreated"))
			} else if d := ev.Time.Sub(tc); d > 4*time.Microsecond || d < -4*time.Microsecond {
				t.Errorf("%s record %d: Time %v, TimeCreated %v", name, i, ev.Time, tc)
			}
		}
	}
	for name := range ours {
		if _, ok := ref[name]; !ok {
			t.Errorf("%s: not in the reference", name)
		}
	}
	if records != 7167 {
		t.Errorf("compared %d records, want 7167", records)
	}
	t.Logf("%d files, %d records, %d fields compared, %d records differ", len(files), records, fields, bad)
}

func fieldValue(ev *event.Event, name string) string {
	v, _ := ev.Value(name)
	return v
}
