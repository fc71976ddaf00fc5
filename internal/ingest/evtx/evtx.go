// Package evtx reads Windows XML Event Log (.evtx) files from their binary
// format: the file header, 64 KiB chunks with their string and template
// tables, event records and the Binary XML they hold, including template
// instances with substitution values of every value type.
//
// Each record becomes an event.Event with a flat list of fields named the way
// the reference python-evtx flat conversion names them (Provider_Name,
// EventID, Channel, ProcessID_System, SecurityUserID, EventData Data Name=X
// as X, ...). A corrupt chunk or record is reported as a *RecordError and
// reading goes on with the next readable record or chunk.
package evtx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/shieldwall/shieldwall/internal/event"
)

const (
	fileHeaderSize  = 4096
	chunkSize       = 65536
	chunkHeaderSize = 512
	recordHeader    = 24
)

var (
	fileMagic  = []byte("ElfFile\x00")
	chunkMagic = []byte("ElfChnk\x00")
)

// ErrNotEVTX says the data does not start with an EVTX file header.
var ErrNotEVTX = errors.New("evtx: not an EVTX file")

// RecordError reports a chunk or record that could not be read. Next may be
// called again to continue with the next readable record or chunk.
type RecordError struct {
	Chunk  int   // chunk number, from 0
	Offset int64 // file offset of the record (or of the chunk)
	Reason string
	Err    error // underlying cause, may be nil
}

func (e *RecordError) Error() string {
	s := fmt.Sprintf("evtx: chunk %d, offset %d: %s", e.Chunk, e.Offset, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RecordError) Unwrap() error { return e.Err }

// File reads the records of one EVTX file in order.
type File struct {
	r      io.ReaderAt
	closer io.Closer
	size   int64
	source string

	nchunks  int
	chunkIdx int // next chunk to load
	cur      *chunk
	recOff   int // offset of next record inside cur
	pending  error
	buf      []byte

	dec decoder
}

// Open opens an .evtx file.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evtx: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("evtx: %w", err)
	}
	f, err := NewReader(fh, st.Size(), path)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// NewReader reads an EVTX file of size bytes from r; source names it in the
// events.
func NewReader(r io.ReaderAt, size int64, source string) (*File, error) {
	if size < fileHeaderSize {
		if size >= 8 {
			hdr := make([]byte, 8)
			if _, err := r.ReadAt(hdr, 0); err == nil && !bytes.Equal(hdr, fileMagic) {
				return nil, fmt.Errorf("%w: %s: bad signature", ErrNotEVTX, source)
			}
		}
		return nil, fmt.Errorf("%w: %s: %d bytes, shorter than the %d-byte file header", ErrNotEVTX, source, size, fileHeaderSize)
	}
	hdr := make([]byte, 128)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("evtx: %s: read header: %w", source, err)
	}
	if !bytes.Equal(hdr[:8], fileMagic) {
		return nil, fmt.Errorf("%w: %s: bad signature %q", ErrNotEVTX, source, hdr[:8])
	}
	// The header's chunk count and checksum are not trusted: like other
	// readers we walk every chunk that the file holds (a last partial
	// chunk is read as far as it goes).
	f := &File{
		r:       r,
		size:    size,
		source:  source,
		nchunks: int((size - fileHeaderSize + chunkSize - 1) / chunkSize),
		buf:     make([]byte, chunkSize),
	}
	f.dec.init()
	return f, nil
}

// Close closes the underlying file when Open opened it.
func (f *File) Close() error {
	if f.closer != nil {
		err := f.closer.Close()
		f.closer = nil
		return err
	}
	return nil
}

// Next returns the next record as an event (Format "evtx", Source the path,
// Offset the EventRecordID, Time the TimeCreated SystemTime, Raw the record
// as a flat JSON object of its fields). It returns io.EOF after the last
// record, and a *RecordError for a corrupt chunk or record, after which Next
// may be called again: a chunk whose header is bad is skipped; a chunk whose
// records checksum fails is reported once and then read as far as its
// records can be parsed; after a broken record header the next record
// signature in the chunk is searched for.
func (f *File) Next() (*event.Event, error) {
	for {
		if f.cur == nil {
			if err := f.nextChunk(); err != nil {
				return nil, err
			}
			if f.cur == nil {
				continue
			}
			if f.pending != nil {
				err := f.pending
				f.pending = nil
				return nil, err
			}
		}
		c := f.cur
		if f.recOff >= c.freeOff || f.recOff+recordHeader+4 > c.avail {
			if f.recOff < c.freeOff && c.avail < c.freeOff {
				f.cur = nil
				return nil, &RecordError{Chunk: c.index, Offset: f.fileOff(f.recOff), Reason: "file truncated inside the chunk's records"}
			}
			f.cur = nil
			continue
		}
		pos := f.recOff
		size, id, err := c.recordHeader(pos)
		if err != nil {
			f.recOff = c.resync(pos + 8)
			return nil, &RecordError{Chunk: c.index, Offset: f.fileOff(pos), Reason: "bad record header", Err: err}
		}
		f.recOff = pos + size
		ev, err := f.dec.record(c, pos, size, id, f.source)
		if err != nil {
			return nil, &RecordError{Chunk: c.index, Offset: f.fileOff(pos), Reason: fmt.Sprintf("record %d", id), Err: err}
		}
		return ev, nil
	}
}

func (f *File) fileOff(pos int) int64 {
	return int64(fileHeaderSize) + int64(f.cur.index)*chunkSize + int64(pos)
}

// nextChunk loads the next chunk into f.cur (nil for an empty chunk), or
// returns io.EOF or a *RecordError for a chunk that cannot be read. Only
// the header and the written part of a chunk are read.
func (f *File) nextChunk() error {
	if f.chunkIdx >= f.nchunks {
		return io.EOF
	}
	idx := f.chunkIdx
	f.chunkIdx++
	off := int64(fileHeaderSize) + int64(idx)*chunkSize
	avail := int(min(f.size-off, chunkSize))
	if _, err := f.r.ReadAt(f.buf[:min(avail, chunkHeaderSize)], off); err != nil {
		return &RecordError{Chunk: idx, Offset: off, Reason: "read chunk header", Err: err}
	}
	if avail < chunkHeaderSize {
		if allZero(f.buf[:avail]) {
			return nil
		}
		return &RecordError{Chunk: idx, Offset: off, Reason: fmt.Sprintf("file truncated inside the chunk header (%d of %d bytes)", avail, chunkHeaderSize)}
	}
	c := &f.dec.c
	switch err := c.loadHeader(f.buf[:chunkHeaderSize], idx); {
	case errors.Is(err, errEmptyChunk):
		return nil
	case err != nil:
		return &RecordError{Chunk: idx, Offset: off, Reason: "bad chunk", Err: err}
	}
	need := min(c.freeOff, avail)
	if _, err := f.r.ReadAt(f.buf[chunkHeaderSize:need], off+chunkHeaderSize); err != nil {
		return &RecordError{Chunk: idx, Offset: off, Reason: "read chunk", Err: err}
	}
	if err := c.setData(f.buf[:need]); err != nil {
		// Reported, then read as far as the records parse.
		f.pending = &RecordError{Chunk: idx, Offset: off, Reason: "bad chunk", Err: err}
	}
	f.cur = c
	f.recOff = chunkHeaderSize
	return nil
}
