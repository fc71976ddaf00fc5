package stix

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Severity tells an Issue that makes an object invalid from one that only
// deserves a warning (the specification's SHOULDs).
type Severity int

const (
	// SeverityError marks a violation of a MUST: the object is invalid.
	SeverityError Severity = iota
	// SeverityWarning marks a missed SHOULD, such as a value outside an
	// open vocabulary: the object is still valid.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Issue is one finding about one object.
type Issue struct {
	Property string // JSON path of the offending property, "" for the object
	Message  string
	Severity Severity
}

func (i Issue) String() string {
	if i.Property == "" {
		return i.Message
	}
	return i.Property + ": " + i.Message
}

// InvalidError reports every violation found in one object.
type InvalidError struct {
	ID     string // may be empty when the object has no usable id
	Type   string
	Issues []Issue // errors only
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = is.String()
	}
	return "invalid STIX object: " + strings.Join(parts, "; ")
}

// Decode parses and validates one STIX 2.1 object against the
// specification. Outcomes:
//   - the object is valid: it is returned with Raw set to the compacted
//     input (member order, numbers and custom content untouched), together
//     with the warnings (Severity == SeverityWarning) for SHOULDs it misses;
//   - the input is not JSON, not a JSON object, or breaks a MUST of the
//     specification: the error is an *InvalidError listing every error
//     Issue; the returned Object is zero.
//
// Custom object types and custom properties are accepted when their names
// follow the specification's syntax; only their common properties are
// checked.
func Decode(raw []byte) (Object, []Issue, error) {
	p := parser{data: raw, str: string(raw)}
	root, err := p.parse()
	if err != nil {
		return Object{}, nil, &InvalidError{Issues: []Issue{{Message: err.Error()}}}
	}
	if root.k != kObject {
		return Object{}, nil, &InvalidError{Issues: []Issue{{Message: "a STIX object must be a JSON object, not a " + root.k.String()}}}
	}
	c := checker{root: &root}
	o := c.check()
	var errs, warns []Issue
	for _, is := range c.issues {
		if is.Severity == SeverityError {
			errs = append(errs, is)
		} else {
			warns = append(warns, is)
		}
	}
	if len(errs) > 0 {
		return Object{}, nil, &InvalidError{ID: root.str("id"), Type: root.str("type"), Issues: errs}
	}
	if p.ws {
		o.Raw = appendCompact(make([]byte, 0, len(raw)), raw)
	} else {
		o.Raw = bytes.Clone(raw)
	}
	return o, warns, nil
}

// checker collects the issues of one object.
type checker struct {
	root   *value
	issues []Issue
}

