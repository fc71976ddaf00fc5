package pattern

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Object is one cyber-observable object of an observation: its STIX type
// and a property tree. Property values are string, int64, float64, bool,
// time.Time, []byte, []any, map[string]any, json.Number, or *Object for a
// reference resolved to another object of the same observation.
type Object struct {
	Type  string
	ID    string
	Props map[string]any
	// Origin optionally names, per top-level property, where its value came
	// from (an event field); match reports carry it.
	Origin map[string]string
}

// Observation is a set of cyber observables seen at one time.
type Observation struct {
	Time    time.Time
	Objects []*Object
}

// NewObject returns an object of the given type with empty properties.
func NewObject(typ string) *Object {
	return &Object{Type: typ, Props: map[string]any{}}
}

// Set sets property name to v, remembering origin when it is not "".
func (o *Object) Set(name string, v any, origin string) {
	o.Props[name] = v
	if origin != "" {
		if o.Origin == nil {
			o.Origin = map[string]string{}
		}
		o.Origin[name] = origin
	}
}

// FromSCOs builds an observation from cyber-observable objects decoded from
// JSON. keys names each object for STIX 2.0 observed-data "objects"
// dictionaries (nil for 2.1 objects, which are named by their "id").
// Properties ending in _ref and _refs that name another object of the list
// are resolved to that *Object; unresolvable references stay strings.
func FromSCOs(t time.Time, scos []map[string]any, keys []string) (*Observation, error) {
	obs := &Observation{Time: t}
	byName := map[string]*Object{}
	for i, m := range scos {
		typ, _ := m["type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("pattern: observable %d has no type", i)
		}
		o := &Object{Type: typ, Props: m}
		o.ID, _ = m["id"].(string)
		if keys != nil && i < len(keys) {
			byName[keys[i]] = o
		}
		if o.ID != "" {
			byName[o.ID] = o
		}
		obs.Objects = append(obs.Objects, o)
	}
	for _, o := range obs.Objects {
		for k, v := range o.Props {
			switch {
			case strings.HasSuffix(k, "_ref"):
				if s, ok := v.(string); ok && byName[s] != nil {
					o.Props[k] = byName[s]
				}
			case strings.HasSuffix(k, "_refs"):
				if l, ok := v.([]any); ok {
					for i, e := range l {
						if s, ok := e.(string); ok && byName[s] != nil {
							l[i] = byName[s]
						}
					}
				}
			}
		}
	}
	return obs, nil
}

// FromObservedData builds an observation from an observed-data object: STIX
// 2.0 style with an "objects" dictionary, or 2.1 style with object_refs
// looked up in scos (id to decoded object; may be nil). Its time is
// first_observed.
func FromObservedData(raw []byte, scos map[string]map[string]any) (*Observation, error) {
	var od struct {
		FirstObserved string                    `json:"first_observed"`
		Objects       map[string]map[string]any `json:"objects"`
		ObjectRefs    []string                  `json:"object_refs"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&od); err != nil {
		return nil, fmt.Errorf("pattern: reading observed-data: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, od.FirstObserved)
	if err != nil {
		return nil, fmt.Errorf("pattern: observed-data first_observed: %w", err)
	}
	var list []map[string]any
	var keys []string
	for k, o := range od.Objects {
		keys = append(keys, k)
		list = append(list, o)
	}
	for _, id := range od.ObjectRefs {
		if o, ok := scos[id]; ok {
			list = append(list, o)
			keys = append(keys, id)
		}
	}
	return FromSCOs(t, list, keys)
}
