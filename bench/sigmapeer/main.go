// Command sigmapeer runs the Windows rules of the SigmaHQ corpus over the
// EVTX attack samples (python-evtx.jsonl) with a peer Sigma engine, writes
// per-rule match counts and prints events per CPU-second, for comparison with
// Shieldwall's engine (bench/sigmaspeed in the main module).
//
//	go run . -peer sigmago -every 1 -counts sigmago.counts.jsonl -matches sigmago.matches.jsonl
//	go run . -peer markuskont ...
//	go run . -compare out/ours.counts.jsonl,out/sigmago.counts.jsonl
//
// Peers: github.com/bradleyjkemp/sigma-go (MIT) and
// github.com/markuskont/go-sigma-rule-engine (Apache-2.0). Both leave log
// sources to the caller; both are given the same Channel/EventID table
// (logsource.go) that Shieldwall uses.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"
)

// record is one line of python-evtx.jsonl.
type record struct {
	line    int            // 0-based line number in the jsonl file
	fields  map[string]any // decoded as the peer expects
	channel string
	eventID string
}

// engine evaluates every loaded rule over one record and calls hit for
// each rule that matched.
type engine interface {
	// load parses the rules; it reports rules loaded and failed.
	load(dir string) (loaded, failed int, err error)
	// ruleIDs lists the ids of the loaded rules.
	ruleIDs() []string
	eval(r *record, hit func(ruleID string))
	// notes says what went wrong during evaluation (errors per rule).
	notes() string
}

func main() {
	var (
		peer     = flag.String("peer", "sigmago", "sigmago or markuskont")
		events   = flag.String("events", "../../../shared/corpora/evtx-attack-samples/python-evtx.jsonl", "python-evtx JSON lines")
		rules    = flag.String("rules", "../../../shared/corpora/sigma/rules/windows", "Sigma rules directory")
		every    = flag.Int("every", 1, "use every Nth record only (1: all)")
		counts   = flag.String("counts", "", "write per-rule match counts as JSON lines here")
		matches  = flag.String("matches", "", "write one JSON line per (rule, record) match here")
		errs     = flag.String("errors", "", "sigmago: write per-rule evaluation errors as JSON lines here")
		cmp      = flag.String("compare", "", "A,B: compare two counts files instead of running a peer")
		floatNum = flag.Bool("float", false, "decode JSON numbers as float64 instead of json.Number")
	)
	flag.Parse()
	if *cmp != "" {
		a, b, ok := strings.Cut(*cmp, ",")
		if !ok {
			log.Fatal("-compare wants A,B")
		}
		if err := compare(os.Stdout, a, b); err != nil {
			log.Fatal(err)
		}
		return
	}
	var e engine
	switch *peer {
	case "sigmago":
		e = &sigmaGo{}
	case "markuskont":
		e = &markusKont{}
		*floatNum = true // its README: JSON numbers are float64
	default:
		log.Fatalf("unknown peer %q", *peer)
	}
	recs, total, err := readRecords(*events, *every, !*floatNum)
	if err != nil {
		log.Fatal(err)
	}
	t0 := time.Now()
	loaded, failed, err := e.load(*rules)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("peer %s: %d rules loaded, %d failed, load %v\n", *peer, loaded, failed, time.Since(t0).Round(time.Millisecond))

	per := map[string]int{}
	var hits []hit
	cpu0 := cpuTime()
	w0 := time.Now()
	for i := range recs {
		r := &recs[i]
		e.eval(r, func(id string) {
			per[id]++
			hits = append(hits, hit{RuleID: id, Line: r.line})
		})
	}
	wall := time.Since(w0)
	cpu := cpuTime() - cpu0
	fmt.Printf("events %d of %d (every %d), GOMAXPROCS %d: wall %v, cpu %v, %.1f events/s wall, %.1f events/cpu-s, %d matches\n",
		len(recs), total, *every, runtime.GOMAXPROCS(0), wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
		float64(len(recs))/wall.Seconds(), float64(len(recs))/cpu.Seconds(), len(hits))
	if n := e.notes(); n != "" {
		fmt.Print(n)
	}
	if *counts != "" {
		if err := writeCounts(*counts, e.ruleIDs(), per); err != nil {
			log.Fatal(err)
		}
	}
	if sg, ok := e.(*sigmaGo); ok && *errs != "" {
		if err := writeJSONLines(*errs, sg.errors()); err != nil {
			log.Fatal(err)
		}
	}
	if *matches != "" {
		if err := writeJSONLines(*matches, hits); err != nil {
			log.Fatal(err)
		}
	}
}

type hit struct {
	RuleID string `json:"rule_id"`
	Line   int    `json:"line"`
}

type count struct {
	RuleID  string `json:"rule_id"`
	Matches int    `json:"matches"`
}

func writeCounts(path string, ids []string, per map[string]int) error {
	seen := map[string]bool{}
	var cs []count
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			cs = append(cs, count{id, per[id]})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].RuleID < cs[j].RuleID })
	return writeJSONLines(path, cs)
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

// readRecords decodes every nth line of the jsonl file.
func readRecords(path string, every int, useNumber bool) ([]record, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var recs []record
	line := 0
	for ; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 && line%every == 0 {
			dec := json.NewDecoder(bytes.NewReader(b))
			if useNumber {
				dec.UseNumber()
			}
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				return nil, 0, fmt.Errorf("%s line %d: %w", path, line+1, err)
			}
			r := record{line: line, fields: m}
			r.channel, _ = m["Channel"].(string)
			r.eventID = fmt.Sprint(m["EventID"])
			recs = append(recs, r)
		}
		if err == io.EOF {
			if len(bytes.TrimSpace(b)) == 0 {
				line--
			}
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return recs, line + 1, nil
}

// cpuTime is the user plus system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
