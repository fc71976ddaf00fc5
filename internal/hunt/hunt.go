// Package hunt runs detection engines once over files and folders, the way
// Chainsaw or Hayabusa do: every readable log file under the given paths is
// read to its end, every event goes through the engines, every alert goes to
// one writer, and a summary says what was read, how fast, and what fired.
package hunt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// Source yields the events of one file; io.EOF ends it. Any other error is
// about one record: the hunt counts it and asks for the next record. After
// maxConsecutiveErrors errors in a row the file is abandoned.
type Source interface {
	Next(ctx context.Context) (*event.Event, error)
	Close() error
}

// ErrUnsupported is returned (wrapped) by an Opener for a file it cannot
// read; the hunt skips that file and counts it.
var ErrUnsupported = errors.New("unsupported file format")

// Opener opens one file as a Source.
type Opener func(path string) (Source, error)

// Options configure a hunt.
type Options struct {
	Paths []string
	Open  Opener
	// NewEngine makes the engine one worker uses; each worker has its own,
	// so engines need not be safe for concurrent use.
	NewEngine func() (detect.Engine, error)
	// Workers read files in parallel (default 1). Correlations across
	// events only see the events of their own worker's files.
	Workers int
	// Alert receives each alert once (already deduplicated), from one
	// goroutine at a time.
	Alert func(*detect.Alert) error
	// Progress, when set, gets a one-line progress display redrawn in place
	// (meant for a terminal).
	Progress io.Writer
	// MaxRecordErrors caps the record errors kept in the summary (default 20).
	MaxRecordErrors int
}

// Summary is what a hunt did.
type Summary struct {
	Files        int           // files read
	Skipped      []FileError   // files not read, with the reason
	Events       int64         // events read
	RecordErrors int64         // records that could not be read
	FirstErrors  []FileError   // the first record errors, with file
	Duration     time.Duration // wall time
	Alerts       int
	ByLevel      map[string]int
	ByRule       map[string]*RuleCount
}

// FileError is a problem with one file or one of its records.
type FileError struct {
	Path string `json:"path"`
	Err  string `json:"error"`
}

// RuleCount counts the alerts of one rule.
type RuleCount struct {
	ID, Title, Level string
	Count            int
}

// EventsPerSecond is the read-and-match rate.
func (s *Summary) EventsPerSecond() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Events) / s.Duration.Seconds()
}

// Run hunts. It returns an error only when the hunt could not run at all
// (no engine, a path that does not exist, the alert writer failing, ctx
// cancelled); problems with single files and records are in the Summary.
func Run(ctx context.Context, o Options) (*Summary, error) {
	if o.Open == nil || o.NewEngine == nil || o.Alert == nil {
		return nil, errors.New("hunt: Open, NewEngine and Alert are required")
	}
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.MaxRecordErrors == 0 {
		o.MaxRecordErrors = 20
	}
	files, err := listFiles(o.Paths)
	if err != nil {
		return nil, err
	}
	s := &Summary{ByLevel: map[string]int{}, ByRule: map[string]*RuleCount{}}
	start := time.Now()
	var (
		mu       sync.Mutex // guards s and the alert writer
		writeErr error
		events   atomic.Int64
		done     atomic.Int64
	)
	dedup, _ := detect.NewDedup(1<<16, func(a *detect.Alert) {
		if writeErr != nil {
			return
		}
		if err := o.Alert(a); err != nil {
			writeErr = fmt.Errorf("write alert: %w", err)
			return
		}
		s.Alerts++
		s.ByLevel[a.Level]++
		rc := s.ByRule[a.RuleID]
		if rc == nil {
			rc = &RuleCount{ID: a.RuleID, Title: a.RuleTitle, Level: a.Level}
			s.ByRule[a.RuleID] = rc
		}
		rc.Count++
	})
	emit := func(a *detect.Alert) {
		mu.Lock()
		dedup.Emit(a)
		mu.Unlock()
	}
	stopProgress := progress(o.Progress, len(files), &done, &events, start)
	defer stopProgress()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan string)
	var wg sync.WaitGroup
	errc := make(chan error, o.Workers)
	for range o.Workers {
		eng, err := o.NewEngine()
		if err != nil {
			cancel()
			wg.Wait()
			return nil, fmt.Errorf("hunt: make engine: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range work {
				_, recErrs, err := huntFile(ctx, o.Open, eng, path, emit, &events)
				mu.Lock()
				switch {
				case err != nil && errors.Is(err, ctx.Err()):
				case err != nil:
					s.Skipped = append(s.Skipped, FileError{Path: path, Err: err.Error()})
				default:
					s.Files++
				}
				s.RecordErrors += int64(len(recErrs))
				for _, e := range recErrs {
					if len(s.FirstErrors) < o.MaxRecordErrors {
						s.FirstErrors = append(s.FirstErrors, FileError{Path: path, Err: e.Error()})
					}
				}
				werr := writeErr
				mu.Unlock()
				done.Add(1)
				if werr != nil {
					errc <- werr
					cancel()
					return
				}
			}
			// End of the stream: decide the windows still open.
			if f, ok := eng.(detect.Flusher); ok && ctx.Err() == nil {
				f.Flush(ctx, emit)
			}
		}()
	}
