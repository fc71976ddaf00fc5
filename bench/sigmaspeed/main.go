// Command sigmaspeed runs every Windows rule of the SigmaHQ corpus through
// Shieldwall's Sigma engine (internal/detect/sigma) over the EVTX attack
// samples, writes per-rule match counts in the format of bench/sigmapeer, and
// prints events per CPU-second (user+sys of this process), the per-core
// figure that a shared machine does not distort. Run it with GOMAXPROCS=1 for
// a strict one-core figure.
//
//	go run ./bench/sigmaspeed -counts ours.counts.jsonl -matches ours.matches.jsonl
//	go run ./bench/sigmaspeed -evtx ../shared/corpora/evtx-attack-samples
//
// Events come from python-evtx.jsonl (JSON numbers become Kind Number, null
// Null, booleans Bool, everything else String), or with -evtx from the .evtx
// files themselves through internal/ingest/evtx.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/detect/sigma"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/evtx"
)

func main() {
	var (
		events  = flag.String("events", "../shared/corpora/evtx-attack-samples/python-evtx.jsonl", "python-evtx JSON lines")
		evtxDir = flag.String("evtx", "", "read the .evtx files under this folder instead of -events")
		rules   = flag.String("rules", "../shared/corpora/sigma/rules/windows", "Sigma rules directory")
		every   = flag.Int("every", 1, "use every Nth record only (1: all)")
		rounds  = flag.Int("rounds", 5, "passes over the events for the timing (counts come from the first)")
		counts  = flag.String("counts", "", "write per-rule match counts as JSON lines here")
		matches = flag.String("matches", "", "write one JSON line per (rule, record) match here")
	)
	flag.Parse()
	if err := run(*events, *evtxDir, *rules, *every, *rounds, *counts, *matches); err != nil {
		log.Fatal(err)
	}
}

func run(events, evtxDir, rules string, every, rounds int, counts, matches string) error {
	var evs []*event.Event
	var total int
	var err error
	if evtxDir != "" {
		evs, total, err = readEVTX(evtxDir, every)
	} else {
		evs, total, err = readJSONL(events, every)
	}
	if err != nil {
		return err
	}
	t0 := time.Now()
	rs, loadErrs, err := sigma.LoadDirs([]string{rules}, sigma.Options{})
	if err != nil {
		return err
	}
	nRules, compiled := rs.Matcher.Stats()
	fmt.Printf("shieldwall: %d rules parsed, %d in matcher, %d compiled, %d load errors, load+compile %v\n",
		len(rs.Rules), nRules, compiled, len(loadErrs), time.Since(t0).Round(time.Millisecond))

	ctx := context.Background()
	m := rs.Matcher
	per := map[string]int{}
	type hit struct {
		RuleID string `json:"rule_id"`
		Line   int64  `json:"line"`
	}
	var hits []hit
	record := func(a *detect.Alert) {
		per[a.RuleID]++
		hits = append(hits, hit{a.RuleID, a.Offset})
	}
	for _, ev := range evs {
		if err := m.Process(ctx, ev, record); err != nil {
			return fmt.Errorf("process %s@%d: %w", ev.Source, ev.Offset, err)
		}
	}
	if err := m.Flush(ctx, record); err != nil {
		return fmt.Errorf("flush: %w", err)
	}

	alerts := 0
	discard := func(*detect.Alert) { alerts++ }
	runtime.GC()
	cpu0, w0 := cpuTime(), time.Now()
	for range rounds {
		for _, ev := range evs {
			if err := m.Process(ctx, ev, discard); err != nil {
				return fmt.Errorf("process %s@%d: %w", ev.Source, ev.Offset, err)
			}
		}
	}
	wall, cpu := time.Since(w0), cpuTime()-cpu0
	n := float64(len(evs) * rounds)
	fmt.Printf("events %d of %d (every %d) x %d rounds, GOMAXPROCS %d: wall %v, cpu %v, %.0f events/s wall, %.0f events/cpu-s, %d matches per pass\n",
		len(evs), total, every, rounds, runtime.GOMAXPROCS(0), wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
		n/wall.Seconds(), n/cpu.Seconds(), len(hits))

	if counts != "" {
		seen := map[string]bool{}
		type count struct {
			RuleID  string `json:"rule_id"`
			Matches int    `json:"matches"`
		}
		var cs []count
		for _, r := range rs.Rules {
			id := r.ID
			if id == "" {
				id = r.Path
			}
			if !seen[id] {
				seen[id] = true
				cs = append(cs, count{id, per[id]})
			}
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].RuleID < cs[j].RuleID })
		if err := writeJSONLines(counts, cs); err != nil {
			return err
		}
	}
	if matches != "" {
		if err := writeJSONLines(matches, hits); err != nil {
			return err
		}
	}
	return nil
}

func writeJSONLines[T any](path string, xs []T) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, x := range xs {
		if err := enc.Encode(x); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// readJSONL converts every nth line to an event whose Offset is the 0-based
// line number.
func readJSONL(path string, every int) ([]*event.Event, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var evs []*event.Event
	line := 0
	for ; sc.Scan(); line++ {
		if line%every != 0 {
			continue
		}
		fs, err := fields(sc.Bytes())
		if err != nil {
			return nil, 0, fmt.Errorf("%s line %d: %w", path, line+1, err)
		}
		raw := append([]byte(nil), sc.Bytes()...)
		evs = append(evs, event.New(path, "evtx", int64(line), time.Time{}, raw, fs))
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	return evs, line, nil
}

// fields flattens one JSON object: numbers keep their digits as Kind
// Number, lists repeat the name, nested objects get dotted names.
func fields(line []byte) ([]event.Field, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var fs []event.Field
	var add func(name string, v any)
	add = func(name string, v any) {
		switch x := v.(type) {
		case nil:
			fs = append(fs, event.Field{Name: name, Kind: event.Null})
		case bool:
			fs = append(fs, event.Field{Name: name, Value: fmt.Sprint(x), Kind: event.Bool})
		case json.Number:
			fs = append(fs, event.Field{Name: name, Value: x.String(), Kind: event.Number})
		case string:
			fs = append(fs, event.Field{Name: name, Value: x})
		case []any:
			for _, e := range x {
				add(name, e)
			}
		case map[string]any:
			ks := make([]string, 0, len(x))
			for k := range x {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			for _, k := range ks {
				add(name+"."+k, x[k])
			}
		}
	}
	for _, k := range keys {
		add(k, m[k])
	}
	return fs, nil
}

// readEVTX reads every nth record of the .evtx files under dir, in path
// order, decoding each event's fields once so that the timing is the
// engine's alone.
func readEVTX(dir string, every int) ([]*event.Event, int, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".evtx") {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", dir, err)
	}
	sort.Strings(paths)
	var evs []*event.Event
	n := 0
	for _, p := range paths {
		f, err := evtx.Open(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			continue
		}
		for {
			ev, err := f.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var re *evtx.RecordError
			if errors.As(err, &re) {
				fmt.Fprintf(os.Stderr, "%v\n", err)
				continue
			}
			if err != nil {
				f.Close()
				return nil, 0, fmt.Errorf("read %s: %w", p, err)
			}
			if n%every == 0 {
				ev.Raw = append([]byte(nil), ev.Raw...)
				fs := append([]event.Field(nil), ev.Fields()...)
				evs = append(evs, event.New(ev.Source, ev.Format, ev.Offset, ev.Time, ev.Raw, fs))
			}
			n++
		}
		f.Close()
	}
	return evs, n, nil
}

// cpuTime is the user plus system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
