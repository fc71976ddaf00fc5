package jsonlines

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/shieldwall/shieldwall/internal/event"
)

const corpus = "../../../../shared/corpora/otrf"

// refValue flattens a value decoded by encoding/json the way the Decoder
// does (map order aside).
func refValue(name string, v any, dst []event.Field) []event.Field {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			n := k
			if name != "" {
				n = name + "." + k
			}
			dst = refValue(n, x, dst)
		}
	case []any:
		for _, x := range v {
			dst = refValue(name, x, dst)
		}
	case string:
		dst = append(dst, event.Field{Name: name, Value: v})
	case json.Number:
		dst = append(dst, event.Field{Name: name, Value: string(v), Kind: event.Number})
	case float64:
		dst = append(dst, event.Field{Name: name, Value: strconv.FormatFloat(v, 'g', -1, 64), Kind: event.Number})
	case bool:
		dst = append(dst, event.Field{Name: name, Value: strconv.FormatBool(v), Kind: event.Bool})
	case nil:
		dst = append(dst, event.Field{Name: name, Kind: event.Null})
	}
	return dst
}

// corpusLines returns every line of the otrf Windows JSON-lines datasets
// (atomic and compound) and of the Zeek JSON logs, skipping the test when
// the corpus is absent.
func corpusLines(tb testing.TB) (windows, zeek [][]byte) {
	tb.Helper()
	if _, err := os.Stat(corpus); err != nil {
		tb.Skipf("otrf corpus not found at %s (see /work/shared/corpora/README.md): %v", corpus, err)
	}
	read := func(pattern string) [][]byte {
		var out [][]byte
		err := filepath.WalkDir(filepath.Join(corpus, pattern), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !bytes.HasPrefix(data, []byte("{")) { // TSV Zeek logs are the zeek package's
				return nil
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 16<<20)
			for sc.Scan() {
				if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
					out = append(out, append([]byte(nil), l...))
				}
			}
			return sc.Err()
		})
		if err != nil {
			tb.Fatalf("reading corpus %s: %v", pattern, err)
		}
		return out
	}
	windows = append(read("atomic"), read("compound")...)
	zeek = read("zeek")
	if len(windows) == 0 || len(zeek) == 0 {
		tb.Fatalf("corpus %s: %d Windows lines, %d Zeek JSON lines; want some of both", corpus, len(windows), len(zeek))
	}
	return windows, zeek
}

// corpusSeeds returns the first line of a few corpus files, for fuzz seeds.
func corpusSeeds() [][]byte {
	var out [][]byte
	for _, p := range []string{"compound/GoldenSAMLADFSMailAccess/AADAuditEvents.json", "zeek/apt29/day1/zeek/dns.log", "zeek/apt29/day1/zeek/http.log"} {
		data, err := os.ReadFile(filepath.Join(corpus, p))
		if err != nil {
			continue
		}
		if i := bytes.IndexByte(data, '\n'); i > 0 {
			out = append(out, data[:i])
		}
	}
	return out
}

// refUnmarshal is the baseline the benchmarks compare with: json.Unmarshal
// into map[string]any, then flattening (numbers formatted back to text).
func refUnmarshal(line []byte, dst []event.Field) ([]event.Field, error) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return dst, err
	}
	return refValue("", m, dst), nil
}

// refTokens flattens with encoding/json's token stream, which keeps the
// order and the duplicate keys a map loses, for an exact comparison.
func refTokens(line []byte) ([]event.Field, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var out []event.Field
	var value func(name string, top bool) error
	value = func(name string, top bool) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			for dec.More() {
				n := name
				if v == '{' {
					kt, err := dec.Token()
					if err != nil {
						return err
					}
					n = kt.(string)
					if !top {
						n = name + "." + n
					}
				}
				if err := value(n, false); err != nil {
					return err
				}
			}
			_, err := dec.Token() // closing delimiter
			return err
		case string:
			out = append(out, event.Field{Name: name, Value: v})
		case json.Number:
			out = append(out, event.Field{Name: name, Value: string(v), Kind: event.Number})
		case bool:
			out = append(out, event.Field{Name: name, Value: fmt.Sprint(v), Kind: event.Bool})
		case nil:
			out = append(out, event.Field{Name: name, Kind: event.Null})
		}
		return nil
	}
	err := value("", true)
	return out, err
}
