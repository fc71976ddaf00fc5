package ioc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// Lookup is one comparison of a STIX pattern that tests an observable
// property against literal values, as the pattern parser reports it:
// ObjectType "ipv4-addr", Path "value", Op "=", "IN" or "ISSUBSET".
type Lookup struct {
	ObjectType, Path, Op string
	Values               []string
}

// LookupFunc reads a STIX pattern and returns its comparisons when the
// whole pattern is a plain disjunction of look-ups (false otherwise). The
// lead wires internal/stix/pattern here:
//
//	func(s string) ([]ioc.Lookup, bool) {
//		p, err := pattern.Parse(s)
//		if err != nil { return nil, false }
//		ls, ok := p.Lookups()
//		... convert each pattern.Lookup to ioc.Lookup ...
//	}
type LookupFunc func(pattern string) ([]Lookup, bool)

// ErrNotLookup says an indicator's pattern is not made of plain look-ups
// (or is not a STIX pattern); the object is skipped.
var ErrNotLookup = errors.New("pattern is not a plain look-up")

// stixFields are the properties AddObject reads.
type stixFields struct {
	Type        string            `json:"type"`
	ID          string            `json:"id"`
	Value       string            `json:"value"`
	Hashes      map[string]string `json:"hashes"`
	Name        string            `json:"name"`
	Confidence  *int              `json:"confidence"`
	Labels      []string          `json:"labels"`
	Pattern     string            `json:"pattern"`
	PatternType string            `json:"pattern_type"`
	ValidFrom   string            `json:"valid_from"`
	ValidUntil  string            `json:"valid_until"`
	Revoked     bool              `json:"revoked"`
}

// hashKinds maps STIX hash algorithm names (and common spellings) to kinds.
var hashKinds = map[string]Kind{
	"MD5": MD5, "SHA-1": SHA1, "SHA1": SHA1, "SHA-256": SHA256, "SHA256": SHA256,
	"SHA-512": SHA512, "SHA512": SHA512,
}

// Compiler adds STIX objects to a Builder.
type Compiler struct {
	// Lookups reads indicator patterns; nil skips every indicator.
	Lookups LookupFunc
}

// AddObject indexes a cyber-observable (ipv4-addr, ipv6-addr, domain-name,
// url, email-addr, file hashes) or an indicator whose pattern is made of
// plain look-ups, with obj as the source. Revoked objects and objects of
// other types are skipped (nil error). Values that cannot be indexed are
// skipped and reported in the returned error (errors.Join of each); the
// others are added.
func (c *Compiler) AddObject(b *Builder, obj stix.Object) error {
	if obj.Revoked {
		return nil
	}
	var f stixFields
	if err := json.Unmarshal(obj.Raw, &f); err != nil {
		return fmt.Errorf("ioc: read %s: %w", obj.ID, err)
	}
	if f.Revoked {
		return nil
	}
	if f.ID == "" {
		f.ID = obj.ID
	}
	ref := Ref{ID: f.ID, Name: f.Name, Confidence: -1, Labels: f.Labels}
	if f.Confidence != nil {
		ref.Confidence = *f.Confidence
	}
	var errs []error
	add := func(k Kind, v string) {
		if err := b.Add(k, v, ref); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.ID, err))
		}
	}
	switch f.Type {
	case "ipv4-addr":
		add(IPv4, f.Value)
	case "ipv6-addr":
		add(IPv6, f.Value)
	case "domain-name":
		add(Domain, f.Value)
	case "url":
		add(URL, f.Value)
	case "email-addr":
		add(Email, f.Value)
	case "file":
		for alg, v := range f.Hashes {
			if k, ok := hashKinds[strings.ToUpper(alg)]; ok {
				add(k, v)
			}
		}
	case "indicator":
		if f.PatternType != "stix" || c.Lookups == nil {
			return fmt.Errorf("ioc: %s: pattern_type %q: %w", f.ID, f.PatternType, ErrNotLookup)
		}
		var err error
		if ref.ValidFrom, err = parseTime(f.ValidFrom); err != nil {
			return fmt.Errorf("ioc: %s: valid_from: %w", f.ID, err)
		}
		if ref.ValidUntil, err = parseTime(f.ValidUntil); err != nil {
			return fmt.Errorf("ioc: %s: valid_until: %w", f.ID, err)
		}
		ls, ok := c.Lookups(f.Pattern)
		if !ok {
			return fmt.Errorf("ioc: %s: %w", f.ID, ErrNotLookup)
		}
		for _, l := range ls {
			k, ok := lookupKind(l)
			if !ok {
				errs = append(errs, fmt.Errorf("ioc: %s: %s:%s %s: %w", f.ID, l.ObjectType, l.Path, l.Op, ErrNotLookup))
				continue
			}
			for _, v := range l.Values {
				add(k, v)
			}
		}
	}
	return errors.Join(errs...)
}

// AddObject is Compiler.AddObject with the given pattern reader.
func AddObject(b *Builder, obj stix.Object, lookups LookupFunc) error {
	c := Compiler{Lookups: lookups}
	return c.AddObject(b, obj)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// lookupKind says which kind a pattern comparison tests.
func lookupKind(l Lookup) (Kind, bool) {
	path := strings.ReplaceAll(l.Path, "'", "")
	switch l.Op {
	case "=", "IN":
	case "ISSUBSET":
		if l.ObjectType != "ipv4-addr" && l.ObjectType != "ipv6-addr" {
			return KindInvalid, false
		}
	default:
		return KindInvalid, false
	}
	switch l.ObjectType + ":" + path {
	case "ipv4-addr:value":
		return IPv4, true
	case "ipv6-addr:value":
		return IPv6, true
	case "domain-name:value":
		return Domain, true
	case "url:value":
		return URL, true
	case "email-addr:value", "email-message:from_ref.value", "email-message:sender_ref.value":
		return Email, true
	}
	if l.ObjectType == "file" {
		if alg, ok := strings.CutPrefix(path, "hashes."); ok {
			k, ok := hashKinds[strings.ToUpper(alg)]
			return k, ok
		}
	}
	return KindInvalid, false
}
