package stix

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Property type checks. Each reports its own issues and says whether the
// value was usable.

func (c *checker) str(path string, v *value) bool {
	if v.k != kString {
		c.errorf(path, "must be a string, not a %s", v.k)
		return false
	}
	return true
}

func (c *checker) boolean(path string, v *value) bool {
	if v.k != kBool {
		c.errorf(path, "must be a boolean, not a %s", v.k)
		return false
	}
	return true
}

// integer checks v is a JSON integer within [lo, hi] and returns it.
func (c *checker) integer(path string, v *value, lo, hi int64) (int64, bool) {
	if v.k != kNumber {
		c.errorf(path, "must be an integer, not a %s", v.k)
		return 0, false
	}
	n, err := strconv.ParseInt(v.s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(v.s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			c.errorf(path, "must be an integer, not %s", v.s)
			return 0, false
		}
		n = int64(f)
	}
	if n < lo || n > hi {
		c.errorf(path, "must be between %d and %d, not %s", lo, hi, v.s)
		return n, false
	}
	return n, true
}

// float checks v is a number within [lo, hi].
func (c *checker) float(path string, v *value, lo, hi float64) (float64, bool) {
	if v.k != kNumber {
		c.errorf(path, "must be a number, not a %s", v.k)
		return 0, false
	}
	f, err := strconv.ParseFloat(v.s, 64)
	if err != nil || f < lo || f > hi {
		c.errorf(path, "must be a number between %g and %g, not %s", lo, hi, v.s)
		return f, false
	}
	return f, true
}

// timestamp checks the RFC 3339 form of section 3.2 (UTC, "Z"); milli
// requires at least millisecond precision, as for created and modified.
func (c *checker) timestamp(path string, v *value, milli bool) (time.Time, bool) {
	if v.k != kString {
		c.errorf(path, "must be a timestamp string, not a %s", v.k)
		return time.Time{}, false
	}
	t, msg := parseTimestamp(v.s)
	if msg != "" {
		c.errorf(path, "%s: %q", msg, v.s)
		return time.Time{}, false
	}
	if milli {
		if dot := strings.IndexByte(v.s, '.'); dot < 0 || len(v.s)-dot-2 < 3 {
			c.errorf(path, "must be precise to the millisecond (at least 3 fractional digits): %q", v.s)
			return t, false
		}
	}
	return t, true
}

// parseTimestamp parses YYYY-MM-DDTHH:MM:SS[.s+]Z.
func parseTimestamp(s string) (time.Time, string) {
	const bad = "must be an RFC 3339 timestamp in UTC of the form YYYY-MM-DDTHH:MM:SS[.s+]Z"
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[10] != 'T' || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, bad
	}
	num := func(i, n int) int {
		v := 0
		for _, ch := range []byte(s[i : i+n]) {
			if ch < '0' || ch > '9' {
				return -1
			}
			v = v*10 + int(ch-'0')
		}
		return v
	}
	year, mon, day, hh, mm, ss := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || mon < 1 || mon > 12 || day < 1 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 { // 60: leap second, as RFC 3339 allows
		return time.Time{}, bad
	}
	nsec := 0
	if rest := s[19 : len(s)-1]; rest != "" {
		if rest[0] != '.' || len(rest) < 2 {
			return time.Time{}, bad
		}
		frac := rest[1:]
		scale := 100000000
		for i := 0; i < len(frac); i++ {
			ch := frac[i]
			if ch < '0' || ch > '9' {
				return time.Time{}, bad
			}
			nsec += int(ch-'0') * scale
			scale /= 10
		}
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, ss, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, "not a valid date"
	}
	return t, ""
}

