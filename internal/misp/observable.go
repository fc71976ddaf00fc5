package misp

import (
	"encoding/json"
	"slices"
	"strings"
)

// comparison is one comparison expression of a STIX pattern on objects of
// type typ, e.g. typ "file", expr "file:name = 'a.exe'".
type comparison struct {
	typ  string
	expr string
}

// buildPattern AND-s comparisons. Comparisons on one object type share an
// observation expression (STIX requires the comparisons inside one [...] to
// be about the same object); different types get their own, AND-ed.
func buildPattern(cs []comparison) string {
	var order []string
	groups := map[string][]string{}
	for _, c := range cs {
		if _, ok := groups[c.typ]; !ok {
			order = append(order, c.typ)
		}
		if !slices.Contains(groups[c.typ], c.expr) {
			groups[c.typ] = append(groups[c.typ], c.expr)
		}
	}
	var b strings.Builder
	for i, t := range order {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('[')
		b.WriteString(strings.Join(groups[t], " AND "))
		b.WriteByte(']')
	}
	return b.String()
}

// draft is a cyber-observable object before its id is known: its id
// depends on the ids of the objects it refers to.
type draft struct {
	typ      string
	props    map[string]any
	ref      map[string]*draft   // e.g. "dst_ref"
	listRefs map[string][]*draft // e.g. "resolves_to_refs"
}

func newDraft(typ string, props map[string]any) *draft {
	return &draft{typ: typ, props: props}
}

func (d *draft) setRef(name string, to *draft) {
	if d.ref == nil {
		d.ref = map[string]*draft{}
	}
	d.ref[name] = to
}

func (d *draft) addListRef(name string, to *draft) {
	if d.listRefs == nil {
		d.listRefs = map[string][]*draft{}
	}
	d.listRefs[name] = append(d.listRefs[name], to)
}

// idContributing lists the id-contributing properties of each
// cyber-observable type (STIX 2.1 section 6). Immutable.
var idContributing = map[string][]string{
	"ipv4-addr":            {"value"},
	"ipv6-addr":            {"value"},
	"domain-name":          {"value"},
	"url":                  {"value"},
	"email-addr":           {"value"},
	"mac-addr":             {"value"},
	"mutex":                {"name"},
	"file":                 {"hashes", "name", "extensions", "parent_directory_ref"},
	"directory":            {"path"},
	"windows-registry-key": {"key", "values"},
	"autonomous-system":    {"number"},
	"x509-certificate":     {"hashes", "serial_number"},
	"network-traffic":      {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"},
	"user-account":         {"account_type", "user_id", "account_login"},
	"software":             {"name", "cpe", "swid", "vendor", "version"},
}

// finalize gives d and everything it refers to their ids and returns the
// objects, referenced ones first. seen maps drafts already finalized to
// their objects' ids.
func finalize(d *draft, seen map[*draft]string, out *[]map[string]any) string {
	if id, ok := seen[d]; ok {
		return id
	}
	obj := map[string]any{"type": d.typ, "spec_version": "2.1"}
	for k, v := range d.props {
		obj[k] = v
	}
	for _, name := range sortedKeys(d.ref) {
		obj[name] = finalize(d.ref[name], seen, out)
	}
	for _, name := range sortedKeys(d.listRefs) {
		var ids []string
		for _, to := range d.listRefs[name] {
			id := finalize(to, seen, out)
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		obj[name] = ids
	}
	contributing := map[string]any{}
	for _, p := range idContributing[d.typ] {
		if v, ok := obj[p]; ok {
			contributing[p] = v
		}
	}
	if len(contributing) == 0 {
		// STIX would use a random UUIDv4 here; hash every property
		// instead so that conversion stays deterministic.
		for k, v := range obj {
			if k != "type" && k != "spec_version" {
				contributing[k] = v
			}
		}
	}
	id := scoID(d.typ, contributing)
	obj["id"] = id
	seen[d] = id
	*out = append(*out, obj)
	return id
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// mergeDrafts folds drafts of the same mergeable type into one, so that a
// MISP file object with a name and three hashes becomes one file, not four.
// Other drafts are kept as they are. Order is preserved.
func mergeDrafts(ds []*draft) []*draft {
	var out []*draft
	byType := map[string]*draft{}
	for _, d := range ds {
		switch d.typ {
		case "file", "network-traffic", "windows-registry-key", "x509-certificate", "autonomous-system":
		default:
			out = append(out, d)
			continue
		}
		m, ok := byType[d.typ]
		if !ok {
			byType[d.typ] = d
			out = append(out, d)
			continue
		}
		for k, v := range d.props {
			if hv, ok := v.(map[string]any); ok {
				if mh, ok := m.props[k].(map[string]any); ok {
					for hk, hvv := range hv {
						mh[hk] = hvv
					}
					continue
				}
			}
			if _, exists := m.props[k]; !exists {
				m.props[k] = v
			}
		}
		for k, v := range d.ref {
			if _, exists := m.ref[k]; !exists {
				m.setRef(k, v)
			}
		}
		for k, vs := range d.listRefs {
			for _, v := range vs {
				m.addListRef(k, v)
			}
		}
	}
	return out
}

// mustJSON encodes v, which holds only maps, slices, strings, numbers and
// booleans and so always encodes.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
