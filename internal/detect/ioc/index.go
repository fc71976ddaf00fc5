package ioc

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/gaissmai/bart"
)

// Ref is the source of an indicator value: the STIX indicator or
// observable it was compiled from.
type Ref struct {
	ID   string // STIX id of the indicator or observable
	Name string // indicator name; empty for observables
	// Confidence is the STIX confidence (0-100), or -1 when not given.
	Confidence int
	Labels     []string
	ValidFrom  time.Time // zero: no lower bound
	ValidUntil time.Time // zero: no upper bound
}

// ValidAt reports whether t lies within [ValidFrom, ValidUntil).
func (r *Ref) ValidAt(t time.Time) bool {
	if !r.ValidFrom.IsZero() && t.Before(r.ValidFrom) {
		return false
	}
	return r.ValidUntil.IsZero() || t.Before(r.ValidUntil)
}

// SuppressedError says a value was not indexed because it is on a warning
// list.
type SuppressedError struct {
	Kind  Kind
	Value string
	List  string
}

func (e *SuppressedError) Error() string {
	return fmt.Sprintf("ioc: %v %q is on warning list %q", e.Kind, e.Value, e.List)
}

type entry struct {
	h        uint64
	off, len uint32 // canonical bytes in Builder.data
	ref      uint32
	kind     Kind
}

type netEntry struct {
	pfx netip.Prefix
	ref uint32
}

// Builder collects indicator values and builds an Index. It is not safe for
// concurrent use.
type Builder struct {
	// Suppressor, when set, refuses values on a warning list.
	Suppressor *Suppressor

	entries []entry
	data    []byte
	nets    []netEntry
	tab     strTable
	refData []byte   // compact refs (see refs.go), one after another
	refOff  []uint32 // refOff[i]: start of ref i in refData
	refByID map[string]uint32
	hk      hashKeys
	seeded  bool
	// minMapped, when not 0, replaces the size (the constant minMapped)
	// from which the index's arrays are mapped: tests set it to map small
	// indexes.
	minMapped int
}

// NewBuilder returns an empty builder; sizeHint is the expected number of
// values (0 if unknown).
func NewBuilder(sizeHint int) *Builder {
	return &Builder{entries: make([]entry, 0, sizeHint), refByID: make(map[string]uint32)}
}

// Add indexes value of kind k as coming from ref. IPv4 and IPv6 values may
// be networks in CIDR notation. The value is normalised (see the Kind
// constants and NormalizeURL); a value that cannot be read is refused with
// an error wrapping ErrInvalid or ErrEmpty, one on a warning list with a
// *SuppressedError.
func (b *Builder) Add(k Kind, value string, ref Ref) error {
	if b.refByID == nil {
		b.refByID = make(map[string]uint32)
	}
	if !b.seeded {
		b.hk, b.seeded = newHashKeys(), true
	}
	value = strings.TrimSpace(value)
	if b.Suppressor != nil {
		if list, ok := b.Suppressor.Suppressed(k, value); ok {
			return &SuppressedError{Kind: k, Value: value, List: list}
		}
	}
	if (k == IPv4 || k == IPv6) && strings.IndexByte(value, '/') >= 0 {
		p, err := netip.ParsePrefix(value)
		if err != nil {
			return fmt.Errorf("ioc: add %v %q: %w: %v", k, value, ErrInvalid, err)
		}
		if p.Addr().Is4() != (k == IPv4) || p.Addr().Zone() != "" {
			return fmt.Errorf("ioc: add %v %q: %w: wrong address family", k, value, ErrInvalid)
		}
		p = p.Masked()
		if !p.IsSingleIP() {
			b.nets = append(b.nets, netEntry{pfx: p, ref: b.refIndex(ref)})
			return nil
		}
		value = p.Addr().String()
	}
	off := len(b.data)
	var err error
	b.data, err = canonical(b.data, k, value)
	if err != nil {
		return fmt.Errorf("ioc: add %v %q: %w", k, value, err)
	}
	canon := b.data[off:]
	b.entries = append(b.entries, entry{h: b.hk.keyHash(k, canon), off: uint32(off), len: uint32(len(canon)), ref: b.refIndex(ref), kind: k})
	return nil
}

func (b *Builder) refIndex(r Ref) uint32 {
	if r.ID != "" {
		if i, ok := b.refByID[r.ID]; ok {
			return i
		}
	}
	i := uint32(len(b.refOff))
	b.refOff = append(b.refOff, uint32(len(b.refData)))
	b.refData = b.tab.appendRef(b.refData, &r)
	if r.ID != "" {
		b.refByID[r.ID] = i
	}
	return i
}

