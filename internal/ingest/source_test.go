package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/jsonlines"
)

const corpora = "../../../shared/corpora"

func needCorpus(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(corpora, sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus %s not found (see /work/shared/corpora/README.md): %v", p, err)
	}
	return p
}

// drain reads a source to its end, returning its events (fields decoded)
// and its record errors.
func drain(t *testing.T, src Source) (evs []*event.Event, recErrs []error) {
	t.Helper()
	ctx := context.Background()
	for {
		ev, err := src.Next(ctx)
		if err == io.EOF {
			return evs, recErrs
		}
		var re *RecordError
		if errors.As(err, &re) {
			recErrs = append(recErrs, err)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		ev.Fields()
		ev.Raw = bytes.Clone(ev.Raw)
		evs = append(evs, ev)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name, head, want string
	}{
		{"x.evtx", "ElfFile\x00rest", FormatEVTX},
		{"dns.log", "#separator \\x09\n#set_separator\t,\n", FormatZeek},
		{"conn.log", `{"ts":1588205199.8,"uid":"C1","id.orig_h":"10.0.0.1"}`, FormatZeek},
		{"conn.log", `{"@stream":"conn","ts":1588205199.8,"id_orig_h":"10.0.0.1"}`, FormatZeek},
		{"eve.json", `{"timestamp":"2024-03-12T10:15:02.123456+0000","event_type":"alert"}`, FormatEVE},
		{"win.json", "\n\n" + `{"@timestamp":"2020-10-21T09:40:38.926Z","EventID":1102}`, FormatJSONL},
		{"app.json", `{"ts":1,"msg":"hello"}`, FormatJSONL},
		{"messages", "Jan  5 11:59:01 web01 sshd[4242]: Failed password", FormatSyslog},
		{"remote.log", "<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hi", FormatSyslog},
		{"notes.txt", "hello world", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := Sniff(tt.name, []byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%q, %.40q) = %q, want %q", tt.name, tt.head, got, tt.want)
		}
	}
}

// TestOpenDirCorpus reads the whole otrf corpus through OpenDir: every
// Windows JSON line and Zeek record becomes an event of the right format,
// with no record error.
func TestOpenDirCorpus(t *testing.T) {
	root := needCorpus(t, "otrf")
	src, err := OpenDir(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	evs, errs := drain(t, src)
	for _, e := range errs {
		if !strings.Contains(e.Error(), "LICENSE") {
			t.Errorf("record error: %v", e)
		}
	}
	count := map[string]int{}
	for _, ev := range evs {
		count[ev.Format]++
		if ev.Err() != nil {
			t.Errorf("%s at %d: %v", ev.Source, ev.Offset, ev.Err())
		}
		if strings.Contains(ev.Source, "/zeek/") != (ev.Format == FormatZeek) {
			t.Errorf("%s at %d: format %q", ev.Source, ev.Offset, ev.Format)
		}
		if ev.Format == FormatJSONL && ev.Time.IsZero() && !strings.Contains(ev.Source, "GoldenSAML") {
			t.Errorf("%s at %d: no time", ev.Source, ev.Offset)
		}
	}
	// 14,611 non-empty Windows JSON lines (the README says 14,612, counting
	// an empty line); the Zeek logs hold
	// 10,243 TSV and 2,421 JSON records (internal/ingest/zeek TestCorpus).
	if count[FormatJSONL] != 14611 || count[FormatZeek] != 10243+2421 {
		t.Errorf("formats read = %v, want 14611 jsonl and 12664 zeek", count)
	}
	t.Logf("events by format: %v", count)
}

func TestBadRecordsContinue(t *testing.T) {
	in := strings.Join([]string{
		`{"@timestamp":"2020-10-21T09:40:38.926Z","n":1}`,
		`{"n":"` + strings.Repeat("x", 3000) + `"}`,
		"{\"n\":\"\xff\xfe\"}",
		`garbage`,
		`{"n":3,"truncated":`,
		``,
		`{"n":4}`,
	}, "\n")
	src, err := NewReader("mem", strings.NewReader(in), Options{MaxLine: 1000})
	if err != nil {
		t.Fatal(err)
	}
	evs, errs := drain(t, src)
	var good []string
	for _, ev := range evs {
		if ev.Err() == nil {
			v, _ := ev.Value("n")
			good = append(good, v)
		}
	}
	if strings.Join(good, ",") != "1,4" {
		t.Errorf("good records n = %v, want 1,4", good)
	}
	if len(evs) != 2 || len(errs) != 4 {
		t.Errorf("got %d events, %d record errors %v; want 2 and 4 (huge, UTF-8, garbage, truncated)", len(evs), len(errs), errs)
	}
	for i, want := range []error{ErrLineTooLong, jsonlines.ErrInvalidUTF8, jsonlines.ErrNotObject, jsonlines.ErrNotObject} {
		if i < len(errs) && !errors.Is(errs[i], want) {
			t.Errorf("record error %d = %v, want %v", i, errs[i], want)
		}
	}
}

func TestOpenDirMixed(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a/eve.json":     `{"timestamp":"2024-03-12T10:15:02.123456+0000","event_type":"alert","alert":{"signature_id":1}}` + "\n",
		"b/messages":     "Jan  5 11:59:01 web01 sshd[4242]: Failed password\nJan  5 11:59:02 web01 sshd[4242]: again\n",
		"c/unknown.txt":  "hello world\n",
		"d/.hidden.json": `{"a":1}` + "\n",
		"e/dns.log":      "#separator \\x09\n#fields\tts\tquery\n#types\ttime\tstring\n1692161622.1\tx.example\n",
		"f/app.jsonl":    `{"time":"2024-01-01T00:00:00Z","msg":"hi"}`,
		"g/old.log.gz":   "\x1f\x8b",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := OpenDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs, errs := drain(t, src)
	var formats []string
	for _, ev := range evs {
		formats = append(formats, ev.Format)
	}
	if got := strings.Join(formats, ","); got != "eve,syslog,syslog,zeek,jsonl" {
		t.Errorf("formats = %s, want eve,syslog,syslog,zeek,jsonl", got)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnknownFormat) {
		t.Errorf("record errors = %v, want one ErrUnknownFormat", errs)
	}
}

func TestStdin(t *testing.T) {
	src, err := Stdin(strings.NewReader("<13>1 2024-01-01T00:00:00Z h app - - - one\n<13>1 - h app - - - two"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs, errs := drain(t, src)
	if len(evs) != 2 || len(errs) != 0 || evs[0].Source != "stdin" || evs[1].Format != FormatSyslog {
		t.Fatalf("Stdin: %d events, errors %v", len(evs), errs)
	}
	if v, _ := evs[1].Value("message"); v != "two" {
		t.Errorf("message = %q, want two", v)
	}
}

func TestOpenFileEVTX(t *testing.T) {
	root := needCorpus(t, "evtx-attack-samples")
	var path string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && path == "" && strings.HasSuffix(p, ".evtx") {
			path = p
		}
		return nil
	})
	if path == "" {
		t.Skipf("no .evtx file under %s", root)
	}
	src, err := OpenFile(path, Options{})
	if err != nil {
		t.Fatalf("OpenFile(%s): %v", path, err)
	}
	defer src.Close()
	evs, _ := drain(t, src)
	if len(evs) == 0 || evs[0].Format != FormatEVTX {
		t.Errorf("OpenFile(%s): %d events, want some of format evtx", path, len(evs))
	}
}

func BenchmarkOpenFileJSONL(b *testing.B) {
	root := needCorpus(b, "otrf/atomic")
	var paths []string
	var size int64
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
			fi, _ := d.Info()
			size += fi.Size()
		}
		return nil
	})
	b.SetBytes(size)
	b.ReportAllocs()
	lines := 0
	for b.Loop() {
		for _, p := range paths {
			src, err := OpenFile(p, Options{})
			if err != nil {
				b.Fatal(err)
			}
			for {
				ev, err := src.Next(context.Background())
				if err != nil {
					break
				}
				ev.Fields()
				lines++
			}
			src.Close()
		}
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}
