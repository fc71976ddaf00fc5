package sigma

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{`a*b`, "ab", true},
		{`a*b`, "axxb", true},
		{`a*b`, "axxbc", false},
		{`*`, "", true},
		{`a?c`, "abc", true},
		{`a?c`, "aéc", true},
		{`a?c`, "ac", false},
		{`*a*b*c*`, "xxaxxbxxcxx", true},
		{`*a*b*c`, "xxaxxbxxcxxb", false},
		{`c:\users\\*\appdata\\*.exe`, `c:\users\bob\appdata\x.exe`, true},
		{`\*x`, "*x", true},
		{`\*x`, "ax", false},
	}
	for _, tt := range tests {
		if got := globMatch(parsePlain(tt.pat), tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

func TestParsePlain(t *testing.T) {
	tests := []struct {
		in   string
		want []piece
	}{
		{`a\*b`, []piece{{lit: "a*b"}}},
		{`a\\*b`, []piece{{lit: `a\`}, {wild: '*'}, {lit: "b"}}},
		{`C:\Windows\`, []piece{{lit: `C:\Windows\`}}},
		{`**?`, []piece{{wild: '*'}, {wild: '?'}}},
	}
	for _, tt := range tests {
		if got := parsePlain(tt.in); !cmp.Equal(got, tt.want, cmp.AllowUnexported(piece{})) {
			t.Errorf("parsePlain(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestWindash(t *testing.T) {
	got, err := windash(parsePlain(" -a /b"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 25 {
		t.Fatalf("windash(%q) gave %d variants, want 25", " -a /b", len(got))
	}
	var lits []string
	for _, v := range got {
		lits = append(lits, joinLits(v))
	}
	for _, want := range []string{" -a /b", " /a -b", " \u2013a \u2015b"} {
		if !slices.Contains(lits, want) {
			t.Errorf("windash variants %q lack %q", lits, want)
		}
	}
	// A dash inside a word is not a switch.
	got, _ = windash(parsePlain("x-y"))
	if len(got) != 1 {
		t.Errorf("windash(%q) gave %d variants, want 1", "x-y", len(got))
	}
}

func TestBase64Offsets(t *testing.T) {
	// Values from pySigma's base64offset modifier.
	tests := []struct {
		in   string
		want []string
	}{
		{"IEX", []string{"SUVY", "lFW", "JRV"}},
		{"http://", []string{"aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"}},
	}
	for _, tt := range tests {
		if got := base64Offsets(tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("base64Offsets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseCondition(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"a", "a"},
		{"a and b or c", "((a and b) or c)"},
		{"a or b and c", "(a or (b and c))"},
		{"not a and b", "(not a and b)"},
		{"a and not (b or c)", "(a and not (b or c))"},
		{"1 of sel* and not all of filter_*", "(1 of sel* and not all of filter_*)"},
		{"all of them", "all of them"},
		{"A AND B", "(A and B)"},
	}
	for _, tt := range tests {
		e, err := parseCondition(tt.in)
		if err != nil {
			t.Errorf("parseCondition(%q) error %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("parseCondition(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "a and", "(a", "a)", "of x", "x of y", "a | count() > 3", "1 of", "not"} {
		if e, err := parseCondition(bad); err == nil {
			t.Errorf("parseCondition(%q) = %v, want an error", bad, e)
		}
	}
}

// TestAutomaton compares the automaton with a naive search on random text.
func TestAutomaton(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := "abcAB\\."
	word := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(alpha[r.IntN(len(alpha))])
		}
		return b.String()
	}
	var pats []string
	var ids []int32
	for i := 0; i < 300; i++ {
		pats = append(pats, asciiLower(word(1+r.IntN(6))))
		ids = append(ids, int32(i))
	}
	a := newAC(pats, ids)
	for k := 0; k < 200; k++ {
		text := word(r.IntN(60))
		type hit struct{ pat, end int }
		var got, want []hit
		st := int32(0)
		for j := 0; j < len(text); j++ {
			st = a.step(st, int32(a.class[text[j]]))
			for _, p := range a.outs[a.outOff[st]:a.outOff[st+1]] {
				got = append(got, hit{int(p), j + 1})
			}
		}
		low := asciiLower(text)
		for end := 1; end <= len(low); end++ {
			for p, pat := range pats {
				if strings.HasSuffix(low[:end], pat) {
					want = append(want, hit{p, end})
				}
			}
		}
		less := func(x, y hit) int {
			if x.end != y.end {
				return x.end - y.end
			}
			return x.pat - y.pat
		}
		slices.SortFunc(got, less)
		slices.SortFunc(want, less)
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(hit{})); diff != "" {
			t.Fatalf("automaton on %q (-want +got):\n%s", text, diff)
		}
	}
}

// TestAutomatonManyShallowStates builds an automaton with more states of
// depth three than its int16 dense entries can name (33^3 three-byte
// patterns): it must take fewer dense levels and still find every match.
func TestAutomatonManyShallowStates(t *testing.T) {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456"
	var pats []string
	var ids []int32
	id := map[string]int32{}
	for _, x := range alpha {
		for _, y := range alpha {
			for _, z := range alpha {
				p := string([]rune{x, y, z})
				id[p] = int32(len(pats))
				pats = append(pats, p)
				ids = append(ids, int32(len(ids)))
			}
		}
	}
	a := newAC(pats, ids)
	if a.rows != 1+int32(len(alpha)) {
		t.Errorf("rows = %d, want %d (two dense levels)", a.rows, 1+len(alpha))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 200; k++ {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		text := string(b)
		st := int32(0)
		for j := 0; j < len(text); j++ {
			st = a.step(st, int32(a.class[text[j]]))
			got := a.outs[a.outOff[st]:a.outOff[st+1]]
			var want []int32
			if j >= 2 {
				want = []int32{id[text[j-2:j+1]]}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("after %q: outputs %v, want %v", text[:j+1], got, want)
			}
		}
	}
}
