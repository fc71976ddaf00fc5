package ioc

// blockFilter is a split block Bloom filter (the layout of Parquet's): each
// key sets one bit in each of the eight 32-bit words of one 32-byte block,
// so that a look-up reads a single cache line (and a single page) where a
// binary fuse filter reads three lines in three segments; on a large index
// that is one memory stall instead of up to three, with their TLB misses.
// At bitsPerKey bits per key its false-positive rate is about 0.5% at 12,
// 1% at 10.
type blockFilter struct {
	blocks [][8]uint32
}

const bitsPerKey = 10

// sbbfSalt are the odd multipliers of the split block Bloom filter.
var sbbfSalt = [8]uint32{0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31}

func newBlockFilter(keys []uint64) *blockFilter {
	n := (len(keys)*bitsPerKey + 255) / 256
	f := &blockFilter{blocks: make([][8]uint32, max(n, 1))}
	for _, h := range keys {
		b := f.block(h)
		x := uint32(h)
		for i, s := range sbbfSalt {
			b[i] |= 1 << (x * s >> 27)
		}
	}
	return f
}

// block picks a block from the high 32 bits of h; the bits within it come
// from the low 32.
func (f *blockFilter) block(h uint64) *[8]uint32 {
	return &f.blocks[(h>>32)*uint64(len(f.blocks))>>32]
}

// Contains reports whether h may have been added; it is false for every
// hash not added but about 1%.
func (f *blockFilter) Contains(h uint64) bool {
	b := f.block(h)
	x := uint32(h)
	ok := uint32(1)
	for i, s := range sbbfSalt {
		ok &= b[i] >> (x * s >> 27)
	}
	return ok&1 != 0
}

// bytes is the memory the filter holds.
func (f *blockFilter) bytes() int { return cap(f.blocks) * 32 }
