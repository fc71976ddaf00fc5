package sigma

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// loadAttackSamples converts python-evtx.jsonl to events: JSON numbers stay
// numbers, everything else is a string (null is a Null field).
func loadAttackSamples(tb testing.TB) []*event.Event {
	p := filepath.Join(corpora, "evtx-attack-samples", "python-evtx.jsonl")
	f, err := os.Open(p)
	if err != nil {
		tb.Skipf("EVTX attack samples not found at %s: %v", p, err)
	}
	defer f.Close()
	var evs []*event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for i := 0; sc.Scan(); i++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			tb.Fatalf("%s line %d: %v", p, i+1, err)
		}
		var fs []event.Field
		for k, v := range m {
			fs = appendJSON(fs, k, v)
		}
		raw := append([]byte(nil), sc.Bytes()...)
		evs = append(evs, event.New(p, "evtx", int64(i), timeZero, raw, fs))
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", p, err)
	}
	return evs
}

func windowsMatcher(tb testing.TB, limit int) *Matcher {
	d := filepath.Join(sigmaDir(tb), "rules", "windows")
	rs, _, err := LoadDirs([]string{d}, Options{})
	if err != nil {
		tb.Fatalf("LoadDirs: %v", err)
	}
	rules := rs.Rules
	if limit > 0 && limit < len(rules) {
		rules = rules[:limit]
	}
	m, _ := Compile(rules, Options{})
	return m
}

func benchEvents(b *testing.B, m *Matcher, evs []*event.Event) {
	ctx := context.Background()
	alerts := 0
	emit := func(*detect.Alert) { alerts++ }
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		for _, ev := range evs {
			if err := m.Process(ctx, ev, emit); err != nil {
				b.Fatal(err)
			}
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	// The machine is shared: events per second of CPU time used by this
	// process is the per-core figure that contention does not distort.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "events/cpu-s")
	}
	b.ReportMetric(float64(alerts)/float64(n), "alerts/event")
}

// BenchmarkWindowsRules runs all Windows rules of the corpus over the 7,167
// records of the EVTX attack samples.
func BenchmarkWindowsRules(b *testing.B) {
	evs := loadAttackSamples(b)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	m := windowsMatcher(b, 0)
	took := time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	rules, compiled := m.Stats()
	b.Logf("%d rules, %d compiled, %d events; load+compile %v, heap growth %.1f MiB (rules and matcher)",
		rules, compiled, len(evs), took.Round(time.Millisecond), float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20))
	benchEvents(b, m, evs)
}

// BenchmarkRuleCount shows how the cost per event grows with the number of
// rules (1, 100, all Windows rules).
func BenchmarkRuleCount(b *testing.B) {
	evs := loadAttackSamples(b)
	for _, n := range []int{1, 100, 0} {
		name := "all"
		if n > 0 {
			name = strconv.Itoa(n)
		}
		b.Run(name, func(b *testing.B) {
			benchEvents(b, windowsMatcher(b, n), evs)
		})
	}
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
