package stix

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// scoNamespace is the UUIDv5 namespace of STIX 2.1 section 2.9.
var scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// NewID returns a fresh identifier typ--UUIDv4, as the specification
// recommends for domain and relationship objects.
func NewID(typ string) string {
	return typ + "--" + uuid.NewString()
}

// SCOID returns the deterministic identifier of an observable (section
// 2.9): a UUIDv5 in the STIX namespace over the RFC 8785 canonical JSON of
// the ID-contributing properties, given as a JSON-marshalable value such as
// map[string]any{"value": "198.51.100.3"}. Choosing which properties
// contribute (and, for hashes, which single algorithm) is the caller's part.
// It panics if contributing cannot be marshaled as JSON.
func SCOID(typ string, contributing any) string {
	b, err := canonicalJSON(contributing)
	if err != nil {
		panic(fmt.Sprintf("stix.SCOID: %v", err))
	}
	return typ + "--" + uuid.NewSHA1(scoNamespace, b).String()
}

// canonicalJSON renders v per RFC 8785: members sorted by UTF-16 code
// units, minimal string escaping, numbers in their shortest form.
func canonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	root, err := parseJSON(b)
	if err != nil {
		return nil, err
	}
	canonicalNumbers(&root)
	return appendJSON(nil, &root, true), nil
}

func canonicalNumbers(v *value) {
	switch v.k {
	case kNumber:
		var f float64
		if err := json.Unmarshal([]byte(v.s), &f); err == nil {
			v.s = es6Number(f)
		}
	case kArray:
		for i := range v.a {
			canonicalNumbers(&v.a[i])
		}
	case kObject:
		for i := range v.o {
			canonicalNumbers(&v.o[i].val)
		}
	}
}

// es6Number formats f as ECMAScript's Number.prototype.toString does, as
// RFC 8785 requires.
func es6Number(f float64) string {
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a >= 1e21 || a < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		return mant + "e" + exp[:1] + strings.TrimLeft(exp[1:], "0")
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
