package sigma

import (
	"math"
	"sort"
)

// acAutomaton is a case-insensitive (ASCII) Aho-Corasick automaton. States
// near the root (depth < denseDepth), where a scan spends most of its time,
// have full transition rows over byte classes; deeper states keep only their
// own edges and a failure link, which keeps memory proportional to the
// patterns. Every pattern that ends at a position is reported, overlapping
// ones included.
type acAutomaton struct {
	class  [256]uint8 // input byte -> class; A-Z share the class of a-z
	nclass int32
	dense  []int16 // row*nclass + class -> next state, ^next when it has outputs
	rows   int32   // states 0..rows-1 are dense
	row    []int32 // state -> dense row, or -1
	fail   []int32
	eOff   []int32 // sparse edges of state s: eCls/eNext[eOff[s]:eOff[s+1]]
	eCls   []uint8
	eNext  []int32
	outOff []int32 // outputs of state s: outs[outOff[s]:outOff[s+1]]
	outs   []int32 // global pattern ids
}

const denseDepth = 3

// asciiLower lowers ASCII letters only, so that literal needles and
// haystacks fold exactly like the automaton does.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// step returns the state after reading byte class c in state s.
func (a *acAutomaton) step(s int32, c int32) int32 {
	for {
		if r := a.row[s]; r >= 0 {
			if v := int32(a.dense[r*a.nclass+c]); v >= 0 {
				return v
			} else {
				return ^v
			}
		}
		for e := a.eOff[s]; e < a.eOff[s+1]; e++ {
			if int32(a.eCls[e]) == c {
				return a.eNext[e]
			}
		}
		s = a.fail[s]
	}
}

// newAC builds the automaton for lower-case patterns; ids[i] is the global
// id reported for pats[i]. Empty patterns are ignored.
func newAC(pats []string, ids []int32) *acAutomaton {
	a := &acAutomaton{}
	var used [256]bool
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	n := int32(1)
	for b := 0; b < 256; b++ {
		if used[b] {
			a.class[b] = uint8(n)
			n++
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		a.class[b] = a.class[b+'a'-'A']
	}
	a.nclass = n
	// Trie.
	type edge struct {
		cls  uint8
		next int32
	}
	children := [][]edge{nil}
	depth := []int32{0}
	var outsOf [][]int32
	outsOf = append(outsOf, nil)
	for pi, p := range pats {
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			nx := int32(-1)
			for _, e := range children[s] {
				if e.cls == c {
					nx = e.next
					break
				}
			}
			if nx < 0 {
				nx = int32(len(outsOf))
				outsOf = append(outsOf, nil)
				children = append(children, nil)
				depth = append(depth, depth[s]+1)
				children[s] = append(children[s], edge{c, nx})
			}
			s = nx
		}
		outsOf[s] = append(outsOf[s], ids[pi])
	}
	// Renumber states breadth-first, so that the dense states (the
	// shallowest) are exactly 0..rows-1.
	states := int32(len(outsOf))
	newID := make([]int32, states)
	order := make([]int32, 0, states)
	order = append(order, 0)
	for qi := 0; qi < len(order); qi++ {
		s := order[qi]
		newID[s] = int32(qi)
		sort.Slice(children[s], func(i, j int) bool { return children[s][i].cls < children[s][j].cls })
		for _, e := range children[s] {
			order = append(order, e.next)
		}
	}
	{
		ch2 := make([][]edge, states)
		out2 := make([][]int32, states)
		dep2 := make([]int32, states)
		for old, nw := range newID {
			out2[nw] = outsOf[old]
			dep2[nw] = depth[old]
			for _, e := range children[old] {
				ch2[nw] = append(ch2[nw], edge{e.cls, newID[e.next]})
			}
		}
		children, outsOf, depth = ch2, out2, dep2
	}
	a.row = make([]int32, states)
	a.fail = make([]int32, states)
	a.eOff = make([]int32, states+1)
	// A dense row leads to states of depth at most its own plus one,
	// numbered first (breadth-first), so their ids fit the table's int16
	// entries when fewer than 2^15 states are that shallow; a huge
	// automaton takes fewer dense levels. int16 halves the table: the
	// CommandLine automaton of the Windows rules has 826 dense rows of 148
	// classes, 477 KiB as int32, more than a 512 KiB L2 holds beside the
	// rest, and a scan reads it once a byte.
	dd := int32(denseDepth)
	for dd > 1 {
		shallow := 0
		for _, d := range depth {
			if d <= dd {
				shallow++
			}
		}
		if shallow <= math.MaxInt16 {
			break
		}
		dd--
	}
	rows := int32(0)
	for s := int32(0); s < states; s++ {
		a.row[s] = -1
		if depth[s] < dd {
			a.row[s] = rows
			rows++
		}
		a.eOff[s+1] = a.eOff[s] + int32(len(children[s]))
		for _, e := range children[s] {
			a.eCls = append(a.eCls, e.cls)
			a.eNext = append(a.eNext, e.next)
		}
	}
	a.dense = make([]int16, rows*n)
	// Breadth-first: failure links, dense rows, inherited outputs.
	queue := []int32{0}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		if s != 0 {
			if f := a.fail[s]; len(outsOf[f]) > 0 {
				outsOf[s] = append(outsOf[s], outsOf[f]...)
			}
		}
		for _, e := range children[s] {
			if s == 0 {
				a.fail[e.next] = 0
			} else {
				a.fail[e.next] = a.step(a.fail[s], int32(e.cls))
			}
			queue = append(queue, e.next)
		}
		if r := a.row[s]; r >= 0 {
			for c := int32(0); c < n; c++ {
				if s == 0 {
					a.dense[c] = 0
				} else {
					a.dense[r*n+c] = int16(a.step(a.fail[s], c))
				}
			}
			for _, e := range children[s] {
				a.dense[r*n+int32(e.cls)] = int16(e.next)
			}
		}
	}
	a.outOff = make([]int32, states+1)
	for s := int32(0); s < states; s++ {
		a.outOff[s+1] = a.outOff[s] + int32(len(outsOf[s]))
		a.outs = append(a.outs, outsOf[s]...)
	}
	// Mark dense transitions into states with outputs (^target), so that a
	// scan only looks at outputs when there are some.
	for i, v := range a.dense {
		if len(outsOf[v]) > 0 {
			a.dense[i] = ^v
		}
	}
	a.rows = rows
	return a
}
