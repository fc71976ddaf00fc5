// Package stix holds the STIX 2.1 model: objects kept as their JSON with the
// common properties decoded once, strict validation per the specification,
// upgrade of STIX 2.0 input, the TLP 2.0 marking definitions and a streaming
// bundle reader. It does no I/O beyond the readers it is handed.
package stix

import (
	"encoding/json"
	"time"
)

// Object is one STIX object. Raw is the object's JSON exactly as it will be
// stored and served (compacted, custom properties and extensions untouched);
// the other fields are decoded from it once so that stores and servers need
// not parse it again.
type Object struct {
	ID          string
	Type        string
	SpecVersion string
	// Created and Modified are zero when the object has no such property
	// (cyber-observable objects usually have neither).
	Created  time.Time
	Modified time.Time
	Revoked  bool
	Raw      json.RawMessage
}

// Version is the object's version as TAXII defines it: modified, else
// created. It is zero for objects that carry neither; servers then use the
// date the object was added.
func (o *Object) Version() time.Time {
	if !o.Modified.IsZero() {
		return o.Modified
	}
	return o.Created
}

// TimestampFormat renders timestamps the way this package writes them:
// UTC, "Z", millisecond precision (STIX 2.1 section 3.2 requires created and
// modified to be precise to the millisecond).
const TimestampFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders t as a STIX timestamp with the given number of
// fractional digits (0 to 9).
func FormatTime(t time.Time, digits int) string {
	layout := "2006-01-02T15:04:05"
	if digits > 0 {
		layout += "."
		for range digits {
			layout += "0"
		}
	}
	return t.UTC().Format(layout + "Z")
}
