package sigma

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Options configure compilation.
type Options struct {
	// Placeholders gives the values of %name% placeholders used with the
	// expand modifier. A rule that names a placeholder not in the map fails
	// to compile.
	Placeholders map[string][]string
}

// LoadError says why one rule (or file) was not loaded.
type LoadError struct {
	Path string
	Rule string // id or title, when known
	Err  error
}

func (e LoadError) Error() string {
	if e.Rule != "" {
		return fmt.Sprintf("%s: rule %s: %v", e.Path, e.Rule, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e LoadError) Unwrap() error { return e.Err }

// cnode is a compiled condition node.
type cnode struct {
	op    condOp
	sel   int // opIdent: index into compiledRule.sels
	count int // opOf: 0 = all, else at least count
	kids  []*cnode
}

// fieldTest is one "field|modifiers: values" entry, or a keyword list.
type fieldTest struct {
	name    string
	slots   []int32 // one per name the value may have; empty for keywords
	keyword bool
	vals    [][]valueTest // per YAML value, its variants (alternatives)
	all     bool
}

// selection is one search identifier: OR of groups, each an AND of tests.
type selection struct {
	name   string
	groups [][]*fieldTest
}

type compiledRule struct {
	rule       *Rule
	src        sourceFilter
	sels       []*selection
	cond       *cnode
	always     bool // no needle: evaluate on every event of its source
	suppressed bool // referenced by a correlation that does not generate
	corrs      []int32
	idx        int32 // position in Matcher.rules
}

type trigger struct {
	rule int32
	flag uint8
}

const (
	hitAny uint8 = 1 << iota
	hitStart
	hitEnd
	hitExact
)

// builder accumulates the shared structures while rules are compiled.
type builder struct {
	opts     Options
	fieldIDs map[string]int32
	patIDs   map[patKey]int32
	patLen   []int32
	patSlot  []int32
	patLit   []string
	kwSlot   int32 // pseudo slot whose patterns are searched in every field
}

// kwSlotName names the keyword pseudo field; no event field can be named so.
const kwSlotName = "\x00keywords"

type patKey struct {
	slot int32
	lit  string
}

func (b *builder) slot(name string) int32 {
	k := asciiLower(name)
	if id, ok := b.fieldIDs[k]; ok {
		return id
	}
	id := int32(len(b.fieldIDs))
	b.fieldIDs[k] = id
	return id
}

func (b *builder) pattern(slot int32, lit string) int32 {
	k := patKey{slot, lit}
	if id, ok := b.patIDs[k]; ok {
		return id
	}
	id := int32(len(b.patLen))
	b.patIDs[k] = id
	b.patLen = append(b.patLen, int32(len(lit)))
	b.patSlot = append(b.patSlot, slot)
	b.patLit = append(b.patLit, lit)
	return id
}

// compileRule compiles one detection rule (not a correlation).
func (b *builder) compileRule(r *Rule) (*compiledRule, error) {
	cr := &compiledRule{rule: r, src: compileLogsource(r.Logsource)}
	useAliases := cr.src.product != "windows"
	idx := map[string]int{}
	for _, name := range r.DetectOrder {
		sel, err := b.compileSelection(name, r.Detection[name], useAliases)
		if err != nil {
			return nil, fmt.Errorf("search identifier %q: %w", name, err)
		}
		idx[name] = len(cr.sels)
		cr.sels = append(cr.sels, sel)
	}
	var conds []*cnode
	for _, c := range r.Conditions {
		e, err := parseCondition(c)
		if err != nil {
			return nil, fmt.Errorf("condition %q: %w", c, err)
		}
		n, err := resolveCondition(e, idx, r.DetectOrder)
		if err != nil {
			return nil, fmt.Errorf("condition %q: %w", c, err)
		}
		conds = append(conds, n)
	}
	if len(conds) == 1 {
		cr.cond = conds[0]
	} else {
		cr.cond = &cnode{op: opOr, kids: conds}
	}
	return cr, nil
}

func resolveCondition(e *condExpr, idx map[string]int, order []string) (*cnode, error) {
	switch e.Op {
	case opIdent:
		i, ok := idx[e.Name]
		if !ok {
			return nil, fmt.Errorf("unknown search identifier %q", e.Name)
		}
		return &cnode{op: opIdent, sel: i}, nil
	case opOf:
		n := &cnode{op: opOf, count: e.Count}
		for _, name := range order {
			var ok bool
			if e.Name == "them" {
				ok = !strings.HasPrefix(name, "_")
			} else {
				ok, _ = path.Match(e.Name, name)
			}
			if ok {
				n.kids = append(n.kids, &cnode{op: opIdent, sel: idx[name]})
			}
		}
		if len(n.kids) == 0 {
			return nil, fmt.Errorf("%q matches no search identifier", e.Name)
		}
		return n, nil
	}
	n := &cnode{op: e.Op}
	for _, k := range e.Kids {
		c, err := resolveCondition(k, idx, order)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, c)
	}
	return n, nil
}

func (b *builder) compileSelection(name string, n *yaml.Node, useAliases bool) (*selection, error) {
	sel := &selection{name: name}
	switch n.Kind {
	case yaml.MappingNode:
		g, err := b.compileMap(n, useAliases)
		if err != nil {
			return nil, err
		}
		sel.groups = append(sel.groups, g)
	case yaml.SequenceNode:
		var kw []*yaml.Node
		for _, c := range n.Content {
			switch c.Kind {
			case yaml.MappingNode:
				g, err := b.compileMap(c, useAliases)
				if err != nil {
					return nil, err
				}
				sel.groups = append(sel.groups, g)
			case yaml.ScalarNode:
				kw = append(kw, c)
			default:
				return nil, errors.New("list holds neither maps nor values")
			}
		}
		if len(kw) > 0 {
			ft, err := b.compileKeywords(kw)
			if err != nil {
				return nil, err
			}
			sel.groups = append(sel.groups, []*fieldTest{ft})
		}
	case yaml.ScalarNode:
		ft, err := b.compileKeywords([]*yaml.Node{n})
		if err != nil {
			return nil, err
		}
		sel.groups = append(sel.groups, []*fieldTest{ft})
	case yaml.AliasNode:
		return b.compileSelection(name, n.Alias, useAliases)
	default:
		return nil, errors.New("empty search identifier")
	}
	if len(sel.groups) == 0 {
		return nil, errors.New("empty search identifier")
	}
	return sel, nil
}

func (b *builder) compileKeywords(vals []*yaml.Node) (*fieldTest, error) {
	ft := &fieldTest{name: "", keyword: true}
	m := modifiers{contains: true}
	for _, v := range vals {
		ts, err := compileValue(v.Value, isNullNode(v), m, b.opts.Placeholders)
		if err != nil {
			return nil, fmt.Errorf("keyword %q: %w", v.Value, err)
		}
		for j := range ts {
			if t := &ts[j]; t.lit != "" && t.kind <= tGlob {
				t.pat = b.pattern(b.kwSlot, t.lit)
			}
		}
		ft.vals = append(ft.vals, ts)
	}
	return ft, nil
}

func isNullNode(v *yaml.Node) bool {
	return v.Kind == yaml.ScalarNode && v.Tag == "!!null"
}

func (b *builder) compileMap(n *yaml.Node, useAliases bool) ([]*fieldTest, error) {
	var out []*fieldTest
	if len(n.Content) == 0 {
		return nil, errors.New("empty map")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		parts := strings.Split(key, "|")
		field := parts[0]
		mods, err := parseModifiers(parts[1:])
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", key, err)
		}
		ft := &fieldTest{name: field, all: mods.all}
		if field == "" {
			// "|modifiers": keywords with modifiers; plain ones are substrings.
			if !mods.starts && !mods.ends && !mods.re && !mods.cidr && mods.cmp == "" && !mods.exists && !mods.fieldref {
				mods.contains = true
			}
			ft.keyword = true
		} else {
			ft.slots = []int32{b.slot(field)}
			if useAliases {
				for _, a := range fieldAliases[asciiLower(field)] {
					ft.slots = append(ft.slots, b.slot(a))
				}
			}
		}
		var vals []*yaml.Node
		switch val.Kind {
		case yaml.ScalarNode:
			vals = []*yaml.Node{val}
		case yaml.SequenceNode:
			vals = val.Content
			if len(vals) == 0 {
				return nil, fmt.Errorf("field %q: empty value list", key)
			}
		case yaml.AliasNode:
			vals = []*yaml.Node{val.Alias}
		default:
			return nil, fmt.Errorf("field %q: value is a map", key)
		}
		for _, v := range vals {
			if v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("field %q: nested value", key)
			}
			ts, err := compileValue(v.Value, isNullNode(v), mods, b.opts.Placeholders)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", key, err)
			}
			for j := range ts {
				t := &ts[j]
				if t.kind == tFieldRef {
					t.slot = b.slot(t.ref)
				}
				// Substring tests on a single-named field share the automaton.
				if len(ft.slots) == 1 && t.lit != "" && t.kind <= tGlob {
					t.pat = b.pattern(ft.slots[0], t.lit)
				}
			}
			ft.vals = append(ft.vals, ts)
		}
		out = append(out, ft)
	}
	return out, nil
}
