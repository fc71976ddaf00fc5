package ioc

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/FastFilter/xorfilter"
	"github.com/cespare/xxhash/v2"
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

// multiRef marks a value index that points into Index.multi (a count
// followed by that many ref indexes) rather than at one ref.
const multiRef = 1 << 31

// recHeader is the size of a record's fixed part (hash, value, length).
const recHeader = 14

type entry struct {
	h        uint64
	off, len uint32 // canonical bytes in Builder.data
	ref      uint32
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
	refs    []Ref
	refByID map[string]uint32
}

// NewBuilder returns an empty builder; sizeHint is the expected number of
// values (0 if unknown).
func NewBuilder(sizeHint int) *Builder {
	return &Builder{entries: make([]entry, 0, sizeHint), refByID: make(map[string]uint32)}
}

func keyHash(k Kind, canon []byte) uint64 {
	h := xxhash.Sum64(canon) ^ uint64(k)*0x9E3779B97F4A7C15
	// final avalanche so the kind bits are spread (splitmix64 finaliser)
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
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
	b.entries = append(b.entries, entry{h: keyHash(k, canon), off: uint32(off), len: uint32(len(canon)), ref: b.refIndex(ref)})
	return nil
}

func (b *Builder) refIndex(r Ref) uint32 {
	if r.ID != "" {
		if i, ok := b.refByID[r.ID]; ok {
			return i
		}
	}
	i := uint32(len(b.refs))
	b.refs = append(b.refs, r)
	if r.ID != "" {
		b.refByID[r.ID] = i
	}
	return i
}

// Len returns the number of values added so far (duplicates included).
func (b *Builder) Len() int { return len(b.entries) + len(b.nets) }

// Index is an immutable set of indicator values; it is safe for concurrent
// use.
type Index struct {
	filter *xorfilter.BinaryFuse[uint8]
	// recs holds one record per distinct value, sorted by hash: the hash
	// (8 bytes), the value index (4: a ref index, or multiRef|offset into
	// multi), the length of the canonical bytes (2) and those bytes, so
	// that a hit reads one contiguous stretch of memory.
	recs    []byte
	nKeys   int
	buckets []uint32 // buckets[j] = offset in recs of the first record with hash>>shift >= j
	shift   uint
	nets    *bart.Table[uint32]
	nNets   int
	refs    []Ref
	multi   []uint32
}

// Build returns the index of every value added. The builder may be reused
// afterwards; it is emptied.
func (b *Builder) Build() (*Index, error) {
	ix := &Index{refs: slices.Clip(b.refs)}
	es := b.entries
	slices.SortFunc(es, func(x, y entry) int {
		if c := cmp.Compare(x.h, y.h); c != 0 {
			return c
		}
		if c := bytes.Compare(b.data[x.off:x.off+x.len], b.data[y.off:y.off+y.len]); c != 0 {
			return c
		}
		return cmp.Compare(x.ref, y.ref)
	})
	// count unique keys and bytes
	nKeys, nBytes := 0, 0
	for i := range es {
		if i == 0 || !sameKey(b.data, es[i-1], es[i]) {
			nKeys++
			nBytes += int(es[i].len)
		}
	}
	if uint64(nBytes)+uint64(nKeys)*recHeader > 1<<32-1 {
		return nil, errors.New("ioc: build: index too large (over 4 GiB of records)")
	}
	ix.recs = make([]byte, 0, nBytes+nKeys*recHeader)
	keys := make([]uint64, 0, nKeys) // for the filter, which removes duplicates in place
	offs := make([]uint32, 0, nKeys)
	var refs []uint32
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
		keys = append(keys, es[i].h)
		offs = append(offs, uint32(len(ix.recs)))
		ix.recs = binary.LittleEndian.AppendUint64(ix.recs, es[i].h)
		ix.recs = binary.LittleEndian.AppendUint32(ix.recs, ix.addRefs(refs))
		ix.recs = binary.LittleEndian.AppendUint16(ix.recs, uint16(es[i].len))
		ix.recs = append(ix.recs, b.data[es[i].off:es[i].off+es[i].len]...)
		i = j
	}
	ix.nKeys = len(keys)
	ix.multi = slices.Clip(ix.multi)
	if len(ix.multi) >= multiRef {
		return nil, errors.New("ioc: build: too many values with several sources")
	}
	if n := len(keys); n > 0 {
		nb := 1
		for nb < n/4 {
			nb <<= 1
		}
		ix.shift = uint(64 - bits.TrailingZeros(uint(nb)))
		ix.buckets = make([]uint32, nb+1)
		for bkt, j := 0, 0; bkt <= nb; bkt++ {
			for j < n && keys[j]>>ix.shift < uint64(bkt) {
				j++
			}
			if j < n {
				ix.buckets[bkt] = offs[j]
			} else {
				ix.buckets[bkt] = uint32(len(ix.recs))
			}
		}
		offs = nil
		f, err := xorfilter.NewBinaryFuse[uint8](keys)
		if err != nil {
			return nil, fmt.Errorf("ioc: build filter over %d keys: %w", n, err)
		}
		ix.filter = f
	}
	if len(b.nets) > 0 {
		ix.nets = new(bart.Table[uint32])
		slices.SortFunc(b.nets, func(x, y netEntry) int {
			if c := x.pfx.Addr().Compare(y.pfx.Addr()); c != 0 {
				return c
			}
			if c := cmp.Compare(x.pfx.Bits(), y.pfx.Bits()); c != 0 {
				return c
			}
			return cmp.Compare(x.ref, y.ref)
		})
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
			ix.nets.Insert(b.nets[i].pfx, ix.addRefs(refs))
			ix.nNets++
			i = j
		}
	}
	*b = Builder{Suppressor: b.Suppressor, refByID: make(map[string]uint32)}
	return ix, nil
}

func sameKey(data []byte, x, y entry) bool {
	return x.h == y.h && bytes.Equal(data[x.off:x.off+x.len], data[y.off:y.off+y.len])
}

func (ix *Index) addRefs(refs []uint32) uint32 {
	if len(refs) == 1 {
		return refs[0]
	}
	v := multiRef | uint32(len(ix.multi))
	ix.multi = append(ix.multi, uint32(len(refs)))
	ix.multi = append(ix.multi, refs...)
	return v
}

// Len returns the number of distinct values and networks indexed.
func (ix *Index) Len() int { return ix.nKeys + ix.nNets }

// Refs returns the number of distinct sources (indicators and observables).
func (ix *Index) Refs() int { return len(ix.refs) }

// Bytes returns the memory held by the index's arrays, its filter and its
// refs (strings included). The CIDR table is counted at an estimated 64
// bytes per network, as bart does not report its size.
func (ix *Index) Bytes() int {
	n := int(unsafe.Sizeof(*ix))
	n += cap(ix.recs) + cap(ix.buckets)*4 + cap(ix.multi)*4
	if ix.filter != nil {
		n += int(unsafe.Sizeof(*ix.filter)) + cap(ix.filter.Fingerprints)
	}
	n += ix.nNets * 64
	for i := range ix.refs {
		r := &ix.refs[i]
		n += int(unsafe.Sizeof(*r)) + len(r.ID) + len(r.Name) + cap(r.Labels)*16
		for _, l := range r.Labels {
			n += len(l)
		}
	}
	return n
}
