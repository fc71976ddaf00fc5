package evtx

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"testing"
)

const seedFile = "testdata/rdp_tunnel_5156.evtx"

func seed(f *testing.F) []byte {
	b, err := os.ReadFile(seedFile)
	if err != nil {
		f.Fatalf("seed: %v", err)
	}
	return b
}

// drain reads every record of data, checking that each event is sound.
func drain(t *testing.T, data []byte) {
	f, err := NewReader(bytes.NewReader(data), int64(len(data)), "fuzz")
	if err != nil {
		if !errors.Is(err, ErrNotEVTX) {
			t.Fatalf("NewReader error %v is not ErrNotEVTX", err)
		}
		return
	}
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("Next never returned io.EOF")
		}
		ev, err := f.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Next error %v (%T), want *RecordError", err, err)
			}
			continue
		}
		if !json.Valid(ev.Raw) {
			t.Fatalf("record %d: Raw is not valid JSON: %q", ev.Offset, ev.Raw)
		}
		_ = ev.Fields()
	}
}

// FuzzOpen feeds whole files to the reader.
func FuzzOpen(f *testing.F) {
	b := seed(f)
	f.Add(b)
	f.Add(b[:fileHeaderSize+chunkHeaderSize+3000])
	f.Add([]byte("ElfFile\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		drain(t, data)
	})
}

// FuzzRecords puts the fuzzed bytes in the records area of the seed's
// chunk with valid checksums, so that the fuzzer reaches the record and
// Binary XML parsers instead of stopping at the chunk checks.
func FuzzRecords(f *testing.F) {
	b := seed(f)
	c := b[fileHeaderSize : fileHeaderSize+chunkSize]
	free := int(binary.LittleEndian.Uint32(c[48:]))
	f.Add(bytes.Clone(c[chunkHeaderSize:free]))
	// The first records alone (templates defined inline).
	f.Add(bytes.Clone(c[chunkHeaderSize : chunkHeaderSize+4000]))
	f.Fuzz(func(t *testing.T, recs []byte) {
		if len(recs) > chunkSize-chunkHeaderSize {
			recs = recs[:chunkSize-chunkHeaderSize]
		}
		file := make([]byte, fileHeaderSize+chunkSize)
		copy(file, b[:fileHeaderSize])
		ch := file[fileHeaderSize:]
		copy(ch, c[:chunkHeaderSize])
		copy(ch[chunkHeaderSize:], recs)
		free := chunkHeaderSize + len(recs)
		binary.LittleEndian.PutUint32(ch[48:], uint32(free))
		binary.LittleEndian.PutUint32(ch[52:], crc32.ChecksumIEEE(ch[chunkHeaderSize:free]))
		sum := crc32.Update(crc32.ChecksumIEEE(ch[:120]), crc32.IEEETable, ch[128:chunkHeaderSize])
		binary.LittleEndian.PutUint32(ch[124:], sum)
		drain(t, file)
	})
}
