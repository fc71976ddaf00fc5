package ioc

import (
	"net/netip"
	"runtime"
	"strings"
)

// Query is one value of a batch look-up.
type Query struct {
	Kind  Kind
	Value string
}

// batchSize is the number of queries whose memory reads a batch look-up
// keeps in flight together. A look-up of a large index waits on memory:
// the filter word, then the bucket's offset, then the bucket's lines,
// each a cache miss of 100-250 ns on this class of machine, while the
// arithmetic around them takes some 10-50 ns. One query at a time, the
// processor can overlap only what its reorder window holds (about one
// look-up ahead). A batch issues the filter reads of every query first,
// then the bucket reads of those that passed, then their lines, so that
// each round of misses is paid once per batch instead of once per query;
// independent reads overlap a dozen or more deep here. 32 queries keep
// the probe state in L1 and cover the misses of a round several times.
const batchSize = 32

// maxProbes bounds the probes of one round: a domain is probed once per
// label count that some indicator domain has, a query of another kind
// once.
const maxProbes = 4 * batchSize

// maxProbes must be a power of two (batcher.push masks with it).
var _ [0]struct{} = [maxProbes & (maxProbes - 1)]struct{}{}

// prefetchRun is the number of probes whose filter lines are prefetched
// with one call.
const prefetchRun = 8

// maxDomainProbes is the most labels of a domain probed in a batch, so
// that one query adds at most that many probes.
const maxDomainProbes = 32

// probe is one hash to look up for query q: the text hashed (a domain or
// one of its parents, a URL, a dotted quad or the digits of a digest) is
// qs[q].Value[off:], decoded to canonical bytes only when the filter lets
// it through. It holds no pointer, so that filling a batch costs no write
// barrier.
type probe struct {
	h    uint64
	q    int32
	off  int32
	kind Kind
}

// batcher holds the probes of a batch look-up; the zero value is ready.
type batcher struct {
	ps [maxProbes]probe
	n  int
	// the probes whose filter lines were prefetched: ps[:fetched]
	fetched int
	// the probes the filter let through, and their buckets' offsets in
	// recs and where the next buckets start
	pass    [maxProbes]uint8
	at, end [maxProbes]uint32
	// the queries of the batch by kind, as offsets from its start
	kinds  [numKinds]uint8
	byKind [numKinds][batchSize]uint8
}

// ContainsBatch sets out[i] to whether qs[i] matches, as Contains(qs[i])
// would, for every i; out must be at least as long as qs. It allocates
// nothing, and it answers a stream of queries several times faster than
// one Contains call after another when the index is larger than the
// cache (see batchSize).
func (ix *Index) ContainsBatch(qs []Query, out []bool) {
	out = out[:len(qs)]
	clear(out)
	var b batcher
	var hb [4]hit
	ix.lookupBatch(&b, qs, func(q int, _ hit) { out[q] = true }, hb[:0])
	runtime.KeepAlive(ix)
}

// lookupBatch calls found for every hit of every query of qs, in no
// particular order (a query may hit several times: a domain and its
// parents, an address and its network). scratch is a buffer for the
// queries looked up the single way; lookupBatch returns it, grown as it
// needed, for the next call. The caller keeps ix alive.
func (ix *Index) lookupBatch(b *batcher, qs []Query, found func(q int, h hit), scratch []hit) []hit {
	if ix == nil || ix.filter == nil && ix.nets == nil {
		return scratch
	}
	for start := 0; start < len(qs); start += batchSize {
		// The queries are taken kind by kind, so that the branches on
		// kind and on the forms of each kind go the same way query after
		// query.
		clear(b.kinds[:])
		for i, q := range qs[start:min(start+batchSize, len(qs))] {
			k := q.Kind
			if k >= numKinds {
				k = KindInvalid
			}
			b.byKind[k][b.kinds[k]] = uint8(i)
			b.kinds[k]++
		}
		b.n, b.fetched = 0, 0
		for k := range numKinds {
			for _, j := range b.byKind[k][:b.kinds[k]] {
				i := start + int(j)
				v := qs[i].Value
				if !ix.addProbes(b, int32(i), k, v) {
					// not in a form hashed where it lies (or a network
					// table to ask): one look-up, the single way
					scratch = ix.lookup(scratch[:0], k, v)
					for _, h := range scratch {
						found(i, h)
					}
				} else if k == IPv4 && ix.nets != nil {
					// the exact address is probed with the batch, its
					// networks here (the table is small and apart)
					if a, ok := parseIPv4(v); ok {
						scratch = ix.lookupNet(scratch[:0], netip.AddrFrom4(a))
						for _, h := range scratch {
							found(i, h)
						}
					}
				}
				if b.n-b.fetched >= prefetchRun {
					// the filter lines of the probes so far are read while
					// the batch's other queries are put in form and hashed,
					// instead of in the filter round
					prefetchLines(b.ps[b.fetched:b.n], ix.filter.words)
					b.fetched = b.n
				}
				if b.n > maxProbes-maxDomainProbes {
					ix.runProbes(b, qs, found)
					b.n, b.fetched = 0, 0
				}
			}
		}
		ix.runProbes(b, qs, found)
		b.fetched = 0
	}
	return scratch
}

