package ingest

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

type lineResult struct {
	Line string
	Off  int64
	Err  string
}

func readLines(lr *LineReader) []lineResult {
	var out []lineResult
	for {
		line, off, err := lr.Next()
		if err == io.EOF {
			return out
		}
		r := lineResult{Line: string(line), Off: off}
		if err != nil {
			if !errors.Is(err, ErrLineTooLong) {
				r.Err = err.Error()
				out = append(out, r)
				return out
			}
			r.Err = "too long"
		}
		out = append(out, r)
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name  string
		in    string
		final bool
		want  []lineResult
	}{
		{"plain", "a\nbb\r\n\nccc\n", true, []lineResult{{"a\n", 0, ""}, {"bb\r\n", 2, ""}, {"\n", 6, ""}, {"ccc\n", 7, ""}}},
		{"partial final", "a\nbc", true, []lineResult{{"a\n", 0, ""}, {"bc", 2, ""}}},
		{"partial waits", "a\nbc", false, []lineResult{{"a\n", 0, ""}}},
		{"huge skipped", "a\n" + long + "\nb\n", true, []lineResult{{"a\n", 0, ""}, {"", 2, "too long"}, {"b\n", 43, ""}}},
		{"huge last", "a\n" + long, true, []lineResult{{"a\n", 0, ""}, {"", 2, "too long"}}},
		{"limit exact", strings.Repeat("y", 10) + "\r\n" + strings.Repeat("z", 11) + "\n", true,
			[]lineResult{{strings.Repeat("y", 10) + "\r\n", 0, ""}, {"", 12, "too long"}}},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			lr := NewLineReader(r, "test", 0, 10)
			lr.Final = tt.final
			if diff := cmp.Diff(tt.want, readLines(lr)); diff != "" {
				t.Errorf("%s (one byte reads %v): lines (-want +got):\n%s", tt.name, oneByte, diff)
			}
		}
	}
}

// TestLineReaderResumes checks a partial line is completed by later data.
func TestLineReaderResumes(t *testing.T) {
	var data strings.Builder
	data.WriteString("one\ntw")
	r := &growing{b: &data}
	lr := NewLineReader(r, "t", 0, 0)
	if got := readLines(lr); len(got) != 1 || got[0].Line != "one\n" {
		t.Fatalf("first read = %v, want just one", got)
	}
	data.WriteString("o\nthree")
	got := readLines(lr)
	if diff := cmp.Diff([]lineResult{{"two\n", 4, ""}}, got); diff != "" {
		t.Errorf("second read (-want +got):\n%s", diff)
	}
	if lr.Offset() != 8 || lr.Buffered() != 5 {
		t.Errorf("Offset, Buffered = %d, %d, want 8, 5", lr.Offset(), lr.Buffered())
	}
}

// growing reads a builder that may grow after it reported io.EOF.
type growing struct {
	b   *strings.Builder
	off int
}

func (g *growing) Read(p []byte) (int, error) {
	s := g.b.String()
	if g.off >= len(s) {
		return 0, io.EOF
	}
	n := copy(p, s[g.off:])
	g.off += n
	return n, nil
}

func BenchmarkLineReader(b *testing.B) {
	line := `{"@timestamp":"2020-10-21T09:40:38.926Z","EventID":4624,"Message":"An account was successfully logged on."}` + "\n"
	data := strings.Repeat(line, 10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		lr := NewLineReader(strings.NewReader(data), "b", 0, 0)
		for {
			if _, _, err := lr.Next(); err != nil {
				break
			}
		}
	}
}

// FuzzLineReader compares LineReader with a plain split of the whole data,
// reading through small and irregular reads.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\nccc"), uint8(2), true)
	f.Add([]byte(strings.Repeat("x", 70)+"\nshort\n"+strings.Repeat("y", 9)), uint8(8), false)
	f.Fuzz(func(t *testing.T, data []byte, max8 uint8, final bool) {
		max := int(max8%64) + 1
		var want []lineResult
		var off int64
		rest := string(data)
		for rest != "" {
			line := rest
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				line = rest[:i+1]
			} else if !final {
				break
			}
			r := lineResult{Line: line, Off: off}
			if contentLen([]byte(line)) > max {
				r = lineResult{Off: off, Err: "too long"}
			}
			want = append(want, r)
			off += int64(len(line))
			rest = rest[len(line):]
		}
		lr := NewLineReader(iotest.HalfReader(strings.NewReader(string(data))), "fuzz", 0, max)
		lr.Final = final
		got := readLines(lr)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("max %d final %v data %q (-want +got):\n%s", max, final, data, diff)
		}
	})
}
