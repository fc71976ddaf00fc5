package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// multiChunkSample has three chunks holding 189, 180 and 46 records.
var multiChunkSample = filepath.Join(attackSamples, "Credential Access", "etw_rpc_zerologon.evtx")

// sample returns the first three chunks of multiChunkSample.
func sample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(multiChunkSample)
	if err != nil {
		t.Skipf("sample absent (%v): see shared/corpora/README.md", err)
	}
	return b[:fileHeaderSize+3*chunkSize]
}

// result is what reading a whole file gave: the record ids in order and
// the errors.
type result struct {
	ids  []int64
	errs []*RecordError
}

func readBytes(t *testing.T, b []byte) result {
	t.Helper()
	f, err := NewReader(bytes.NewReader(b), int64(len(b)), "mem")
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var r result
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("Next never returned io.EOF")
		}
		ev, err := f.Next()
		if err == io.EOF {
			return r
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Next error %v (%T), want a *RecordError", err, err)
			}
			r.errs = append(r.errs, re)
			continue
		}
		r.ids = append(r.ids, ev.Offset)
	}
}

// recordOffsets returns the chunk offsets of the records of chunk ci.
func recordOffsets(b []byte, ci int) []int {
	c := b[fileHeaderSize+ci*chunkSize:]
	free := int(binary.LittleEndian.Uint32(c[48:]))
	var out []int
	for p := chunkHeaderSize; p < free; p += int(binary.LittleEndian.Uint32(c[p+4:])) {
		out = append(out, p)
	}
	return out
}

func TestNewReaderRejects(t *testing.T) {
	rnd := make([]byte, 3*chunkSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"zero length", nil},
		{"short", []byte("ElfFile\x00abc")},
		{"garbage", rnd},
		{"text", []byte(strings.Repeat("not an event log\n", 1000))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.data), int64(len(tc.data)), tc.name)
			if !errors.Is(err, ErrNotEVTX) {
				t.Errorf("NewReader(%s) = %v, want ErrNotEVTX", tc.name, err)
			}
		})
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.evtx")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
}

func TestCorruptInput(t *testing.T) {
	orig := sample(t)
	full := readBytes(t, orig)
	if len(full.errs) != 0 || len(full.ids) != 189+180+46 {
		t.Fatalf("clean sample: %d records, errors %v; want 415, none", len(full.ids), full.errs)
	}
	c0 := recordOffsets(orig, 0)
	c1 := recordOffsets(orig, 1)
	chunk0 := len(c0)
	chunk1 := len(c1)
	at := func(ci, off int) int { return fileHeaderSize + ci*chunkSize + off }
	without := func(ids []int64, i int) []int64 {
		return append(append([]int64{}, ids[:i]...), ids[i+1:]...)
	}

	for _, tc := range []struct {
		name     string
		mutate   func(b []byte) []byte
		wantIDs  []int64
		wantErrs []string // substrings, one per error, in order
	}{
		{
			name:     "chunk signature",
			mutate:   func(b []byte) []byte { copy(b[at(0, 0):], "XXXXXXXX"); return b },
			wantIDs:  full.ids[chunk0:],
			wantErrs: []string{"chunk 0, offset 4096: bad chunk: bad chunk signature"},
		},
		{
			name:     "chunk header checksum",
			mutate:   func(b []byte) []byte { b[at(1, 60)] ^= 0xff; return b },
			wantIDs:  append(append([]int64{}, full.ids[:chunk0]...), full.ids[chunk0+chunk1:]...),
			wantErrs: []string{"chunk 1, offset 69632: bad chunk: chunk header checksum"},
		},
		{
			name: "records checksum",
			mutate: func(b []byte) []byte {
				b[at(0, 52)] ^= 0xff // then fix the header checksum over it
				h := b[at(0, 0):at(0, chunkHeaderSize)]
				sum := crc32.Update(crc32.ChecksumIEEE(h[:120]), crc32.IEEETable, h[128:])
				binary.LittleEndian.PutUint32(h[124:], sum)
				return b
			},
			wantIDs:  full.ids,
			wantErrs: []string{"chunk 0, offset 4096: bad chunk: records checksum mismatch"},
		},
		{
			name:    "record signature",
			mutate:  func(b []byte) []byte { copy(b[at(0, c0[2]):], "\xff\xff\xff\xff"); return b },
			wantIDs: without(full.ids, 2),
			wantErrs: []string{
				"chunk 0, offset 4096: bad chunk: records checksum mismatch",
				"bad record header: bad record signature",
			},
		},
		{
			name: "record size",
			mutate: func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[at(1, c1[5])+4:], 0x7fffffff)
				return b
			},
			wantIDs: without(full.ids, chunk0+5),
			wantErrs: []string{
				"chunk 1, offset 69632: bad chunk: records checksum mismatch",
				"bad record header: record size 2147483647 out of range",
			},
		},
		{
			name: "binary xml token",
			mutate: func(b []byte) []byte {
				// The last record of chunk 0 uses templates defined earlier:
				// break its template instance token.
				b[at(0, c0[len(c0)-1])+recordHeader+4] = 0x77
				return b
			},
			wantIDs: without(full.ids, chunk0-1),
			wantErrs: []string{
				"records checksum mismatch",
				"unexpected token 0x77",
			},
		},
		{
			name:    "truncated in chunk 1",
			mutate:  func(b []byte) []byte { return b[:at(1, c1[10]+30)] },
			wantIDs: full.ids[:chunk0+10],
			wantErrs: []string{
				"chunk 1, offset " + itoa(at(1, c1[10])) + ": bad record header: record of",
			},
		},
		{
			name:     "truncated in chunk header",
			mutate:   func(b []byte) []byte { return b[:at(2, 100)] },
			wantIDs:  full.ids[:chunk0+chunk1],
			wantErrs: []string{"chunk 2, offset 135168: file truncated inside the chunk header"},
		},
		{
			name:     "garbage chunk",
			mutate:   func(b []byte) []byte { fill(b[at(1, 0):at(2, 0)], 3); return b },
			wantIDs:  append(append([]int64{}, full.ids[:chunk0]...), full.ids[chunk0+chunk1:]...),
			wantErrs: []string{"chunk 1, offset 69632: bad chunk: bad chunk signature"},
		},
		{
			name: "garbage records",
			mutate: func(b []byte) []byte {
				fill(b[at(0, c0[3]):at(0, c0[6])], 4)
				return b
			},
			wantIDs:  append(append([]int64{}, full.ids[:3]...), full.ids[6:]...),
			wantErrs: []string{"records checksum mismatch", "bad record header"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(bytes.Clone(orig))
			got := readBytes(t, b)
			if diff := cmp.Diff(tc.wantIDs, got.ids); diff != "" {
				t.Errorf("record ids (-want +got):\n%s", diff)
			}
			if len(got.errs) != len(tc.wantErrs) {
				t.Fatalf("errors = %v, want %d matching %q", got.errs, len(tc.wantErrs), tc.wantErrs)
			}
			for i, e := range got.errs {
				if !strings.Contains(e.Error(), tc.wantErrs[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e, tc.wantErrs[i])
				}
			}
		})
	}
}

func fill(b []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestEOFAndClose(t *testing.T) {
	f, err := Open(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		n++
	}
	if n != 101 {
		t.Errorf("%s: %d records, want 101", seedFile, n)
	}
	if _, err := f.Next(); err != io.EOF {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
