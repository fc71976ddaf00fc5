package sigma

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// testKind is what one compiled value test checks.
type testKind uint8

const (
	tEquals   testKind = iota // value == lit (case-insensitive)
	tContains                 // lit in value
	tStarts                   // value starts with lit
	tEnds                     // value ends with lit
	tGlob                     // wildcard pattern; lit is a literal it needs
	tEmpty                    // value is ""
	tRegex
	tCIDR
	tNumber // gt, gte, lt, lte
	tExists
	tNull
	tFieldRef
)

// piece is one part of a Sigma string: a literal or a wildcard.
type piece struct {
	lit  string
	wild byte // 0 for a literal, '*' or '?'
}

// valueTest is one compiled value of a field (or keyword) test.
type valueTest struct {
	kind  testKind
	lit   string // lower-case literal for the substring kinds; the needle for globs
	cased bool   // compare with the original case (cased modifier)
	raw   string // tGlob/cased: original-case literal pieces joined (for cased equals)
	pat   int32  // automaton pattern id of lit, -1 when none
	glob  []piece
	re    *regexp.Regexp
	pfx   netip.Prefix
	num   float64
	cmp   string // gt, gte, lt, lte
	ref   string // tFieldRef: the other field
	refK  testKind
	slot  int32 // tFieldRef: slot of the other field
	exist bool
}

type modifiers struct {
	contains, starts, ends, all, re, cidr, exists, fieldref, expand, cased bool
	reFlags                                                                string
	cmp                                                                    string
	transforms                                                             []string // in order
}

func parseModifiers(mods []string) (modifiers, error) {
	var m modifiers
	for _, mod := range mods {
		switch strings.ToLower(mod) {
		case "contains":
			m.contains = true
		case "startswith":
			m.starts = true
		case "endswith":
			m.ends = true
		case "all":
			m.all = true
		case "re":
			m.re = true
		case "i", "m", "s":
			m.reFlags += strings.ToLower(mod)
		case "cidr":
			m.cidr = true
		case "exists":
			m.exists = true
		case "fieldref":
			m.fieldref = true
		case "expand":
			m.expand = true
		case "cased":
			m.cased = true
		case "gt", "gte", "lt", "lte":
			m.cmp = strings.ToLower(mod)
		case "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide", "windash":
			m.transforms = append(m.transforms, strings.ToLower(mod))
		default:
			return m, fmt.Errorf("unknown modifier %q", mod)
		}
	}
	n := 0
	for _, b := range []bool{m.contains, m.starts, m.ends} {
		if b {
			n++
		}
	}
	if n > 1 {
		return m, errors.New("contains, startswith and endswith are exclusive")
	}
	if m.reFlags != "" && !m.re {
		return m, fmt.Errorf("regular-expression flags %q without the re modifier", m.reFlags)
	}
	special := 0
	for _, b := range []bool{m.re, m.cidr, m.exists, m.cmp != ""} {
		if b {
			special++
		}
	}
	if special > 1 || (special == 1 && (n > 0 || len(m.transforms) > 0)) {
		return m, errors.New("re, cidr, exists and gt/gte/lt/lte do not combine with other value modifiers")
	}
	return m, nil
}

// parsePlain splits a plain Sigma value into literals and wildcards,
// resolving the escapes \*, \? and \\.
func parsePlain(s string) []piece {
	var out []piece
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, piece{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			flush()
			if c == '*' && len(out) > 0 && out[len(out)-1].wild == '*' {
				continue
			}
			out = append(out, piece{wild: c})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return out
}

func hasWildcard(ps []piece) bool {
	for _, p := range ps {
		if p.wild != 0 {
			return true
		}
	}
	return false
}

func joinLits(ps []piece) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.lit)
	}
	return b.String()
}