// addProbes adds the probes of a query in its usual form (what lookup
// hashes where it lies) and reports whether it did; false sends the query
// to lookup. It reads nothing of the index but its hash keys and
// domainLabels.
func (ix *Index) addProbes(b *batcher, q int32, k Kind, value string) bool {
	if ix.filter == nil {
		return false
	}
	switch k {
	case IPv4:
		if !ipv4Chars(value) {
			return false
		}
		b.push(ix.hk.sum(IPv4, value, 0), q, 0, IPv4)
		return true
	case Domain:
		labels, ok := plainDomain(value)
		if !ok || labels > maxDomainProbes {
			return false // very deep names go one at a time
		}
		for s := value; ; labels-- {
			if ix.domainLabels&(1<<min(labels, 63)) != 0 {
				b.push(ix.hk.sum(Domain, s, 0), q, int32(len(value)-len(s)), Domain)
			}
			if ix.domainLabels&(1<<min(labels, 63)-1) == 0 {
				return true
			}
			i := strings.IndexByte(s, '.')
			if i < 0 {
				return true
			}
			s = s[i+1:]
		}
	case URL:
		if !canonicalURL(value) {
			return false
		}
		b.push(ix.hk.sum(URL, value, 0), q, 0, URL)
		return true
	case MD5, SHA1, SHA256, SHA512:
		if len(value) != 2*k.hashLen() {
			return false
		}
		b.push(ix.hk.sum(k, value, hex8), q, 0, k)
		return true
	}
	return false
}

// push adds the probe of hash h for query q (the text hashed from off on).
// b.n stays below maxProbes, a power of two (lookupBatch runs the probes
// before a query could overflow them), so the mask only spares a bounds
// check.
func (b *batcher) push(h uint64, q, off int32, k Kind) {
	b.ps[b.n&(maxProbes-1)] = probe{h: h, q: q, off: off, kind: k}
	b.n++
}

// runProbes looks up the b.n probes of b in rounds, each issuing the
// memory reads of every probe before any result is used: the filter
// words (on amd64 lookupBatch prefetched their lines eight probes at a
// time as the batch was hashed, so most are in cache by now), then the
// bucket offsets of the probes that passed, then the first lines of those
// buckets; then it searches the buckets, now in cache. The reads of a
// round depend only on what the round before computed, so the processor
// overlaps them.
func (ix *Index) runProbes(b *batcher, qs []Query, found func(q int, h hit)) {
	ps := b.ps[:b.n]
	if len(ps) == 0 {
		return
	}
	words := ix.filter.words
	np := 0
	for i := range ps {
		h := ps[i].h
		l := filterLineOf(words, h)
		o1, o2, m1, m2 := filterBits(h)
		b.pass[np] = uint8(i)
		np += b2i((l[o1&7]&m1^m1)|(l[o2&7]&m2^m2) == 0)
	}
	if np == 0 {
		return
	}
	pass := b.pass[:np]
	nb := len(ix.buckets)
	recs := ix.recs
	for j, i := range pass {
		bi := bucketOf(ps[i].h, nb)
		b.at[j] = ix.buckets[bi]
		b.end[j] = uint32(len(recs))
		if bi+1 < nb {
			b.end[j] = min(ix.buckets[bi+1], b.end[j])
		}
	}
	var t byte
	for j := range pass {
		// the bucket's lines (up to six, as search touches them)
		at, end := b.at[j], b.end[j]
		for a := at &^ 63; a < end && a < at+6*64; a += 64 {
			t |= recs[max(a, at)]
		}
	}
	if t == 0xff && recs[0] != 0 {
		return // never: recs[0] is 0; the reads feed only this branch
	}
	for j, i := range pass {
		p := &ps[i]
		value := qs[p.q].Value
		s := value[p.off:]
		var canon []byte
		var buf [64]byte
		switch p.kind {
		case IPv4:
			a, ok := parseIPv4(s)
			if !ok {
				continue
			}
			canon = append(buf[:0], a[:]...)
		case MD5, SHA1, SHA256, SHA512:
			n := p.kind.hashLen()
			if !decodeHex(buf[:n], s) {
				continue
			}
			canon = buf[:n]
		default:
			canon = bytesOf(s)
		}
		v, ok := ix.searchAt(b.at[j], tagOf(p.h, nb), p.kind, canon)
		if !ok {
			continue
		}
		h := hit{v: v}
		if p.kind == Domain && p.off != 0 {
			h.matched = s
		}
		found(int(p.q), h)
	}
}

// b2i is 1 for true and 0 for false, without a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
