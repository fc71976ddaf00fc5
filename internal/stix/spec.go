package stix

import "math"

// The property tables of the STIX 2.1 objects: one typeSpec per type, a
// list of the type's own properties (the common ones are checked in
// decode.go) and a function for the rules that tie properties together.

type pkind uint8

const (
	pString pkind = iota + 1
	pBool
	pInt
	pFloat
	pTimestamp
	pStringList
	pTimestampList
	pRef
	pRefList
	pVocab     // open vocabulary, one value
	pVocabList // open vocabulary, list
	pEnum      // closed enumeration
	pHashes
	pKillChain
	pDict
	pObject
	pObjectList
)

type prop struct {
	name  string
	kind  pkind
	req   bool
	types []string // pRef, pRefList: allowed target types (any when empty)
	vocab string   // pVocab, pVocabList, pEnum
	lo    float64  // pInt, pFloat
	hi    float64
}

func (p prop) required() prop { p.req = true; return p }

func pStr(n string) prop        { return prop{name: n, kind: pString} }
func pBoolean(n string) prop    { return prop{name: n, kind: pBool} }
func pTime(n string) prop       { return prop{name: n, kind: pTimestamp} }
func pStrs(n string) prop       { return prop{name: n, kind: pStringList} }
func pHash(n string) prop       { return prop{name: n, kind: pHashes} }
func pKCP(n string) prop        { return prop{name: n, kind: pKillChain} }
func pDictionary(n string) prop { return prop{name: n, kind: pDict} }
func pObj(n string) prop        { return prop{name: n, kind: pObject} }
func pObjs(n string) prop       { return prop{name: n, kind: pObjectList} }
func pIntR(n string, lo, hi float64) prop {
	return prop{name: n, kind: pInt, lo: lo, hi: hi}
}
func pFloatR(n string, lo, hi float64) prop {
	return prop{name: n, kind: pFloat, lo: lo, hi: hi}
}
func pRef1(n string, types ...string) prop { return prop{name: n, kind: pRef, types: types} }
func pRefs(n string, types ...string) prop { return prop{name: n, kind: pRefList, types: types} }
func pOV(n, vocab string) prop             { return prop{name: n, kind: pVocab, vocab: vocab} }
func pOVs(n, vocab string) prop            { return prop{name: n, kind: pVocabList, vocab: vocab} }
func pEnumOf(n, vocab string) prop         { return prop{name: n, kind: pEnum, vocab: vocab} }
func pUint(n string) prop                  { return pIntR(n, 0, math.MaxInt64) }

type typeSpec struct {
	cat   category
	props []prop
	check func(c *checker, o *value) // cross-property rules, may be nil
}

// checkProps checks the properties of o listed in props; path prefixes the
// reported property paths ("" at the top level).
func (c *checker) checkProps(o *value, path string, props []prop) {
	for i := range props {
		p := &props[i]
		v := o.get(p.name)
		pp := join(path, p.name)
		if v == nil {
			if p.req {
				c.err(pp, "required property missing")
			}
			continue
		}
		switch p.kind {
		case pString:
			c.str(pp, v)
		case pBool:
			c.boolean(pp, v)
		case pInt:
			hi := int64(math.MaxInt64)
			if p.hi < 9e18 {
				hi = int64(p.hi)
			}
			c.integer(pp, v, int64(p.lo), hi)
		case pFloat:
			c.float(pp, v, p.lo, p.hi)
		case pTimestamp:
			c.timestamp(pp, v, false)
		case pStringList:
			c.stringList(pp, v)
		case pTimestampList:
			c.timestampList(pp, v)
		case pRef:
			c.ref(pp, v, p.types...)
		case pRefList:
			c.refList(pp, v, p.types...)
		case pVocab:
			c.openVocab(pp, v, p.vocab, false)
		case pVocabList:
			c.openVocab(pp, v, p.vocab, true)
		case pEnum:
			c.enum(pp, v, p.vocab)
		case pHashes:
			c.hashes(pp, v)
		case pKillChain:
			c.killChainPhases(pp, v)
		case pDict:
			c.dict(pp, v)
		case pObject:
			if v.k != kObject {
				c.errorf(pp, "must be an object, not a %s", v.k)
			}
		case pObjectList:
			c.list(pp, v, func(ep string, el *value) {
				if el.k != kObject {
					c.errorf(ep, "must be an object, not a %s", el.k)
				}
			})
		}
	}
}

var specs = buildSpecs()

func buildSpecs() map[string]*typeSpec {
	specs := make(map[string]*typeSpec, 64)
	for t, s := range sdoSpecs() {
		specs[t] = s
	}
	for t, s := range scoSpecs() {
		specs[t] = s
	}
	// Wrap the per-type checks so that the property tables run first.
	for _, s := range specs {
		extra := s.check
		props := s.props
		s.check = func(c *checker, o *value) {
			c.checkProps(o, "", props)
			if extra != nil {
				extra(c, o)
			}
		}
	}
	return specs
}

// categories lists the category of every type the specification defines;
// kept apart from specs so that checks may consult it.
var categories = func() map[string]category {
	m := map[string]category{
		"relationship": catSRO, "sighting": catSRO, "marking-definition": catMarking,
		"language-content": catMeta, "extension-definition": catMeta,
	}
	for _, t := range []string{"attack-pattern", "campaign", "course-of-action", "grouping", "identity",
		"incident", "indicator", "infrastructure", "intrusion-set", "location", "malware",
		"malware-analysis", "note", "observed-data", "opinion", "report", "threat-actor", "tool",
		"vulnerability"} {
		m[t] = catSDO
	}
	for _, t := range []string{"artifact", "autonomous-system", "directory", "domain-name", "email-addr",
		"email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic",
		"process", "software", "url", "user-account", "windows-registry-key", "x509-certificate"} {
		m[t] = catSCO
	}
	return m
}()
