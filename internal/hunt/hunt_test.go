package hunt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// lineSource yields one event per line of a text file; a line "BAD" is an
// unreadable record.
type lineSource struct {
	path  string
	lines []string
	i     int
}

func (s *lineSource) Next(context.Context) (*event.Event, error) {
	if s.i >= len(s.lines) {
		return nil, io.EOF
	}
	s.i++
	l := s.lines[s.i-1]
	if l == "BAD" {
		return nil, fmt.Errorf("line %d: unreadable", s.i)
	}
	return event.New(s.path, "txt", int64(s.i), time.Time{}, []byte(l), []event.Field{{Name: "msg", Value: l}}), nil
}

func (s *lineSource) Close() error { return nil }

func openLines(path string) (Source, error) {
	if !strings.HasSuffix(path, ".txt") {
		return nil, fmt.Errorf("%s: %w", path, ErrUnsupported)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &lineSource{path: path, lines: strings.Split(strings.TrimSpace(string(b)), "\n")}, nil
}

// evilEngine alerts on every event whose msg contains "evil" (high) or
// "odd" (low).
type evilEngine struct{}

func (evilEngine) Process(_ context.Context, ev *event.Event, emit detect.Emit) error {
	v, _ := ev.Value("msg")
	switch {
	case strings.Contains(v, "evil"):
		emit(&detect.Alert{Engine: "test", RuleID: "r-evil", RuleTitle: "Evil", Level: "high", Source: ev.Source, Offset: ev.Offset})
	case strings.Contains(v, "odd"):
		emit(&detect.Alert{Engine: "test", RuleID: "r-odd", RuleTitle: "Odd", Level: "low", Source: ev.Source, Offset: ev.Offset})
	}
	return nil
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "hello\nevil one\nBAD\nodd\n")
	write("sub/b.txt", "evil two\nfine\n")
	write("sub/c.bin", "\x00\x01")
	write(".hidden.txt", "evil hidden\n")
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			var got []string
			var prog bytes.Buffer
			s, err := Run(context.Background(), Options{
				Paths:     []string{dir, filepath.Join(dir, "a.txt")}, // a.txt twice: read once
				Open:      openLines,
				NewEngine: func() (detect.Engine, error) { return evilEngine{}, nil },
				Workers:   workers,
				Alert:     func(a *detect.Alert) error { got = append(got, a.RuleID); return nil },
				Progress:  &prog,
			})
			if err != nil {
				t.Fatal(err)
			}
			if s.Files != 2 || len(s.Skipped) != 1 || !strings.Contains(s.Skipped[0].Err, "unsupported") {
				t.Errorf("files %d, skipped %v; want 2 read and c.bin skipped as unsupported", s.Files, s.Skipped)
			}
			if s.Events != 5 || s.RecordErrors != 1 {
				t.Errorf("events %d, record errors %d; want 5 and 1", s.Events, s.RecordErrors)
			}
			if s.Alerts != 3 || len(got) != 3 || s.ByLevel["high"] != 2 || s.ByRule["r-evil"].Count != 2 {
				t.Errorf("alerts %d %v by level %v; want 3 (2 high evil, 1 low odd)", s.Alerts, got, s.ByLevel)
			}
			var sum bytes.Buffer
			s.WriteSummary(&sum)
			for _, want := range []string{"files read: 2, skipped: 1", "events: 5", "unreadable records: 1", "2  high     Evil (r-evil)"} {
				if !strings.Contains(sum.String(), want) {
					t.Errorf("summary lacks %q:\n%s", want, sum.String())
				}
			}
			if !strings.Contains(prog.String(), "3/3 files") {
				t.Errorf("progress never showed 3/3 files: %q", prog.String())
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	if _, err := Run(context.Background(), Options{Paths: []string{"/nonexistent/x"}, Open: openLines,
		NewEngine: func() (detect.Engine, error) { return evilEngine{}, nil }, Alert: func(*detect.Alert) error { return nil }}); err == nil {
		t.Error("Run on a missing path succeeded")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("evil\n"), 0o644)
	boom := errors.New("disk full")
	_, err := Run(context.Background(), Options{Paths: []string{dir}, Open: openLines,
		NewEngine: func() (detect.Engine, error) { return evilEngine{}, nil }, Alert: func(*detect.Alert) error { return boom }})
	if !errors.Is(err, boom) {
		t.Errorf("Run with a failing writer = %v, want %v", err, boom)
	}
}