func (b *Builder) refBytes(i uint32) []byte {
	end := len(b.refData)
	if int(i)+1 < len(b.refOff) {
		end = int(b.refOff[i+1])
	}
	return b.refData[b.refOff[i]:end]
}

// Len returns the number of values added so far (duplicates included).
func (b *Builder) Len() int { return len(b.entries) + len(b.nets) }

// Index is an immutable set of indicator values; it is safe for concurrent
// use.
type Index struct {
	filter *blockFilter
	// recs holds one record per distinct value, grouped in buckets by
	// hash. A bucket (the values whose hash bucketOf puts there, in hash
	// order) is
	//
	//	n       1 byte, the number of records (0-127); or 0x80 and a
	//	        uvarint count when a record is longer than 255 bytes or
	//	        there are more than 127 of them ("long" bucket)
	//	tags    n bytes, the tag of each record (tagOf)
	//	lens    n bytes, the length of each record (long: n uvarints)
	//	records n records, each
	//	          kind    1 byte for kinds of one length (addresses,
	//	                  digests), else a uvarint length << 4 | kind
	//	          canon   the canonical bytes
	//	          refs    the refs part: one ref written in place (see
	//	                  refs.go), or refIDShared, a uvarint count and
	//	                  the uvarint indexes of that many refs in shared
	//
	// so that a look-up finds the record of its tag without reading or
	// branching on the records before it, and a hit reads one short
	// stretch of memory. recs[0] is the empty bucket; the refs parts of
	// networks follow the last bucket, and 8 zero bytes end the array so
	// that the directory can be read eight bytes at a time.
	recs    []byte
	nKeys   int
	buckets []uint32 // buckets[j] = offset in recs of bucket j
	// domainLabels has bit i set when some indicator domain has i labels
	// (bit 63: 63 or more), so that look-ups skip parent domains no
	// indicator can match.
	domainLabels uint64
	nets         *bart.Table[uint32]
	nNets        int
	// shared holds the refs that several values point at; sharedOff[i] is
	// the start of shared ref i.
	shared    []byte
	sharedOff []uint32
	nRefs     int
	rr        refReader
	hk        hashKeys // of keyHash
	// mapped is the size of the mapping holding filter, buckets and recs
	// (0: they are on the heap).
	mapped int
}