func (c *checker) errorf(path, format string, args ...any) {
	c.issues = append(c.issues, Issue{Property: path, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) err(path, msg string) {
	c.issues = append(c.issues, Issue{Property: path, Message: msg})
}

func (c *checker) warn(path, msg string) {
	c.issues = append(c.issues, Issue{Property: path, Message: msg, Severity: SeverityWarning})
}

// category of a type, which decides the common properties.
type category uint8

const (
	catSDO category = iota + 1
	catSRO
	catSCO
	catMarking
	catMeta // language-content, extension-definition
	catCustom
)

func (c *checker) check() Object {
	r := c.root
	var o Object
	typ := r.get("type")
	if typ == nil {
		c.err("type", "required property missing")
	} else if typ.k != kString {
		c.errorf("type", "must be a string, not a %s", typ.k)
	} else {
		o.Type = typ.s
		if msg := CheckTypeName(typ.s); msg != "" {
			c.err("type", msg)
		}
	}
	if o.Type == "bundle" {
		c.err("type", "a bundle is not a STIX object; read it with a BundleReader")
		return o
	}
	c.checkPropertyNames()

	spec, known := specs[o.Type]
	cat := catCustom
	if known {
		cat = spec.cat
	} else if r.has("created") || r.has("modified") {
		// A custom object with the SDO common properties is checked as an
		// SDO; otherwise as a custom observable.
		cat = catSDO
	} else {
		cat = catSCO
	}

	if id := r.get("id"); id == nil {
		c.err("id", "required property missing")
	} else if c.identifier("id", id) {
		o.ID = id.s
		if o.Type != "" {
			if t, _, _ := strings.Cut(id.s, "--"); t != o.Type {
				c.errorf("id", "type part %q must equal the type property %q", t, o.Type)
			}
		}
	}

	switch sv := r.get("spec_version"); {
	case sv == nil && cat == catSCO:
		o.SpecVersion = "2.1"
	case sv == nil:
		c.err("spec_version", `required property missing (STIX 2.0 input must be upgraded first)`)
	case sv.k != kString || sv.s != "2.1":
		c.errorf("spec_version", `must be "2.1", not %s`, short(sv))
	default:
		o.SpecVersion = "2.1"
	}

	switch cat {
	case catSCO:
		c.scoCommon()
	case catMarking:
		o.Created = c.created(true)
	default:
		o.Created, o.Modified = c.sdoCommon(cat)
	}
	if v := r.get("revoked"); v != nil {
		if v.k != kBool {
			c.errorf("revoked", "must be a boolean, not a %s", v.k)
		}
		o.Revoked = v.b
	}
	c.markings()
	if v := r.get("extensions"); v != nil {
		c.extensions("extensions", v, cat == catSCO)
	}
	if known && spec.check != nil {
		spec.check(c, r)
	}
	return o
}

// sdoCommon checks the common properties of SDOs, SROs, language-content,
// extension-definition and custom objects.
func (c *checker) sdoCommon(cat category) (created, modified time.Time) {
	r := c.root
	created = c.created(true)
	if v := r.get("modified"); v == nil {
		c.err("modified", "required property missing")
	} else {
		modified, _ = c.timestamp("modified", v, true)
	}
	if !created.IsZero() && !modified.IsZero() && modified.Before(created) {
		c.err("modified", "must be later than or equal to created")
	}
	for _, p := range reservedProps {
		if r.has(p) {
			c.errorf(p, "reserved property name; it must not be used")
		}
	}
	if v := r.get("labels"); v != nil {
		c.stringList("labels", v)
	}
	if v := r.get("confidence"); v != nil {
		c.integer("confidence", v, 0, 100)
	}
	if v := r.get("lang"); v != nil {
		c.langTag("lang", v)
	}
	if v := r.get("external_references"); v != nil {
		c.externalReferences("external_references", v)
	}
	if v := r.get("created_by_ref"); v != nil {
		c.ref("created_by_ref", v, "identity")
	}
	return created, modified
}

var reservedProps = []string{"severity", "action", "username", "phone_numbers"}

func (c *checker) created(required bool) time.Time {
	v := c.root.get("created")
	if v == nil {
		if required {
			c.err("created", "required property missing")
		}
		return time.Time{}
	}
	t, _ := c.timestamp("created", v, true)
	return t
}

// scoCommon checks the properties common to cyber-observable objects.
func (c *checker) scoCommon() {
	if v := c.root.get("defanged"); v != nil && v.k != kBool {
		c.errorf("defanged", "must be a boolean, not a %s", v.k)
	}
}

// markings checks object_marking_refs and granular_markings.
func (c *checker) markings() {
	r := c.root
	if v := r.get("object_marking_refs"); v != nil {
		c.refList("object_marking_refs", v, "marking-definition")
	}
	if v := r.get("granular_markings"); v != nil {
		c.granularMarkings("granular_markings", v)
	}
}

// checkPropertyNames applies the specification's syntax for property names
// (section 3.1 and 11.1) to every top-level property but id.
func (c *checker) checkPropertyNames() {
	o := c.root.o
	for i := range o {
		k := o[i].key
		for j := 0; j < i; j++ {
			if o[j].key == k {
				c.err(k, "duplicate property (the object is ambiguous)")
				break
			}
		}
		if k == "id" {
			continue
		}
		if msg := checkPropertyName(k); msg != "" {
			c.err(k, msg)
		}
	}
}

func checkPropertyName(k string) string {
	if len(k) < 3 || len(k) > 250 {
		return "property name must be 3 to 250 characters long"
	}
	if k[0] < 'a' || k[0] > 'z' {
		return "property name must begin with a lowercase letter a-z"
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "property name must only contain a-z, 0-9 and underscore"
		}
	}
	return ""
}

// CheckTypeName applies the syntax of section 3.1 (type): 3 to 250
// characters, a-z 0-9 and hyphen, beginning with a letter. Two consecutive
// hyphens are refused too, since they would make identifiers ambiguous. It
// returns the reason a name is refused, or "" when it is well-formed.
func CheckTypeName(t string) string {
	if len(t) < 3 || len(t) > 250 {
		return "type name must be 3 to 250 characters long"
	}
	if t[0] < 'a' || t[0] > 'z' {
		return "type name must begin with a lowercase letter a-z"
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "type name must only contain a-z, 0-9 and hyphen"
		}
	}
	if strings.Contains(t, "--") {
		return "type name must not contain two consecutive hyphens"
	}
	return ""
}

// short renders a value for a message, truncated.
func short(v *value) string {
	b := appendJSON(nil, v, false)
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}