// applyTransform runs one encoding modifier over every variant.
func applyTransform(name string, vs [][]piece) ([][]piece, error) {
	var out [][]piece
	for _, v := range vs {
		if name == "windash" {
			w, err := windash(v)
			if err != nil {
				return nil, err
			}
			out = append(out, w...)
			continue
		}
		if hasWildcard(v) {
			return nil, fmt.Errorf("%s modifier on a value with wildcards", name)
		}
		s := joinLits(v)
		switch name {
		case "base64":
			out = append(out, []piece{{lit: base64.StdEncoding.EncodeToString([]byte(s))}})
		case "base64offset":
			for _, e := range base64Offsets(s) {
				out = append(out, []piece{{lit: e}})
			}
		case "utf16le", "wide":
			out = append(out, []piece{{lit: encodeUTF16(s, false, false)}})
		case "utf16be":
			out = append(out, []piece{{lit: encodeUTF16(s, true, false)}})
		case "utf16":
			out = append(out, []piece{{lit: encodeUTF16(s, false, true)}})
		}
	}
	return out, nil
}

// base64Offsets returns the three encodings of s at byte offsets 0, 1 and 2
// of a base64 stream, trimmed to the characters that do not depend on the
// neighbouring bytes (as pySigma does).
func base64Offsets(s string) []string {
	start := [3]int{0, 2, 3}
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + s))
		end := len(enc)
		switch (len(s) + i) % 3 {
		case 1:
			end -= 3
		case 2:
			end -= 2
		}
		if start[i] >= end {
			continue
		}
		out = append(out, enc[start[i]:end])
	}
	return out
}

func encodeUTF16(s string, bigEndian, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

var dashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// windash returns the variants of v where every dash or slash that starts a
// word (regexp \B[-/]\b) is replaced by each of -, /, en dash, em dash and
// horizontal bar.
func windash(v []piece) ([][]piece, error) {
	out := [][]piece{nil}
	for pi, p := range v {
		if p.wild != 0 {
			for i := range out {
				out[i] = append(out[i], p)
			}
			continue
		}
		var segs []string // alternating literal, dash, literal...
		last := 0
		for i := 0; i < len(p.lit); i++ {
			c := p.lit[i]
			if c != '-' && c != '/' {
				continue
			}
			prevWord := i > 0 && isWordByte(p.lit[i-1])
			if i == 0 && pi > 0 && v[pi-1].wild != 0 {
				prevWord = false
			}
			nextWord := i+1 < len(p.lit) && isWordByte(p.lit[i+1])
			if prevWord || !nextWord {
				continue
			}
			segs = append(segs, p.lit[last:i])
			last = i + 1
		}
		segs = append(segs, p.lit[last:])
		if len(segs) > 5 {
			return nil, errors.New("windash: more than 4 dashes in one value")
		}
		for s := 0; s < len(segs); s++ {
			var next [][]piece
			for _, o := range out {
				if s > 0 {
					for _, d := range dashes {
						c := append(append([]piece(nil), o...), piece{lit: d + segs[s]})
						next = append(next, c)
					}
				} else {
					next = append(next, append(append([]piece(nil), o...), piece{lit: segs[s]}))
				}
			}
			out = next
		}
	}
	for i := range out {
		out[i] = mergeLits(out[i])
	}
	return out, nil
}

func mergeLits(ps []piece) []piece {
	var out []piece
	for _, p := range ps {
		if p.wild == 0 && p.lit == "" {
			continue
		}
		if p.wild == 0 && len(out) > 0 && out[len(out)-1].wild == 0 {
			out[len(out)-1].lit += p.lit
			continue
		}
		out = append(out, p)
	}
	return out
}

// expandPlaceholders replaces every %name% of s by each value of the
// placeholder, returning every combination.
func expandPlaceholders(s string, ph map[string][]string) ([]string, error) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return []string{s}, nil
	}
	j := strings.IndexByte(s[i+1:], '%')
	if j < 0 {
		return []string{s}, nil
	}
	name := s[i+1 : i+1+j]
	vals, ok := ph[name]
	if !ok {
		return nil, fmt.Errorf("unknown placeholder %%%s%%", name)
	}
	rest, err := expandPlaceholders(s[i+j+2:], ph)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vals {
		for _, r := range rest {
			out = append(out, s[:i]+v+r)
		}
	}
	return out, nil
}

