package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// compare prints every rule whose match count differs between two runs
// (a.counts.jsonl and b.counts.jsonl), with the matching records only one
// of them found when the .matches.jsonl files lie beside the counts. A rule
// missing from one run (not loaded) is shown with "-".
func compare(w io.Writer, aPath, bPath string) error {
	a, err := readCounts(aPath)
	if err != nil {
		return err
	}
	b, err := readCounts(bPath)
	if err != nil {
		return err
	}
	am, _ := readMatches(strings.Replace(aPath, ".counts.", ".matches.", 1))
	bm, _ := readMatches(strings.Replace(bPath, ".counts.", ".matches.", 1))
	ids := map[string]bool{}
	for id := range a {
		ids[id] = true
	}
	for id := range b {
		ids[id] = true
	}
	var diff []string
	for id := range ids {
		if a[id] != b[id] {
			diff = append(diff, id)
		}
	}
	sort.Strings(diff)
	fmt.Fprintf(w, "%d rules differ between %s and %s\n", len(diff), aPath, bPath)
	for _, id := range diff {
		fmt.Fprintf(w, "%s\t%s\t%s\tonly-a %v\tonly-b %v\n", id, show(a, id), show(b, id),
			minus(am[id], bm[id]), minus(bm[id], am[id]))
	}
	return nil
}

func show(m map[string]int, id string) string {
	if n, ok := m[id]; ok {
		return fmt.Sprint(n)
	}
	return "-"
}

// minus lists the lines of x not in y (at most 10).
func minus(x, y []int) []int {
	in := map[int]bool{}
	for _, l := range y {
		in[l] = true
	}
	var out []int
	for _, l := range x {
		if !in[l] && len(out) < 10 {
			out = append(out, l)
		}
	}
	return out
}

func readCounts(path string) (map[string]int, error) {
	out := map[string]int{}
	err := eachLine(path, func(b []byte) error {
		var c count
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		out[c.RuleID] = c.Matches
		return nil
	})
	return out, err
}

func readMatches(path string) (map[string][]int, error) {
	out := map[string][]int{}
	err := eachLine(path, func(b []byte) error {
		var h hit
		if err := json.Unmarshal(b, &h); err != nil {
			return err
		}
		out[h.RuleID] = append(out[h.RuleID], h.Line)
		return nil
	})
	return out, err
}

func eachLine(path string, f func([]byte) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if err := f(sc.Bytes()); err != nil {
			return fmt.Errorf("%s line %d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