// Build returns the index of every value added. The builder may be reused
// afterwards; it is emptied.
func (b *Builder) Build() (*Index, error) {
	ix := &Index{hk: b.hk, nRefs: len(b.refOff), rr: refReader{strs: slices.Clip(b.tab.strs), sets: slices.Clip(b.tab.sets)}}
	es := b.entries
	slices.SortFunc(es, func(x, y entry) int {
		if c := cmp.Compare(x.h, y.h); c != 0 {
			return c
		}
		if c := cmp.Compare(x.kind, y.kind); c != 0 {
			return c
		}
		if c := bytes.Compare(b.data[x.off:x.off+x.len], b.data[y.off:y.off+y.len]); c != 0 {
			return c
		}
		return cmp.Compare(x.ref, y.ref)
	})
	slices.SortFunc(b.nets, func(x, y netEntry) int {
		if c := x.pfx.Addr().Compare(y.pfx.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(x.pfx.Bits(), y.pfx.Bits()); c != 0 {
			return c
		}
		return cmp.Compare(x.ref, y.ref)
	})
	// Count the values each ref is behind: a ref behind one value is
	// written in that value's record, the others once in shared.
	// A value with several refs points at shared ones.
	uses := make([]uint32, len(b.refOff))
	nKeys, size := 0, 0
	for i := 0; i < len(es); {
		j, multi := i+1, false
		for j < len(es) && sameKey(b.data, es[i], es[j]) {
			multi = multi || es[j].ref != es[i].ref
			j++
		}
		nKeys++
		size += 8 + int(es[i].len)
		for x, e := range es[i:j] {
			if x > 0 && es[i+x-1].ref == e.ref {
				continue // the same value added twice from one source
			}
			uses[e.ref]++
			if multi {
				uses[e.ref] += 2
			}
		}
		i = j
	}
	for i := 0; i < len(b.nets); {
		j, multi := i+1, false
		for j < len(b.nets) && b.nets[j].pfx == b.nets[i].pfx {
			multi = multi || b.nets[j].ref != b.nets[i].ref
			j++
		}
		for x, e := range b.nets[i:j] {
			if x > 0 && b.nets[i+x-1].ref == e.ref {
				continue
			}
			uses[e.ref]++
			if multi {
				uses[e.ref] += 2
			}
		}
		i = j
	}
	sharedIdx := make([]uint32, len(b.refOff)) // 0: not shared, else index+1
	for i, u := range uses {
		if u > 1 {
			sharedIdx[i] = uint32(len(ix.sharedOff)) + 1
			ix.sharedOff = append(ix.sharedOff, uint32(len(ix.shared)))
			ix.shared = append(ix.shared, b.refBytes(uint32(i))...)
		}
	}
	if len(ix.shared) > math.MaxUint32 {
		return nil, errors.New("ioc: build: too many shared sources (over 4 GiB)")
	}
	refsPart := func(dst []byte, refs []uint32) []byte {
		if len(refs) == 1 && sharedIdx[refs[0]] == 0 {
			return append(dst, b.refBytes(refs[0])...)
		}
		dst = append(dst, refIDShared)
		dst = binary.AppendUvarint(dst, uint64(len(refs)))
		for _, r := range refs {
			dst = binary.AppendUvarint(dst, uint64(sharedIdx[r]-1))
		}
		return dst
	}
	ix.recs = make([]byte, 1, size+len(b.refData)+nKeys/4+16) // recs[0]: the empty bucket
	keys := make([]uint64, 0, nKeys)                          // for the filter
	nb := max(1, (nKeys+3)/4)
	ix.buckets = make([]uint32, nb) // all at the empty bucket until written
	var refs []uint32
	var bkt bucketWriter
	cur := -1 // bucket being collected
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && sameKey(b.data, es[i], es[j]) {
			j++
		}
		refs = refs[:0]
		for _, e := range es[i:j] {
			if len(refs) == 0 || refs[len(refs)-1] != e.ref {
				refs = append(refs, e.ref)
			}
		}
		e := es[i]
		if e.kind == Domain {
			n := bytes.Count(b.data[e.off:e.off+e.len], []byte{'.'}) + 1
			ix.domainLabels |= 1 << min(n, 63)
		}
		keys = append(keys, e.h)
		if bi := bucketOf(e.h, nb); bi != cur {
			if cur >= 0 {
				ix.buckets[cur] = uint32(len(ix.recs))
				ix.recs = bkt.flush(ix.recs)
			}
			cur = bi
		}
		start := len(bkt.data)
		if e.kind.fixedLen() > 0 {
			bkt.data = append(bkt.data, byte(e.kind))
		} else {
			bkt.data = binary.AppendUvarint(bkt.data, uint64(e.len)<<4|uint64(e.kind))
		}
		bkt.data = append(bkt.data, b.data[e.off:e.off+e.len]...)
		bkt.data = refsPart(bkt.data, refs)
		bkt.tags = append(bkt.tags, tagOf(e.h, nb))
		bkt.lens = append(bkt.lens, len(bkt.data)-start)
		if len(ix.recs)+len(bkt.data) > math.MaxUint32 {
			return nil, errors.New("ioc: build: index too large (over 4 GiB of records)")
		}
		i = j
	}
	if cur >= 0 {
		ix.buckets[cur] = uint32(len(ix.recs))
		ix.recs = bkt.flush(ix.recs)
	}
	ix.nKeys = len(keys)
	if len(b.nets) > 0 {
		ix.nets = new(bart.Table[uint32])
		for i := 0; i < len(b.nets); {
			j := i + 1
			for j < len(b.nets) && b.nets[j].pfx == b.nets[i].pfx {
				j++
			}
			refs = refs[:0]
			for _, e := range b.nets[i:j] {
				if len(refs) == 0 || refs[len(refs)-1] != e.ref {
					refs = append(refs, e.ref)
				}
			}
			at := len(ix.recs)
			ix.recs = refsPart(ix.recs, refs)
			if len(ix.recs) > math.MaxUint32 {
				return nil, errors.New("ioc: build: index too large (over 4 GiB of records)")
			}
			ix.nets.Insert(b.nets[i].pfx, uint32(at))
			ix.nNets++
			i = j
		}
	}
	ix.recs = append(ix.recs, make([]byte, 8)...)
	ix.place(keys, cmp.Or(b.minMapped, minMapped))
	ix.shared = slices.Clip(ix.shared)
	ix.sharedOff = slices.Clip(ix.sharedOff)
	*b = Builder{Suppressor: b.Suppressor, refByID: make(map[string]uint32), minMapped: b.minMapped}
	return ix, nil
}

