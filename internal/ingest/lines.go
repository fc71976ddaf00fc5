package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is the longest line (record) read when Options.MaxLine is 0.
const DefaultMaxLine = 1 << 20

// ErrLineTooLong reports a line over the maximum; it was skipped without
// being held in memory whole.
var ErrLineTooLong = errors.New("ingest: line too long")

// LineReader splits a byte stream into lines with bounded memory. A line
// longer than the maximum is skipped and reported as a *RecordError wrapping
// ErrLineTooLong; reading goes on after it.
//
// When Final is false a last line without its newline is not returned: Next
// reports io.EOF and keeps the partial line, so that a later Next, after the
// underlying file grew, returns it complete (what following a file needs).
// When Final is true the partial last line is returned at io.EOF.
type LineReader struct {
	// Final says the stream ends at io.EOF (a whole file, stdin).
	Final bool

	r          io.Reader
	source     string
	max        int
	buf        []byte
	start, end int   // unread data is buf[start:end]
	scanned    int   // buf[start:scanned] holds no '\n'
	off        int64 // stream offset of buf[start]
	discarding bool  // skipping the rest of a too-long line
	discardOff int64 // where that line started
}

// NewLineReader reads lines from r, which starts at stream offset off;
// source names the stream in errors; max <= 0 means DefaultMaxLine.
func NewLineReader(r io.Reader, source string, off int64, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &LineReader{r: r, source: source, max: max, off: off, buf: make([]byte, 0, min(max+1, 64<<10))}
}

// Offset is the stream offset just past the last line returned: where
// reading would resume.
func (lr *LineReader) Offset() int64 { return lr.off }

// Buffered reports how many bytes are held after Offset (a partial line).
func (lr *LineReader) Buffered() int { return lr.end - lr.start }

// Next returns the next line with its newline (and any "\r") kept, and the
// stream offset where it starts. The line is valid until the next call.
// Errors: io.EOF at the end of the data, a *RecordError for a skipped line
// (call Next again), or the reader's error.
func (lr *LineReader) Next() (line []byte, off int64, err error) {
	for {
		if i := bytes.IndexByte(lr.buf[lr.scanned:lr.end], '\n'); i >= 0 {
			nl := lr.scanned + i
			line, off = lr.buf[lr.start:nl+1], lr.off
			lr.off += int64(nl + 1 - lr.start)
			lr.start, lr.scanned = nl+1, nl+1
			if lr.discarding {
				lr.discarding = false
				return nil, lr.discardOff, &RecordError{Source: lr.source, Offset: lr.discardOff, Err: fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, lr.max)}
			}
			if contentLen(line) > lr.max {
				return nil, off, &RecordError{Source: lr.source, Offset: off, Err: fmt.Errorf("%w (%d bytes, over %d)", ErrLineTooLong, len(line), lr.max)}
			}
			return line, off, nil
		}
		lr.scanned = lr.end
		if lr.end-lr.start > lr.max+1 {
			// Too long: drop what is held and skip to the next newline.
			if !lr.discarding {
				lr.discarding, lr.discardOff = true, lr.off
			}
			lr.off += int64(lr.end - lr.start)
			lr.start, lr.end, lr.scanned = 0, 0, 0
		}
		if err := lr.fill(); err != nil {
			if err != io.EOF || !lr.Final || lr.end == lr.start {
				if err == io.EOF && lr.Final && lr.discarding {
					lr.discarding = false
					return nil, lr.discardOff, &RecordError{Source: lr.source, Offset: lr.discardOff, Err: fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, lr.max)}
				}
				return nil, lr.off, err
			}
			// The last line of a final stream, without its newline.
			line, off = lr.buf[lr.start:lr.end], lr.off
			lr.off += int64(lr.end - lr.start)
			lr.start, lr.end, lr.scanned = 0, 0, 0
			if lr.discarding || len(line) > lr.max {
				d := off
				if lr.discarding {
					d = lr.discardOff
				}
				lr.discarding = false
				return nil, d, &RecordError{Source: lr.source, Offset: d, Err: fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, lr.max)}
			}
			return line, off, nil
		}
	}
}

// fill reads more data, compacting or growing the buffer as needed.
func (lr *LineReader) fill() error {
	if lr.start > 0 {
		n := copy(lr.buf[:cap(lr.buf)], lr.buf[lr.start:lr.end])
		lr.scanned -= lr.start
		lr.start, lr.end = 0, n
		lr.buf = lr.buf[:n]
	}
	if lr.end == cap(lr.buf) {
		nb := make([]byte, lr.end, min(2*cap(lr.buf), lr.max+64<<10))
		copy(nb, lr.buf[:lr.end])
		lr.buf = nb
	}
	for tries := 0; ; tries++ {
		n, err := lr.r.Read(lr.buf[lr.end:cap(lr.buf)])
		lr.end += n
		lr.buf = lr.buf[:lr.end]
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
		if tries > 100 {
			return io.ErrNoProgress
		}
	}
}

// Reset makes lr read r from stream offset off, dropping what it holds
// (after a file was truncated or replaced).
func (lr *LineReader) Reset(r io.Reader, off int64) {
	lr.r, lr.off = r, off
	lr.start, lr.end, lr.scanned = 0, 0, 0
	lr.buf = lr.buf[:0]
	lr.discarding = false
}

// contentLen is the length of line without its "\n" or "\r\n".
func contentLen(line []byte) int {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	}
	return n
}
