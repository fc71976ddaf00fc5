package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Logsource says which events a rule reads.
type Logsource struct {
	Product  string `yaml:"product"`
	Category string `yaml:"category"`
	Service  string `yaml:"service"`
}

// Correlation is the correlation section of a correlation rule.
type Correlation struct {
	Type      string            // event_count, value_count, temporal, temporal_ordered
	Rules     []string          // ids or names of the referenced rules
	GroupBy   []string          // fields whose values group the events
	Timespan  string            // "5m", "1h"...
	Field     string            // value_count: the field whose distinct values are counted
	Condition map[string]string // gt, gte, lt, lte, eq, neq -> number
	Aliases   map[string]map[string]string
	Generate  bool
}

// Rule is one parsed Sigma rule document (a detection rule or a correlation).
type Rule struct {
	Path        string
	ID          string
	Name        string
	Title       string
	Status      string
	Level       string
	Tags        []string
	Logsource   Logsource
	Detection   map[string]*yaml.Node // search identifiers (without "condition")
	DetectOrder []string              // identifiers in document order
	Conditions  []string
	Correlation *Correlation
}

type rawRule struct {
	Title       string          `yaml:"title"`
	ID          string          `yaml:"id"`
	Name        string          `yaml:"name"`
	Status      string          `yaml:"status"`
	Level       string          `yaml:"level"`
	Tags        []string        `yaml:"tags"`
	Logsource   Logsource       `yaml:"logsource"`
	Detection   yaml.Node       `yaml:"detection"`
	Correlation *rawCorrelation `yaml:"correlation"`
	Action      string          `yaml:"action"`
}

type rawCorrelation struct {
	Type      string                       `yaml:"type"`
	Rules     yaml.Node                    `yaml:"rules"`
	GroupBy   yaml.Node                    `yaml:"group-by"`
	Timespan  string                       `yaml:"timespan"`
	Timeframe string                       `yaml:"timeframe"`
	Condition yaml.Node                    `yaml:"condition"`
	Aliases   map[string]map[string]string `yaml:"aliases"`
	Generate  bool                         `yaml:"generate"`
}

// ParseRule parses every YAML document of a rule file. A file may hold a
// collection: documents with "action: global" are merged into the documents
// that follow, "action: reset" forgets them, "action: repeat" reuses the
// previous document as a base.
func ParseRule(path string, data []byte) ([]*Rule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Rule
	var global, prev map[string]any
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i+1, err)
		}
		if doc.Kind == 0 || (doc.Kind == yaml.DocumentNode && len(doc.Content) == 0) {
			continue
		}
		var m map[string]any
		if err := doc.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: document %d: not a mapping: %w", path, i+1, err)
		}
		if m == nil {
			continue
		}
		merged := false
		switch m["action"] {
		case "global":
			delete(m, "action")
			global = m
			continue
		case "reset":
			global = nil
			continue
		case "repeat":
			delete(m, "action")
			if prev == nil {
				return nil, fmt.Errorf("%s: document %d: action repeat without a previous document", path, i+1)
			}
			m = mergeMaps(prev, m)
			merged = true
		default:
			if global != nil {
				m = mergeMaps(global, m)
				merged = true
			}
		}
		prev = m
		var r *Rule
		if !merged && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			r, err = ruleFromNode(path, doc.Content[0])
		} else {
			r, err = ruleFromMap(path, m)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rule in file", path)
	}
	return out, nil
}