// compileValue turns one YAML value of a field into tests (several when a
// modifier yields variants; they are alternatives).
func compileValue(val string, isNull bool, m modifiers, ph map[string][]string) ([]valueTest, error) {
	if isNull {
		return []valueTest{{kind: tNull, pat: -1}}, nil
	}
	switch {
	case m.exists:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return nil, fmt.Errorf("exists needs true or false, got %q", val)
		}
		return []valueTest{{kind: tExists, exist: b, pat: -1}}, nil
	case m.re:
		flags := ""
		if m.reFlags != "" {
			flags = "(?" + m.reFlags + ")"
		}
		re, err := regexp.Compile(flags + val)
		if err != nil {
			return nil, fmt.Errorf("regular expression %q: %w", val, err)
		}
		return []valueTest{{kind: tRegex, re: re, pat: -1}}, nil
	case m.cidr:
		p, err := netip.ParsePrefix(strings.TrimSpace(val))
		if err != nil {
			a, err2 := netip.ParseAddr(strings.TrimSpace(val))
			if err2 != nil {
				return nil, fmt.Errorf("cidr %q: %w", val, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		return []valueTest{{kind: tCIDR, pfx: p.Masked(), pat: -1}}, nil
	case m.cmp != "":
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("%s needs a number, got %q", m.cmp, val)
		}
		return []valueTest{{kind: tNumber, num: f, cmp: m.cmp, pat: -1}}, nil
	case m.fieldref:
		k := tEquals
		switch {
		case m.contains:
			k = tContains
		case m.starts:
			k = tStarts
		case m.ends:
			k = tEnds
		}
		return []valueTest{{kind: tFieldRef, ref: val, refK: k, pat: -1, cased: m.cased}}, nil
	}
	raws := []string{val}
	if m.expand {
		var err error
		if raws, err = expandPlaceholders(val, ph); err != nil {
			return nil, err
		}
	}
	var variants [][]piece
	for _, r := range raws {
		variants = append(variants, parsePlain(r))
	}
	for _, t := range m.transforms {
		var err error
		if variants, err = applyTransform(t, variants); err != nil {
			return nil, err
		}
	}
	var out []valueTest
	for _, v := range variants {
		if m.contains || m.ends {
			v = append([]piece{{wild: '*'}}, v...)
		}
		if m.contains || m.starts {
			v = append(v, piece{wild: '*'})
		}
		out = append(out, classify(mergeStars(v), m.cased))
	}
	return out, nil
}

func mergeStars(v []piece) []piece {
	out := v[:0:0]
	for _, p := range v {
		if p.wild == '*' && len(out) > 0 && out[len(out)-1].wild == '*' {
			continue
		}
		out = append(out, p)
	}
	return out
}

func classify(v []piece, cased bool) valueTest {
	t := valueTest{pat: -1, cased: cased}
	lower := asciiLower
	switch {
	case len(v) == 0:
		t.kind = tEmpty
		return t
	case len(v) == 1 && v[0].wild == 0:
		t.kind, t.lit = tEquals, lower(v[0].lit)
	case len(v) == 3 && v[0].wild == '*' && v[1].wild == 0 && v[2].wild == '*':
		t.kind, t.lit = tContains, lower(v[1].lit)
	case len(v) == 2 && v[0].wild == 0 && v[1].wild == '*':
		t.kind, t.lit = tStarts, lower(v[0].lit)
	case len(v) == 2 && v[0].wild == '*' && v[1].wild == 0:
		t.kind, t.lit = tEnds, lower(v[1].lit)
	default:
		t.kind = tGlob
		for _, p := range v {
			if p.wild == 0 && len(p.lit) > len(t.lit) {
				t.lit = lower(p.lit)
			}
		}
		t.glob = make([]piece, len(v))
		for i, p := range v {
			t.glob[i] = p
			if !cased {
				t.glob[i].lit = lower(p.lit)
			}
		}
		return t
	}
	if cased {
		// Keep the original case for the check; lit (lower) is the needle.
		t.glob = v
		t.raw = joinLits(v)
	}
	return t
}

// globMatch reports whether s matches the pattern (literals and wildcards).
// '?' matches one character (one UTF-8 sequence).
func globMatch(pat []piece, s string) bool {
	// Iterative matcher with backtracking to the last star.
	pi, si := 0, 0
	starP, starS := -1, 0
	for {
		if pi < len(pat) {
			p := pat[pi]
			switch p.wild {
			case '*':
				if pi+1 == len(pat) {
					return true
				}
				starP, starS = pi, si
				pi++
				continue
			case '?':
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			default:
				if strings.HasPrefix(s[si:], p.lit) {
					si += len(p.lit)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starP < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
}
