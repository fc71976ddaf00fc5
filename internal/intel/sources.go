package intel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/shieldwall/shieldwall/internal/ioclist"
	"github.com/shieldwall/shieldwall/internal/misp"
	"github.com/shieldwall/shieldwall/internal/stix"
)

// stixSource reads a STIX 2.1 or 2.0 bundle element by element.
type stixSource struct {
	br *stix.BundleReader
	i  int
}

func newSTIXSource(r io.Reader) *stixSource { return &stixSource{br: stix.NewBundleReader(r)} }

// maxSingleObject bounds a file that holds one STIX object, not a bundle.
const maxSingleObject = 64 << 20

// singleSource yields the one STIX object a file holds.
type singleSource struct {
	r    io.Reader
	done bool
}

func (s *singleSource) next() (item, error) {
	if s.done {
		return item{}, io.EOF
	}
	s.done = true
	raw, err := io.ReadAll(io.LimitReader(s.r, maxSingleObject+1))
	if err != nil {
		return item{}, err
	}
	if len(raw) > maxSingleObject {
		return item{index: 0, err: fmt.Errorf("a single STIX object larger than %d bytes", maxSingleObject)}, nil
	}
	return item{index: 0, raw: raw}, nil
}

// topLevelType returns the "type" of the JSON object that starts the
// input, if it can be told from its first 64 KiB: "bundle" for bundles,
// the object's type for a file holding one STIX object, "" when unknown
// (no type member, as in a TAXII envelope, or not within the peek).
func topLevelType(br *bufio.Reader) string {
	head, _ := br.Peek(64 << 10)
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(head, []byte("\ufeff"))))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return ""
		}
		if k == "type" {
			var typ string
			if dec.Decode(&typ) != nil {
				return ""
			}
			return typ
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}

func (s *stixSource) next() (item, error) {
	raw, err := s.br.Next()
	idx := s.i
	s.i++
	var ee *stix.ElementError
	switch {
	case err == nil:
		return item{index: idx, raw: raw}, nil
	case errors.As(err, &ee):
		return item{index: ee.Index, err: ee.Err}, nil
	default:
		return item{}, err
	}
}

// seqSource adapts a converter's iterator to a source. toItem turns a
// yielded error into a rejected item, or reports it as terminal (ok false).
type seqSource struct {
	next_ func() (stix.Object, error, bool)
	stop  func()
	i     int
	// lineOf extracts a line number from a per-line error; ok false means
	// the error ends the import.
	lineOf func(error) (int, bool)
}

func (s *seqSource) next() (item, error) {
	obj, err, ok := s.next_()
	if !ok {
		s.stop()
		return item{}, io.EOF
	}
	idx := s.i
	s.i++
	if err != nil {
		line, ok := s.lineOf(err)
		if !ok {
			s.stop()
			return item{}, err
		}
		return item{index: line, err: err}, nil
	}
	return item{index: idx, raw: obj.Raw}, nil
}

// close releases the converter if the import ended before its end.
func (s *seqSource) close() { s.stop() }

func newSeqSource(seq iter.Seq2[stix.Object, error]) *seqSource {
	next, stop := iter.Pull2(seq)
	return &seqSource{next_: next, stop: stop, lineOf: func(err error) (int, bool) {
		var le *ioclist.LineError
		if errors.As(err, &le) {
			return le.Line, true
		}
		return 0, false
	}}
}

func newIOCSource(r io.Reader, opts Options) source {
	return newSeqSource(ioclist.ReadPlain(r, ioclist.Options{Now: opts.Now, ValidFrom: opts.ValidFrom, TLP: opts.TLP}))
}

func newCSVSource(r io.Reader, opts Options) source {
	return newSeqSource(ioclist.ReadCSV(r, ioclist.Options{Now: opts.Now, ValidFrom: opts.ValidFrom, TLP: opts.TLP}))
}

// mispSource converts one MISP event at a time. An event that cannot be
// converted is refused alone; the document's other events go on.
type mispSource struct {
	next_   func() (misp.Result, error, bool)
	stop    func()
	pending []stix.Object
	event   int
	seen    map[string]bool // markings and identities shared by events go once
	warned  int
}

func newMISPSource(r io.Reader, opts Options) *mispSource {
	next, stop := iter.Pull2(misp.Events(r, misp.Options{DefaultTLP: opts.TLP}))
	return &mispSource{next_: next, stop: stop, seen: map[string]bool{}}
}

func (s *mispSource) next() (item, error) {
	for len(s.pending) == 0 {
		res, err, ok := s.next_()
		if !ok {
			s.stop()
			return item{}, io.EOF
		}
		ev := s.event
		s.event++
		if err != nil {
			return item{index: ev, err: err}, nil
		}
		s.warned += len(res.Warnings)
		for _, o := range res.Objects {
			if (o.Type == "marking-definition" || o.Type == "identity") && s.seen[o.ID] {
				continue
			}
			s.seen[o.ID] = true
			s.pending = append(s.pending, o)
		}
	}
	o := s.pending[0]
	s.pending = s.pending[1:]
	return item{index: s.event - 1, raw: o.Raw}, nil
}

// close releases the converter if the import ended before its end.
func (s *mispSource) close() { s.stop() }

// warnings counts conversion warnings (unmapped MISP types kept as custom
// objects and the like).
func (s *mispSource) warnings() int { return s.warned }

// peekID returns the "id" of a raw object for reports, or "".
func peekID(raw []byte) string {
	var h struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.ID
}
