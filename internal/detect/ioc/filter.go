package ioc

// blockFilter is a register-blocked Bloom filter: each key sets bloomK bits
// of one 64-bit word, so that a look-up reads a single word (one cache
// line, one page) and tests it with one AND and one compare, with no loop
// and no multiply beyond the one that picks the word. At bitsPerKey = 10 its
// false-positive rate is about 1.7% (a split block filter of 256-bit blocks
// would give 1% for eight multiplies a probe; a false positive costs one
// bucket search, which is cheaper than the multiplies on every miss).
type blockFilter struct {
	words []uint64
}

const (
	bitsPerKey = 10
	bloomK     = 5
)

// filterWords is the number of words of the filter of n keys.
func filterWords(n int) int { return max((n*bitsPerKey+63)/64, 1) }

// newBlockFilter sets the bits of keys in words, zeroed memory of
// filterWords(len(keys)) words.
func newBlockFilter(words []uint64, keys []uint64) *blockFilter {
	f := &blockFilter{words: words}
	for _, h := range keys {
		*f.word(h) |= bloomMask(h)
	}
	return f
}

// word picks a word from the high 32 bits of h; the bits within it come
// from the low 30.
func (f *blockFilter) word(h uint64) *uint64 {
	return &f.words[(h>>32)*uint64(len(f.words))>>32]
}

func bloomMask(h uint64) uint64 {
	return 1<<(h&63) | 1<<(h>>6&63) | 1<<(h>>12&63) | 1<<(h>>18&63) | 1<<(h>>24&63)
}

// Contains reports whether h may have been added; it is false for every
// hash not added but about 1.7%.
func (f *blockFilter) Contains(h uint64) bool {
	m := bloomMask(h)
	return *f.word(h)&m == m
}

// bytes is the memory the filter holds.
func (f *blockFilter) bytes() int { return cap(f.words) * 8 }