func sameKey(data []byte, x, y entry) bool {
	return x.h == y.h && x.kind == y.kind && bytes.Equal(data[x.off:x.off+x.len], data[y.off:y.off+y.len])
}

// bucketOf is the bucket of hash h among nb, from its high 32 bits, so
// that buckets follow the hash order; tagOf is the next 8 bits of the same
// product, which tell apart the values of one bucket.
func bucketOf(h uint64, nb int) int { return int((h >> 32) * uint64(nb) >> 32) }

func tagOf(h uint64, nb int) byte { return byte((h >> 32) * uint64(nb) >> 24) }

// bucketWriter collects the records of one bucket.
type bucketWriter struct {
	tags []byte
	lens []int
	data []byte
}

// flush appends the bucket (see Index.recs) to dst and empties w.
func (w *bucketWriter) flush(dst []byte) []byte {
	long := len(w.tags) >= 0x80
	for _, l := range w.lens {
		long = long || l > 0xff
	}
	if long {
		dst = append(dst, 0x80)
		dst = binary.AppendUvarint(dst, uint64(len(w.tags)))
	} else {
		dst = append(dst, byte(len(w.tags)))
	}
	dst = append(dst, w.tags...)
	for _, l := range w.lens {
		if long {
			dst = binary.AppendUvarint(dst, uint64(l))
		} else {
			dst = append(dst, byte(l))
		}
	}
	dst = append(dst, w.data...)
	w.tags, w.lens, w.data = w.tags[:0], w.lens[:0], w.data[:0]
	return dst
}

// place builds the filter of keys and moves the filter, the bucket table
// and the records into their final memory: for a large index one mapping
// outside the Go heap backed by huge pages (see mapHuge), the filter
// first, at its 2 MiB-aligned start, so that the random reads of look-ups
// rarely miss the TLB; else the heap. The mapping is released when ix is
// collected; the look-up entry points keep ix alive while they read it.
func (ix *Index) place(keys []uint64, minMapped int) {
	nw := 0
	if len(keys) > 0 {
		nw = filterWords(len(keys))
	}
	fb, bb := nw*8, len(ix.buckets)*4
	mem := []byte(nil)
	if total := fb + bb + len(ix.recs); total >= minMapped {
		mem = mapHuge(total)
	}
	if mem == nil {
		if len(keys) > 0 {
			ix.filter = newBlockFilter(make([]uint64, nw), keys)
		}
		if cap(ix.recs)-len(ix.recs) > len(ix.recs)/128 {
			ix.recs = append(make([]byte, 0, len(ix.recs)), ix.recs...) // release the estimate's slack
		}
		return
	}
	if len(keys) > 0 {
		ix.filter = newBlockFilter(unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), nw), keys)
	}
	buckets := unsafe.Slice((*uint32)(unsafe.Pointer(&mem[fb])), len(ix.buckets))
	copy(buckets, ix.buckets)
	ix.buckets = buckets
	recs := mem[fb+bb : fb+bb+len(ix.recs) : fb+bb+len(ix.recs)]
	copy(recs, ix.recs)
	ix.recs = recs
	ix.mapped = len(mem)
	runtime.AddCleanup(ix, unmapHuge, mem)
}

// minMapped is the size from which an index's arrays are mapped with huge
// pages rather than allocated on the heap.
const minMapped = 4 << 20

// Len returns the number of distinct values and networks indexed.
func (ix *Index) Len() int { return ix.nKeys + ix.nNets }

// Refs returns the number of distinct sources (indicators and observables).
func (ix *Index) Refs() int { return ix.nRefs }

// Bytes returns the memory held by the index's arrays, its filter and its
// string tables. The CIDR table is counted at an estimated 64 bytes per
// network, as bart does not report its size.
func (ix *Index) Bytes() int {
	n := int(unsafe.Sizeof(*ix))
	n += cap(ix.recs) + cap(ix.buckets)*4 + cap(ix.shared) + cap(ix.sharedOff)*4
	if ix.filter != nil {
		n += int(unsafe.Sizeof(*ix.filter)) + ix.filter.bytes()
	}
	n += ix.nNets * 64
	n += cap(ix.rr.strs) * int(unsafe.Sizeof(""))
	for _, s := range ix.rr.strs {
		n += len(s)
	}
	for _, set := range ix.rr.sets {
		n += int(unsafe.Sizeof(set)) + cap(set)*int(unsafe.Sizeof(""))
	}
	return n
}