// mergeMaps returns base overlaid with top (deep for mappings).
func mergeMaps(base, top map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		if bm, ok := out[k].(map[string]any); ok {
			if tm, ok := v.(map[string]any); ok {
				out[k] = mergeMaps(bm, tm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func ruleFromMap(path string, m map[string]any) (*Rule, error) {
	// Collections are merged as maps; re-encode to nodes.
	var node yaml.Node
	if err := node.Encode(m); err != nil {
		return nil, fmt.Errorf("re-encode: %w", err)
	}
	return ruleFromNode(path, &node)
}

func ruleFromNode(path string, node *yaml.Node) (*Rule, error) {
	var raw rawRule
	if err := node.Decode(&raw); err != nil {
		return nil, fmt.Errorf("rule fields: %w", err)
	}
	r := &Rule{Path: path, ID: raw.ID, Name: raw.Name, Title: raw.Title, Status: raw.Status,
		Level: raw.Level, Tags: raw.Tags, Logsource: raw.Logsource}
	if raw.Title == "" {
		return nil, errors.New("missing title")
	}
	if raw.Correlation != nil {
		c, err := parseCorrelation(raw.Correlation)
		if err != nil {
			return nil, fmt.Errorf("correlation: %w", err)
		}
		r.Correlation = c
		return r, nil
	}
	if raw.Detection.Kind == 0 {
		return nil, errors.New("missing detection")
	}
	if raw.Detection.Kind != yaml.MappingNode {
		return nil, errors.New("detection is not a mapping")
	}
	r.Detection = make(map[string]*yaml.Node)
	for i := 0; i+1 < len(raw.Detection.Content); i += 2 {
		k, v := raw.Detection.Content[i], raw.Detection.Content[i+1]
		switch k.Value {
		case "condition":
			switch v.Kind {
			case yaml.ScalarNode:
				r.Conditions = append(r.Conditions, v.Value)
			case yaml.SequenceNode:
				for _, c := range v.Content {
					if c.Kind != yaml.ScalarNode {
						return nil, errors.New("condition list holds a non-string")
					}
					r.Conditions = append(r.Conditions, c.Value)
				}
			default:
				return nil, errors.New("condition is neither a string nor a list")
			}
		case "timeframe":
			// Deprecated aggregation window; ignored.
		default:
			r.Detection[k.Value] = v
			r.DetectOrder = append(r.DetectOrder, k.Value)
		}
	}
	if len(r.Conditions) == 0 {
		return nil, errors.New("detection has no condition")
	}
	if len(r.Detection) == 0 {
		return nil, errors.New("detection has no search identifier")
	}
	return r, nil
}

func nodeStrings(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, errors.New("list holds a non-string")
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, errors.New("expected a string or a list of strings")
}

func parseCorrelation(rc *rawCorrelation) (*Correlation, error) {
	c := &Correlation{Type: rc.Type, Timespan: rc.Timespan, Aliases: rc.Aliases, Generate: rc.Generate}
	if c.Timespan == "" {
		c.Timespan = rc.Timeframe
	}
	switch c.Type {
	case "event_count", "value_count", "temporal", "temporal_ordered":
	case "":
		return nil, errors.New("missing type")
	default:
		return nil, fmt.Errorf("unknown type %q", c.Type)
	}
	var err error
	if c.Rules, err = nodeStrings(&rc.Rules); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if len(c.Rules) == 0 {
		return nil, errors.New("no referenced rules")
	}
	if c.GroupBy, err = nodeStrings(&rc.GroupBy); err != nil {
		return nil, fmt.Errorf("group-by: %w", err)
	}
	if c.Timespan == "" {
		return nil, errors.New("missing timespan")
	}
	c.Condition = map[string]string{}
	switch rc.Condition.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(rc.Condition.Content); i += 2 {
			k, v := rc.Condition.Content[i].Value, rc.Condition.Content[i+1].Value
			if k == "field" {
				c.Field = v
				continue
			}
			c.Condition[k] = v
		}
	case 0:
		if c.Type == "event_count" || c.Type == "value_count" {
			return nil, errors.New("missing condition")
		}
	default:
		return nil, errors.New("condition is not a mapping")
	}
	if c.Type == "value_count" && c.Field == "" {
		return nil, errors.New("value_count without condition field")
	}
	for k := range c.Condition {
		switch k {
		case "gt", "gte", "lt", "lte", "eq", "neq":
		default:
			return nil, fmt.Errorf("unknown condition operator %q", k)
		}
	}
	return c, nil
}

// titleOrID names a rule in messages.
func (r *Rule) titleOrID() string {
	if r.ID != "" {
		return r.ID
	}
	return strings.TrimSpace(r.Title)
}