// checkIdentifier returns "" when s has the form type--UUID (RFC 4122).
func checkIdentifier(s string) string {
	t, u, ok := strings.Cut(s, "--")
	if !ok {
		return "must be an identifier of the form type--UUID"
	}
	if msg := CheckTypeName(t); msg != "" {
		return "identifier " + msg
	}
	if len(u) != 36 {
		return "identifier UUID must have the form xxxxxxxx-xxxx-Mxxx-Nxxx-xxxxxxxxxxxx"
	}
	for i := 0; i < 36; i++ {
		ch := u[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return "identifier UUID must have the form xxxxxxxx-xxxx-Mxxx-Nxxx-xxxxxxxxxxxx"
			}
			continue
		}
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F') {
			return "identifier UUID must be hexadecimal"
		}
	}
	if u[14] < '1' || u[14] > '5' {
		return "identifier UUID must be an RFC 4122 UUID (version 1 to 5)"
	}
	switch u[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
	default:
		return "identifier UUID must have the RFC 4122 variant"
	}
	return ""
}

// identifier checks v is an identifier; upper-case hexadecimal is accepted
// (RFC 4122 reads UUIDs case-insensitively) with a warning.
func (c *checker) identifier(path string, v *value) bool {
	if v.k != kString {
		c.errorf(path, "must be an identifier string, not a %s", v.k)
		return false
	}
	if msg := checkIdentifier(v.s); msg != "" {
		c.errorf(path, "%s: %q", msg, v.s)
		return false
	}
	_, u, _ := strings.Cut(v.s, "--")
	if strings.ContainsAny(u, "ABCDEF") {
		c.warn(path, "UUID should be written in lower case: "+strconvQuote(v.s))
	}
	return true
}

func strconvQuote(s string) string { return strconv.Quote(s) }

// ref checks v is an identifier of one of types (any type when none).
func (c *checker) ref(path string, v *value, types ...string) bool {
	if !c.identifier(path, v) {
		return false
	}
	if len(types) == 0 {
		return true
	}
	t, _, _ := strings.Cut(v.s, "--")
	for _, want := range types {
		if t == want {
			return true
		}
	}
	c.errorf(path, "must reference a %s, not a %s", strings.Join(types, " or "), t)
	return false
}

// list checks v is a non-empty list and calls each for every element.
func (c *checker) list(path string, v *value, each func(path string, el *value)) bool {
	if v.k != kArray {
		c.errorf(path, "must be a list, not a %s", v.k)
		return false
	}
	if len(v.a) == 0 {
		c.err(path, "must not be empty")
		return false
	}
	if each != nil {
		for i := range v.a {
			each(path+"["+strconv.Itoa(i)+"]", &v.a[i])
		}
	}
	return true
}

func (c *checker) stringList(path string, v *value) bool {
	return c.list(path, v, func(p string, el *value) { c.str(p, el) })
}

func (c *checker) refList(path string, v *value, types ...string) bool {
	return c.list(path, v, func(p string, el *value) { c.ref(p, el, types...) })
}

func (c *checker) timestampList(path string, v *value) {
	c.list(path, v, func(p string, el *value) { c.timestamp(p, el, false) })
}

// dict checks v is a non-empty JSON object with keys as section 2.6 allows
// (at most 250 ASCII characters).
func (c *checker) dict(path string, v *value) bool {
	if v.k != kObject {
		c.errorf(path, "must be a dictionary (JSON object), not a %s", v.k)
		return false
	}
	if len(v.o) == 0 {
		c.err(path, "must not be empty")
		return false
	}
	for i := range v.o {
		k := v.o[i].key
		if len(k) > 250 {
			c.err(path, "dictionary keys must be at most 250 characters long")
		}
		for j := 0; j < len(k); j++ {
			if k[j] >= 0x80 {
				c.errorf(path, "dictionary key %q must be ASCII", k)
				break
			}
		}
	}
	return true
}

// vocab checks an open vocabulary value (a string, or a list when list is
// set): unknown values only deserve a warning.
func (c *checker) openVocab(path string, v *value, name string, list bool) {
	voc := vocabularies[name]
	one := func(p string, el *value) {
		if c.str(p, el) && !voc[el.s] {
			c.warn(p, strconvQuote(el.s)+" is not in the "+name+" vocabulary")
		}
	}
	if list {
		c.list(path, v, one)
	} else {
		one(path, v)
	}
}