feed:
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	s.Events = events.Load()
	s.Duration = time.Since(start)
	select {
	case err := <-errc:
		return s, err
	default:
	}
	return s, ctx.Err()
}

// maxConsecutiveErrors abandons a file that yields nothing but errors.
const maxConsecutiveErrors = 10000

// huntFile reads one file to its end. err is set when the file could not be
// read at all; recErrs lists the records that could not be read.
func huntFile(ctx context.Context, open Opener, eng detect.Engine, path string, emit detect.Emit, events *atomic.Int64) (n int64, recErrs []error, err error) {
	src, err := open(path)
	if err != nil {
		return 0, nil, err
	}
	defer src.Close()
	consecutive := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, recErrs, err
		}
		ev, err := src.Next(ctx)
		if err == io.EOF {
			return n, recErrs, nil
		}
		if err != nil {
			if consecutive++; consecutive >= maxConsecutiveErrors {
				return n, recErrs, fmt.Errorf("abandoned after %d unreadable records in a row: %w", consecutive, err)
			}
			recErrs = append(recErrs, err)
			continue
		}
		consecutive = 0
		n++
		events.Add(1)
		if err := eng.Process(ctx, ev, emit); err != nil {
			recErrs = append(recErrs, fmt.Errorf("record %d: %w", ev.Offset, err))
		}
	}
}

// listFiles expands folders into their regular files, in a stable order.
func listFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("hunt: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("hunt: walk %s: %w", p, err)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// progress redraws one status line every 200 ms until stopped.
func progress(w io.Writer, files int, done, events *atomic.Int64, start time.Time) func() {
	if w == nil {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	draw := func() {
		el := time.Since(start).Seconds()
		n := events.Load()
		rate := 0.0
		if el > 0 {
			rate = float64(n) / el
		}
		width := 30
		fill := 0
		if files > 0 {
			fill = int(done.Load()) * width / files
		}
		fmt.Fprintf(w, "\r[%s%s] %d/%d files  %d events  %.0f ev/s ", strings.Repeat("#", fill), strings.Repeat(".", width-fill), done.Load(), files, n, rate)
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				draw()
				fmt.Fprintln(w)
				return
			case <-t.C:
				draw()
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// WriteSummary prints a human summary.
func (s *Summary) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "files read: %d, skipped: %d\n", s.Files, len(s.Skipped))
	for _, f := range s.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", f.Path, f.Err)
	}
	fmt.Fprintf(w, "events: %d in %s (%.0f events/s)\n", s.Events, s.Duration.Round(time.Millisecond), s.EventsPerSecond())
	if s.RecordErrors > 0 {
		fmt.Fprintf(w, "unreadable records: %d\n", s.RecordErrors)
		for _, f := range s.FirstErrors {
			fmt.Fprintf(w, "  %s: %s\n", f.Path, f.Err)
		}
	}
	fmt.Fprintf(w, "alerts: %d\n", s.Alerts)
	for _, l := range []string{"critical", "high", "medium", "low", "informational"} {
		if n := s.ByLevel[l]; n > 0 {
			fmt.Fprintf(w, "  %-13s %d\n", l, n)
		}
	}
	rules := make([]*RuleCount, 0, len(s.ByRule))
	for _, r := range s.ByRule {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool {
		if rules[i].Count != rules[j].Count {
			return rules[i].Count > rules[j].Count
		}
		return rules[i].ID < rules[j].ID
	})
	if len(rules) > 0 {
		fmt.Fprintln(w, "alerts by rule:")
	}
	for _, r := range rules {
		fmt.Fprintf(w, "  %6d  %-8s %s (%s)\n", r.Count, r.Level, r.Title, r.ID)
	}
}
