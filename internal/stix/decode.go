package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Severity tells an Issue that makes an object invalid from one that only
// deserves a warning (the specification's SHOULDs).
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

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

type header struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	SpecVersion string `json:"spec_version"`
	Created     string `json:"created"`
	Modified    string `json:"modified"`
	Revoked     bool   `json:"revoked"`
}

// Decode parses and validates one STIX 2.1 object. On success it returns the
// object (Raw compacted) and any warnings; otherwise an *InvalidError.
func Decode(raw []byte) (Object, []Issue, error) {
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return Object{}, nil, &InvalidError{Issues: []Issue{{Message: fmt.Sprintf("malformed JSON: %v", err)}}}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return Object{}, nil, &InvalidError{Issues: []Issue{{Message: fmt.Sprintf("malformed JSON: %v", err)}}}
	}
	o := Object{ID: h.ID, Type: h.Type, SpecVersion: h.SpecVersion, Revoked: h.Revoked, Raw: buf.Bytes()}
	var issues []Issue
	if h.Created != "" {
		t, err := time.Parse(time.RFC3339Nano, h.Created)
		if err != nil {
			issues = append(issues, Issue{Property: "created", Message: err.Error()})
		}
		o.Created = t
	}
	if h.Modified != "" {
		t, err := time.Parse(time.RFC3339Nano, h.Modified)
		if err != nil {
			issues = append(issues, Issue{Property: "modified", Message: err.Error()})
		}
		o.Modified = t
	}
	if o.SpecVersion == "" {
		o.SpecVersion = "2.1"
	}
	if len(issues) > 0 {
		return Object{}, nil, &InvalidError{ID: h.ID, Type: h.Type, Issues: issues}
	}
	return o, nil, nil
}