// enum checks a value of a closed enumeration (a MUST).
func (c *checker) enum(path string, v *value, name string) {
	if c.str(path, v) && !vocabularies[name][v.s] {
		c.errorf(path, "%q is not a value of %s", v.s, name)
	}
}

// hashes checks a hashes dictionary: algorithm names from hash-algorithm-ov
// (others warn), string values.
func (c *checker) hashes(path string, v *value) {
	if !c.dict(path, v) {
		return
	}
	voc := vocabularies["hash-algorithm-ov"]
	for i := range v.o {
		m := &v.o[i]
		p := path + "." + m.key
		if len(m.key) < 3 || len(m.key) > 250 {
			c.err(p, "hash algorithm name must be 3 to 250 characters long")
		}
		if !voc[m.key] {
			c.warn(p, strconvQuote(m.key)+" is not in the hash-algorithm-ov vocabulary")
		}
		if c.str(p, &m.val) && m.val.s == "" {
			c.err(p, "hash value must not be empty")
		}
	}
}

func (c *checker) killChainPhases(path string, v *value) {
	c.list(path, v, func(p string, el *value) {
		if el.k != kObject {
			c.errorf(p, "must be a kill-chain-phase object, not a %s", el.k)
			return
		}
		for _, k := range []string{"kill_chain_name", "phase_name"} {
			f := el.get(k)
			if f == nil {
				c.err(p+"."+k, "required property missing")
				continue
			}
			if c.str(p+"."+k, f) && f.s != strings.ToLower(f.s) {
				c.warn(p+"."+k, "should be all lower case (hyphens between words)")
			}
		}
	})
}

func (c *checker) externalReferences(path string, v *value) {
	c.list(path, v, func(p string, el *value) {
		if el.k != kObject {
			c.errorf(p, "must be an external-reference object, not a %s", el.k)
			return
		}
		src := el.get("source_name")
		if src == nil {
			c.err(p+".source_name", "required property missing")
		} else {
			c.str(p+".source_name", src)
		}
		for _, k := range []string{"description", "url", "external_id"} {
			if f := el.get(k); f != nil {
				c.str(p+"."+k, f)
			}
		}
		if !el.has("description") && !el.has("url") && !el.has("external_id") {
			c.err(p, "at least one of description, url or external_id must be present")
		}
		if h := el.get("hashes"); h != nil {
			c.hashes(p+".hashes", h)
		}
		if src == nil || src.k != kString {
			return
		}
		id := el.get("external_id")
		switch src.s {
		case "capec":
			if id == nil || id.k != kString || !hasNumericSuffix(id.s, "CAPEC-") {
				c.err(p+".external_id", `must be present and of the form CAPEC-[id] when source_name is "capec"`)
			}
		case "cve":
			if id == nil || id.k != kString || !isCVE(id.s) {
				c.err(p+".external_id", `must be present and of the form CVE-YYYY-NNNN when source_name is "cve"`)
			}
		}
	})
}

func hasNumericSuffix(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return false
		}
	}
	return true
}

func isCVE(s string) bool {
	rest, ok := strings.CutPrefix(s, "CVE-")
	if !ok || len(rest) < 9 || rest[4] != '-' {
		return false
	}
	return hasNumericSuffix(rest[:4], "") && hasNumericSuffix(rest[5:], "")
}

func (c *checker) granularMarkings(path string, v *value) {
	c.list(path, v, func(p string, el *value) {
		if el.k != kObject {
			c.errorf(p, "must be a granular-marking object, not a %s", el.k)
			return
		}
		ref, lang := el.get("marking_ref"), el.get("lang")
		switch {
		case ref != nil && lang != nil:
			c.err(p, "marking_ref and lang are mutually exclusive")
		case ref == nil && lang == nil:
			c.err(p, "one of marking_ref or lang must be present")
		}
		if ref != nil {
			c.ref(p+".marking_ref", ref, "marking-definition")
		}
		if lang != nil {
			c.langTag(p+".lang", lang)
		}
		sel := el.get("selectors")
		if sel == nil {
			c.err(p+".selectors", "required property missing")
			return
		}
		c.list(p+".selectors", sel, func(sp string, s *value) {
			if c.str(sp, s) && !selectorResolves(c.root, s.s) {
				c.errorf(sp, "selector %q does not refer to a property of this object", s.s)
			}
		})
	})
}

