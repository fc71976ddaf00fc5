package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// chunk is one 64 KiB chunk being read, with the names and templates its
// records have defined so far (both are keyed by their offset in the chunk).
type chunk struct {
	data    []byte
	index   int
	avail   int // len(data): bytes read, up to the free space offset
	freeOff int

	names     map[uint32]string
	templates map[uint32]*template
}

var (
	errEmptyChunk      = errors.New("empty chunk")
	errRecordsChecksum = errors.New("records checksum mismatch")
)

// loadHeader checks the 512-byte chunk header in hdr and resets the
// per-chunk tables. It returns errEmptyChunk for a chunk that was never
// written.
func (c *chunk) loadHeader(hdr []byte, index int) error {
	c.index = index
	c.freeOff = chunkHeaderSize
	clear(c.names)
	clear(c.templates)
	if string(hdr[:8]) != string(chunkMagic) {
		if allZero(hdr[:chunkHeaderSize]) {
			return errEmptyChunk
		}
		return fmt.Errorf("bad chunk signature %q", hdr[:8])
	}
	if hs := binary.LittleEndian.Uint32(hdr[40:]); hs != 128 {
		return fmt.Errorf("chunk header size %d, want 128", hs)
	}
	crc := crc32.NewIEEE()
	crc.Write(hdr[:120])
	crc.Write(hdr[128:chunkHeaderSize])
	if got, want := crc.Sum32(), binary.LittleEndian.Uint32(hdr[124:]); got != want {
		return fmt.Errorf("chunk header checksum %#08x, header says %#08x", got, want)
	}
	free := int(binary.LittleEndian.Uint32(hdr[48:]))
	if free < chunkHeaderSize || free > chunkSize {
		return fmt.Errorf("free space offset %d out of range", free)
	}
	c.freeOff = free
	return nil
}

// setData gives the chunk its bytes up to the free space offset (fewer
// when the file ends before) and checks the records checksum when all are
// there. Names, templates and records are only looked for in data.
func (c *chunk) setData(data []byte) error {
	c.data, c.avail = data, len(data)
	if c.avail < c.freeOff {
		return nil // truncated: the checksum cannot match
	}
	if got, want := crc32.ChecksumIEEE(data[chunkHeaderSize:c.freeOff]), binary.LittleEndian.Uint32(data[52:]); got != want {
		return fmt.Errorf("%w: computed %#08x, header says %#08x", errRecordsChecksum, got, want)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// recordHeader checks the record at pos and returns its size and id.
func (c *chunk) recordHeader(pos int) (size int, id uint64, err error) {
	d := c.data
	if binary.LittleEndian.Uint32(d[pos:]) != 0x00002a2a {
		return 0, 0, fmt.Errorf("bad record signature % x", d[pos:pos+4])
	}
	size = int(binary.LittleEndian.Uint32(d[pos+4:]))
	if size < recordHeader+4 || pos+size > chunkSize {
		return 0, 0, fmt.Errorf("record size %d out of range", size)
	}
	if pos+size > c.avail {
		if c.avail < c.freeOff {
			return 0, 0, fmt.Errorf("record of %d bytes truncated by the end of the file", size)
		}
		return 0, 0, fmt.Errorf("record of %d bytes runs past the free space offset %d", size, c.freeOff)
	}
	if s2 := int(binary.LittleEndian.Uint32(d[pos+size-4:])); s2 != size {
		return 0, 0, fmt.Errorf("record size %d, trailing copy %d", size, s2)
	}
	return size, binary.LittleEndian.Uint64(d[pos+8:]), nil
}

// resync returns the offset of the first plausible record header (its
// signature, size and trailing size copy agree) at or after from, or
// c.freeOff.
func (c *chunk) resync(from int) int {
	for p := from; p+recordHeader+4 <= c.avail && p < c.freeOff; p++ {
		if c.data[p] == 0x2a && c.data[p+1] == 0x2a && c.data[p+2] == 0 && c.data[p+3] == 0 {
			if _, _, err := c.recordHeader(p); err == nil {
				return p
			}
		}
	}
	return c.freeOff
}

// name returns the name string at off. inlineAt is the position right after
// the offset field: a name stored there is part of the token stream and its
// length is returned so the caller can step over it.
func (c *chunk) name(off uint32, inlineAt int) (string, int, error) {
	skip := 0
	if int(off) == inlineAt {
		if inlineAt+8 > len(c.data) {
			return "", 0, errShort
		}
		n := int(binary.LittleEndian.Uint16(c.data[inlineAt+6:]))
		skip = 8 + 2*n + 2
	}
	if s, ok := c.names[off]; ok {
		return s, skip, nil
	}
	o := int(off)
	if o < chunkHeaderSize-384 || o+8 > len(c.data) {
		return "", 0, fmt.Errorf("name offset %d out of range", off)
	}
	n := int(binary.LittleEndian.Uint16(c.data[o+6:]))
	if o+8+2*n > len(c.data) {
		return "", 0, fmt.Errorf("name at %d: length %d past chunk end", off, n)
	}
	s := utf16String(c.data[o+8 : o+8+2*n])
	c.names[off] = s
	return s, skip, nil
}
