// Package ioclist turns plain indicator lists (one value per line) and CSV
// exports into STIX 2.1 indicators, one row at a time, so that lists of
// millions of lines stream through in constant memory.
//
// Indicator ids are UUIDv5 over the indicator's type and value, so
// re-importing a list updates the same indicators instead of duplicating
// them; timestamps come from Options.Now.
package ioclist

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// Options tune a read. Now is required.
type Options struct {
	// Now is the created and modified time of every indicator, and its
	// valid_from unless a CSV row or ValidFrom says otherwise.
	Now time.Time
	// ValidFrom, when set, is the valid_from of every indicator whose row
	// names none, instead of Now. A list without dates says nothing about
	// when its values turned bad, so a hunt over old logs sets it early
	// (see node.ReadIntelFiles) rather than miss every older event.
	ValidFrom time.Time
	// TLP is the TLP 2.0 level ("clear", "green", "amber", "amber+strict",
	// "red"; "white" means "clear") marking every indicator. A CSV row's
	// tlp column may tighten it, never loosen it. Empty means none.
	TLP string
	// IndicatorTypes defaults to ["malicious-activity"].
	IndicatorTypes []string
	// Labels are added to every indicator.
	Labels []string
	// CreatedByRef, when set, is every indicator's created_by_ref.
	CreatedByRef string
}

// namespace is the fixed Shieldwall UUIDv5 namespace for indicator ids:
// the UUIDv5 of the project URL in the URL namespace.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/shieldwall/shieldwall"))

// IndicatorID is the deterministic id of the indicator for value v of
// type t: indicator--UUIDv5(namespace, t + "|" + v).
func IndicatorID(t Type, v string) string {
	return string(appendIndicatorID(nil, sha1.New(), t, v))
}

// appendIndicatorID appends IndicatorID(t, v) to b, hashing with h (reset
// first) so that a reader computes millions of ids without allocating a
// hasher for each.
func appendIndicatorID(b []byte, h hash.Hash, t Type, v string) []byte {
	h.Reset()
	h.Write(namespace[:])
	io.WriteString(h, string(t))
	io.WriteString(h, "|")
	io.WriteString(h, v)
	var sum [sha1.Size]byte
	var u uuid.UUID
	copy(u[:], h.Sum(sum[:0]))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	b = append(b, "indicator--"...)
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	return append(b, buf[:]...)
}