// selectorResolves follows a granular-marking selector (section 7.2.3.1),
// such as "external_references.[0].source_name", through the object.
func selectorResolves(root *value, sel string) bool {
	if sel == "" {
		return false
	}
	cur := root
	for part := range strings.SplitSeq(sel, ".") {
		if strings.HasPrefix(part, "[") && strings.HasSuffix(part, "]") {
			n, err := strconv.Atoi(part[1 : len(part)-1])
			if err != nil || cur.k != kArray || n < 0 || n >= len(cur.a) {
				return false
			}
			cur = &cur.a[n]
			continue
		}
		if cur.k != kObject {
			return false
		}
		if cur = cur.get(part); cur == nil {
			return false
		}
	}
	return true
}

// langTag checks an RFC 5646 language tag, syntax only.
func (c *checker) langTag(path string, v *value) {
	if !c.str(path, v) {
		return
	}
	if !isLangTag(v.s) {
		c.errorf(path, "must be an RFC 5646 language tag, not %q", v.s)
	}
}

func isLangTag(s string) bool {
	if s == "" {
		return false
	}
	for i, sub := range strings.Split(s, "-") {
		if len(sub) == 0 || len(sub) > 8 || (i == 0 && len(sub) < 2 && sub != "x" && sub != "i") {
			return false
		}
		for j := 0; j < len(sub); j++ {
			ch := sub[j]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' && i > 0) {
				return false
			}
		}
	}
	return true
}

// predefinedExtensions are the SCO extensions of section 6 (by object type).
var predefinedExtensions = map[string]bool{
	"archive-ext": true, "ntfs-ext": true, "pdf-ext": true, "raster-image-ext": true,
	"windows-pebinary-ext": true, "http-request-ext": true, "icmp-ext": true,
	"socket-ext": true, "tcp-ext": true, "windows-process-ext": true,
	"windows-service-ext": true, "unix-account-ext": true,
}

// extensions checks the extensions dictionary (section 3.2 and 7.3): keys
// are extension-definition ids or, on observables, predefined extension
// names; values are non-empty objects.
func (c *checker) extensions(path string, v *value, sco bool) {
	if !c.dict(path, v) {
		return
	}
	for i := range v.o {
		m := &v.o[i]
		p := path + "." + m.key
		switch {
		case strings.HasPrefix(m.key, "extension-definition--"):
			if msg := checkIdentifier(m.key); msg != "" {
				c.errorf(p, "extension key %s", msg)
			}
		case strings.HasSuffix(m.key, "-ext") && CheckTypeName(m.key) == "":
			if !sco {
				c.err(p, "only observables may use extension names; other objects must key extensions by extension-definition id")
			} else if !predefinedExtensions[m.key] {
				c.warn(p, "custom extension names are deprecated; use an extension-definition")
			}
		default:
			c.err(p, "extension key must be an extension-definition id or an extension name ending in -ext")
			continue
		}
		if m.val.k != kObject {
			c.errorf(p, "must be an object, not a %s", m.val.k)
			continue
		}
		if len(m.val.o) == 0 {
			c.err(p, "must not be empty")
		}
		if et := m.val.get("extension_type"); et != nil {
			c.enum(p+".extension_type", et, "extension-type-enum")
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// timeOrder reports when the timestamp property later is before earlier;
// strict requires it to be strictly later.
func (c *checker) timeOrder(o *value, earlier, later string, strict bool) {
	a, b := o.get(earlier), o.get(later)
	if a == nil || b == nil || a.k != kString || b.k != kString {
		return
	}
	ta, m1 := parseTimestamp(a.s)
	tb, m2 := parseTimestamp(b.s)
	if m1 != "" || m2 != "" {
		return
	}
	if strict && !tb.After(ta) {
		c.errorf(later, "must be later than %s", earlier)
	} else if !strict && tb.Before(ta) {
		c.errorf(later, "must be later than or equal to %s", earlier)
	}
}
