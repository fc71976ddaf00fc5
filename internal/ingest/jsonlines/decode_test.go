package jsonlines

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shieldwall/shieldwall/internal/event"
)

func TestFlatten(t *testing.T) {
	type F = event.Field
	tests := []struct {
		in   string
		want []F
	}{
		{`{}`, nil},
		{` {"a":"b"} `, []F{{Name: "a", Value: "b"}}},
		{`{"EventID":4624,"x":-1.5e+3,"ok":true,"no":false,"n":null}`, []F{
			{Name: "EventID", Value: "4624", Kind: event.Number},
			{Name: "x", Value: "-1.5e+3", Kind: event.Number},
			{Name: "ok", Value: "true", Kind: event.Bool},
			{Name: "no", Value: "false", Kind: event.Bool},
			{Name: "n", Kind: event.Null}}},
		{`{"id":{"orig_h":"10.0.0.1","orig_p":53},"http":{"hostname":"a.example"}}`, []F{
			{Name: "id.orig_h", Value: "10.0.0.1"},
			{Name: "id.orig_p", Value: "53", Kind: event.Number},
			{Name: "http.hostname", Value: "a.example"}}},
		{`{"answers":["a","b",["c"]],"o":[{"k":1},{"k":2}],"e":[],"eo":{}}`, []F{
			{Name: "answers", Value: "a"}, {Name: "answers", Value: "b"}, {Name: "answers", Value: "c"},
			{Name: "o.k", Value: "1", Kind: event.Number}, {Name: "o.k", Value: "2", Kind: event.Number}}},
		{`{"esc":"a\"b\\c\/d\b\f\n\r\t","u":"\u00e9\u20ac\ud83d\ude00","lone":"\ud800x","k\u0041":1}`, []F{
			{Name: "esc", Value: "a\"b\\c/d\b\f\n\r\t"},
			{Name: "u", Value: "é€😀"},
			{Name: "lone", Value: "\uFFFDx"},
			{Name: "kA", Value: "1", Kind: event.Number}}},
		{`{"a":{"b":{"c":"deep"}},"a.b":"flat"}`, []F{{Name: "a.b.c", Value: "deep"}, {Name: "a.b", Value: "flat"}}},
		{`{"dup":1,"dup":2}`, []F{{Name: "dup", Value: "1", Kind: event.Number}, {Name: "dup", Value: "2", Kind: event.Number}}},
	}
	for _, tt := range tests {
		got, err := Flatten([]byte(tt.in), nil)
		if err != nil {
			t.Errorf("Flatten(%q) error %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Flatten(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestFlattenErrors(t *testing.T) {
	deep := ""
	for i := 0; i < MaxDepth+2; i++ {
		deep += `{"a":`
	}
	tests := []struct {
		in   string
		want error // nil: any *SyntaxError
	}{
		{"", ErrNotObject},
		{`[1]`, ErrNotObject},
		{`"s"`, ErrNotObject},
		{`{"a":1`, nil},
		{`{"a":"b}`, nil},
		{`{"a":tru}`, nil},
		{`{"a":01}`, nil},
		{`{"a":1.}`, nil},
		{`{"a":1e}`, nil},
		{`{"a":-}`, nil},
		{`{"a" 1}`, nil},
		{`{a:1}`, nil},
		{`{"a":1,}`, nil},
		{`{"a":[1,]}`, nil},
		{`{"a":"\x"}`, nil},
		{`{"a":"\u12"}`, nil},
		{"{\"a\":\"tab\there\"}", nil},
		{`{"a":1} x`, nil},
		{`{"a":1}{"b":2}`, nil},
		{"{\"a\":\"\xff\"}", ErrInvalidUTF8},
		{deep, ErrTooDeep},
	}
	for _, tt := range tests {
		_, err := Flatten([]byte(tt.in), nil)
		var se *SyntaxError
		switch {
		case err == nil:
			t.Errorf("Flatten(%q) = nil error, want an error", tt.in)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("Flatten(%q) = %v, want %v", tt.in, err, tt.want)
		case tt.want == nil && !errors.As(err, &se):
			t.Errorf("Flatten(%q) = %v, want a *SyntaxError", tt.in, err)
		}
	}
}

// TestFlattenCorpus checks the Decoder against encoding/json on every real
// line of the otrf corpus.
func TestFlattenCorpus(t *testing.T) {
	windows, zeek := corpusLines(t)
	n := 0
	for _, line := range append(windows, zeek...) {
		got, err := Flatten(line, nil)
		if err != nil {
			t.Errorf("Flatten(%.80q) error %v", line, err)
			continue
		}
		want, err := refTokens(line)
		if err != nil {
			t.Fatalf("encoding/json rejects corpus line %.80q: %v", line, err)
		}
		if !slices.Equal(want, got) {
			diff := cmp.Diff(want, got)
			t.Errorf("Flatten(%.80q) differs from encoding/json (-json +ours):\n%s", line, diff)
		}
		n++
	}
	t.Logf("%d corpus lines agree with encoding/json", n)
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2020-10-21T09:40:38.926Z", time.Date(2020, 10, 21, 9, 40, 38, 926e6, time.UTC)},
		{"2020-10-21 09:40:38.926", time.Date(2020, 10, 21, 9, 40, 38, 926e6, time.UTC)},
		{"2020-10-21T11:40:38+02:00", time.Date(2020, 10, 21, 9, 40, 38, 0, time.UTC)},
		{"2026-11-27T02:41:06.123456+0000", time.Date(2026, 11, 27, 2, 41, 6, 123456e3, time.UTC)},
		{"1588205199.82437", time.Date(2020, 4, 30, 0, 6, 39, 824370e3, time.UTC)},
		{"1588205199824", time.Date(2020, 4, 30, 0, 6, 39, 824e6, time.UTC)},
		{"1588205199", time.Date(2020, 4, 30, 0, 6, 39, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, ok := ParseTime(tt.in)
		if !ok || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v, want %v", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2020-13-45", "NaN", "1e999"} {
		if got, ok := ParseTime(bad); ok {
			t.Errorf("ParseTime(%q) = %v, true, want false", bad, got)
		}
	}
}

func TestParser(t *testing.T) {
	line := []byte(`{"Message":"x","TimeCreated":"2020-10-21T09:40:38.926Z","nested":{"ts":"1999-01-01T00:00:00Z"},"@timestamp":"2020-10-21T09:40:39Z","EventID":1102}` + "\r\n")
	ev, err := Parser{}.Parse("f.json", 42, line)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if want := time.Date(2020, 10, 21, 9, 40, 39, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("Parse time = %v, want %v (@timestamp wins)", ev.Time, want)
	}
	if ev.Format != "jsonl" || ev.Offset != 42 || ev.Source != "f.json" {
		t.Errorf("Parse = %q %d %q, want jsonl 42 f.json", ev.Format, ev.Offset, ev.Source)
	}
	if v, ok := ev.Value("EventID"); !ok || v != "1102" {
		t.Errorf("EventID = %q, %v, want 1102", v, ok)
	}
	if v, _ := ev.Value("nested.ts"); v != "1999-01-01T00:00:00Z" {
		t.Errorf("nested.ts = %q", v)
	}
	ev, err = Parser{Format: "x"}.Parse("f", 0, []byte(`{"ts":1588205199.5,"a":1,"b":tru}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if ev.Time.Unix() != 1588205199 {
		t.Errorf("Parse time = %v, want 1588205199.5", ev.Time)
	}
	if ev.Err() == nil {
		t.Errorf("Err() = nil for a truncated literal")
	}
	if v, _ := ev.Value("a"); v != "1" {
		t.Errorf("a = %q, want 1 (fields before the error are kept)", v)
	}
	for _, bad := range []string{"garbage", "{\"a\":\"\xc3\x28\"}", "", `{"a":1`} {
		if _, err := (Parser{}).Parse("f", 0, []byte(bad)); err == nil {
			t.Errorf("Parse(%q) = nil error, want one", bad)
		}
	}
}

func TestLookupSkipsNested(t *testing.T) {
	raw := []byte(`{"a":{"ts":"no","x":[1,{"y":"]}"}]},"s":"q\"ts\"","timestamp":"2001-01-01T00:00:00Z","ts":5}`)
	v, k, ok := Lookup(raw, []string{"ts", "timestamp"})
	if !ok || v != "5" || k != event.Number {
		t.Errorf("Lookup = %q %v %v, want 5 number true", v, k, ok)
	}
	v, _, ok = Lookup(raw, []string{"timestamp", "ts"})
	if !ok || v != "2001-01-01T00:00:00Z" {
		t.Errorf("Lookup = %q %v, want the timestamp", v, ok)
	}
}