// LineError reports a line (or CSV row) that produced no indicator. The
// rest of the input is still read.
type LineError struct {
	Line  int    // 1-based line number
	Value string // the offending value, possibly truncated
	Err   error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

var identityRE = regexp.MustCompile(`^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// builder turns detected values into indicators under one Options.
type builder struct {
	now       string
	nowT      time.Time
	from      string    // default valid_from
	fromT     time.Time // the same, as a time
	types     []string
	labels    []string
	createdBy string
	tlp       *stix.TLP
	emitted   map[string]bool // marking definitions already yielded
	hash      hash.Hash       // reused for indicator ids
	idBuf     []byte
}

func newBuilder(opts Options) (*builder, error) {
	if opts.Now.IsZero() {
		return nil, errors.New("ioclist: Options.Now is required")
	}
	b := &builder{
		now:       stix.FormatTime(opts.Now, 3),
		nowT:      opts.Now.UTC().Truncate(time.Millisecond),
		from:      stix.FormatTime(opts.Now, 3),
		fromT:     opts.Now.UTC().Truncate(time.Millisecond),
		types:     opts.IndicatorTypes,
		labels:    opts.Labels,
		createdBy: opts.CreatedByRef,
		emitted:   map[string]bool{},
		hash:      sha1.New(),
	}
	if len(b.types) == 0 {
		b.types = []string{"malicious-activity"}
	}
	if !opts.ValidFrom.IsZero() {
		b.from, b.fromT = stix.FormatTime(opts.ValidFrom, 3), opts.ValidFrom.UTC().Truncate(time.Millisecond)
	}
	if b.createdBy != "" && !identityRE.MatchString(b.createdBy) {
		return nil, fmt.Errorf("ioclist: created_by_ref %q is not an identity id", b.createdBy)
	}
	if opts.TLP != "" {
		t, ok := stix.TLPByName(opts.TLP)
		if !ok {
			return nil, fmt.Errorf("ioclist: unknown TLP %q", opts.TLP)
		}
		b.tlp = &t
	}
	return b, nil
}

// row is one input record after parsing, before conversion.
type row struct {
	typ         Type
	value       string
	description string
	tlp         *stix.TLP
	labels      []string
	validFrom   time.Time
	validUntil  time.Time
	confidence  int // -1 when absent
}

type indicatorJSON struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	Created           string   `json:"created"`
	Modified          string   `json:"modified"`
	CreatedByRef      string   `json:"created_by_ref,omitempty"`
	Name              string   `json:"name"`
	Description       string   `json:"description,omitempty"`
	IndicatorTypes    []string `json:"indicator_types,omitempty"`
	Pattern           string   `json:"pattern"`
	PatternType       string   `json:"pattern_type"`
	PatternVersion    string   `json:"pattern_version"`
	ValidFrom         string   `json:"valid_from"`
	ValidUntil        string   `json:"valid_until,omitempty"`
	Confidence        *int     `json:"confidence,omitempty"`
	Labels            []string `json:"labels,omitempty"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
}

func (b *builder) id(t Type, v string) string {
	b.idBuf = appendIndicatorID(b.idBuf[:0], b.hash, t, v)
	return string(b.idBuf)
}

// build renders r as an indicator, yielding any marking definition it uses
// for the first time before it. It reports whether the caller should go on.
func (b *builder) build(r row, yield func(stix.Object, error) bool) bool {
	ind := indicatorJSON{
		Type:           "indicator",
		SpecVersion:    "2.1",
		ID:             b.id(r.typ, r.value),
		Created:        b.now,
		Modified:       b.now,
		CreatedByRef:   b.createdBy,
		Name:           r.value,
		Description:    r.description,
		IndicatorTypes: b.types,
		Pattern:        Pattern(r.typ, r.value),
		PatternType:    "stix",
		PatternVersion: "2.1",
		ValidFrom:      b.from,
	}
	if !r.validFrom.IsZero() {
		ind.ValidFrom = stix.FormatTime(r.validFrom, 3)
	}
	if !r.validUntil.IsZero() {
		ind.ValidUntil = stix.FormatTime(r.validUntil, 3)
	}
	if r.confidence >= 0 {
		c := r.confidence
		ind.Confidence = &c
	}
	ind.Labels = b.labels
	if len(r.labels) > 0 {
		ind.Labels = slices.Clone(b.labels)
		for _, l := range r.labels {
			if !slices.Contains(ind.Labels, l) {
				ind.Labels = append(ind.Labels, l)
			}
		}
	}
	tlp := b.tlp
	if r.tlp != nil && (tlp == nil || r.tlp.Rank > tlp.Rank) {
		tlp = r.tlp
	}
	if tlp != nil {
		ind.ObjectMarkingRefs = []string{tlp.ID}
		if !b.emitted[tlp.ID] {
			b.emitted[tlp.ID] = true
			if !yield(tlp.Object, nil) {
				return false
			}
		}
	}
	// Exact for the usual line (no characters JSON escapes), so the
	// buffer is allocated once.
	size := 340 + len(ind.Name) + len(ind.Pattern) + len(ind.Description) + len(ind.CreatedByRef) +
		len(ind.ValidUntil) + 22 + 80*len(ind.ObjectMarkingRefs)
	for _, l := range ind.Labels {
		size += len(l) + 3
	}
	for _, l := range ind.IndicatorTypes {
		size += len(l) + 3
	}
	raw := appendIndicator(make([]byte, 0, size), &ind)
	return yield(stix.Object{
		ID:          ind.ID,
		Type:        "indicator",
		SpecVersion: "2.1",
		Created:     b.nowT,
		Modified:    b.nowT,
		Raw:         raw,
	}, nil)
}
