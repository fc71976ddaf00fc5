package ioclist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// maxLine bounds one line of a plain list; longer lines are reported and
// skipped.
const maxLine = 64 << 10

// ReadPlain reads an indicator list with one value per line and yields an
// indicator for each, preceded once by each TLP marking definition used.
// Blank lines and lines starting with # are skipped, as is a trailing
// comment after whitespace ("1.2.3.4  # c2"). Values may be defanged. A
// line that is no indicator yields a *LineError and reading goes on; any
// other error (bad options, a failing reader) ends the sequence. Breaking
// out of the loop stops reading.
func ReadPlain(r io.Reader, opts Options) iter.Seq2[stix.Object, error] {
	return func(yield func(stix.Object, error) bool) {
		b, err := newBuilder(opts)
		if err != nil {
			yield(stix.Object{}, err)
			return
		}
		br := bufio.NewReaderSize(r, maxLine)
		for n := 1; ; n++ {
			line, err := br.ReadSlice('\n')
			tooLong := false
			for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of a long line
				tooLong = true
				_, err = br.ReadSlice('\n')
			}
			if tooLong {
				if !yield(stix.Object{}, &LineError{Line: n, Err: fmt.Errorf("line longer than %d bytes", maxLine)}) {
					return
				}
			} else if len(line) > 0 {
				if n == 1 {
					line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
				}
				if !b.plainLine(n, line, yield) {
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(stix.Object{}, fmt.Errorf("ioclist: reading line %d: %w", n, err))
				return
			}
		}
	}
}

func (b *builder) plainLine(n int, line []byte, yield func(stix.Object, error) bool) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return true
	}
	if i := bytes.Index(line, []byte(" #")); i >= 0 {
		line = bytes.TrimSpace(line[:i])
	} else if i := bytes.Index(line, []byte("\t#")); i >= 0 {
		line = bytes.TrimSpace(line[:i])
	}
	s := string(line)
	t, v, err := Detect(s)
	if err != nil {
		return yield(stix.Object{}, &LineError{Line: n, Value: truncate(s), Err: err})
	}
	return b.build(row{typ: t, value: v, confidence: -1}, yield)
}

func truncate(s string) string {
	if len(s) > 200 {
		return strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
