package ioc

// blockFilter is a cache-line-blocked Bloom filter: each key sets three bits
// in each of two 64-bit words of one 64-byte line, so that a look-up reads
// a single line (one cache miss, one page) and tests it with two ANDs and
// compares, with no loop and no multiply beyond the two that pick the line
// and mix the bits. Each word's three bits are one of 2,048 patterns
// (filterPatterns), read from a table of 16 KiB rather than set one by one
// with variable shifts, which cost a third of a batch's filter round. At
// bitsPerKey = 12 its false-positive rate is about 0.6% (0.57% measured,
// TestBlockFilter; 0.53% with the bits drawn freely). A filter whose keys
// share one word (register-blocked) reaches only 1.8% at 10 bits a key and
// 1% at 12: its words fill unevenly, and a false positive costs a bucket
// search, two reads from memory that a miss of a large index otherwise
// never makes.
type blockFilter struct {
	words []uint64
}

const (
	bitsPerKey = 12
	lineWords  = 8 // words in a line
)

// filterWords is the number of words of the filter of n keys: whole lines.
func filterWords(n int) int { return max((n*bitsPerKey+511)/512, 1) * lineWords }

// newBlockFilter sets the bits of keys in words, zeroed memory of
// filterWords(len(keys)) words.
func newBlockFilter(words []uint64, keys []uint64) *blockFilter {
	f := &blockFilter{words: words}
	for _, h := range keys {
		l := filterLineOf(words, h)
		o1, o2, m1, m2 := filterBits(h)
		l[o1&7] |= m1
		l[o2&7] |= m2
	}
	return f
}

// filterLineOf is h's line in words, a filter of len(words) words.
func filterLineOf(words []uint64, h uint64) *[lineWords]uint64 {
	return (*[lineWords]uint64)(words[filterLine(h, len(words)):])
}

// filterBits returns the words of h's line that h sets bits in, as offsets
// from the line's first word, and the bits in each. The line comes from
// the high 32 bits of h (filterLine); the words and patterns from a
// multiple of h, whose low 28 bits depend only on those of h.
func filterBits(h uint64) (o1, o2, m1, m2 uint64) {
	g := h * 0x9E3779B97F4A7C15
	return g & 7, g >> 3 & 7, filterPatterns[g>>6&2047], filterPatterns[g>>17&2047]
}

// filterPatterns are the bit patterns of filterBits: 2,048 words of three
// bits each, drawn by a fixed xorshift generator so that every build and
// every index has the same. Read-only.
var filterPatterns = func() (p [2048]uint64) {
	x := uint64(0x243F6A8885A308D3)
	for i := range p {
		for bitsSet := 0; bitsSet < 3; {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b := uint64(1) << (x & 63)
			if p[i]&b == 0 {
				p[i] |= b
				bitsSet++
			}
		}
	}
	return p
}()

// filterLine is the first word of h's line in a filter of nw words.
func filterLine(h uint64, nw int) int {
	return int((h>>32)*uint64(nw/lineWords)>>32) * lineWords
}

// Contains reports whether h may have been added; it is false for every
// hash not added but about 0.6%.
func (f *blockFilter) Contains(h uint64) bool {
	l := filterLineOf(f.words, h)
	o1, o2, m1, m2 := filterBits(h)
	return (l[o1&7]&m1^m1)|(l[o2&7]&m2^m2) == 0
}

// bytes is the memory the filter holds.
func (f *blockFilter) bytes() int { return cap(f.words) * 8 }
