package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	gsre "github.com/markuskont/go-sigma-rule-engine"
)

// markusKont runs github.com/markuskont/go-sigma-rule-engine as its README
// says: NewRuleset over the directory, then each Tree's Match on an Event
// that wraps the JSON map (Select is a map look-up; Keywords returns
// nothing, the README's stub for dynamic JSON). The engine ignores log
// sources, so each rule is first filtered by the shared Channel/EventID
// table.
type markusKont struct {
	rs      *gsre.Ruleset
	filters []filter
}

type dynMap map[string]any

func (d dynMap) Keywords() ([]string, bool) { return nil, false }

func (d dynMap) Select(k string) (any, bool) {
	v, ok := d[k]
	return v, ok
}

func (m *markusKont) load(dir string) (int, int, error) {
	rs, err := gsre.NewRuleset(gsre.Config{Directory: []string{dir}})
	if err != nil {
		return 0, 0, fmt.Errorf("go-sigma-rule-engine: %w", err)
	}
	m.rs = rs
	for _, t := range rs.Rules {
		m.filters = append(m.filters, compile(t.Rule.Category, t.Rule.Service))
	}
	m.failures(dir)
	fmt.Printf("go-sigma-rule-engine: %d files, %d ok, %d failed, %d unsupported\n", rs.Total, rs.Ok, rs.Failed, rs.Unsupported)
	return rs.Ok, rs.Failed + rs.Unsupported, nil
}

func (m *markusKont) ruleIDs() []string {
	ids := make([]string, len(m.rs.Rules))
	for i, t := range m.rs.Rules {
		ids[i] = t.Rule.ID
	}
	return ids
}

func (m *markusKont) eval(r *record, hit func(string)) {
	ev := dynMap(r.fields)
	for i, t := range m.rs.Rules {
		if !m.filters[i].accepts(r.channel, r.eventID) {
			continue
		}
		if match, applicable := t.Match(ev); match && applicable {
			hit(t.Rule.ID)
		}
	}
}

func (m *markusKont) notes() string { return "" }

// failures parses the rules again one by one, as NewRuleset does, to print
// why rules were refused (NewRuleset only counts them).
func (m *markusKont) failures(dir string) {
	files, err := gsre.NewRuleFileList([]string{dir})
	if err != nil {
		return
	}
	handles, _ := gsre.NewRuleList(files, true, false)
	reasons := map[string]int{}
	quoted := regexp.MustCompile(`[0-9]+|"[^"]*"|'[^']*'`)
	for _, h := range handles {
		if h.Multipart {
			reasons["multi-document rule file (unsupported)"]++
			continue
		}
		if _, err := gsre.NewTree(h); err != nil {
			reasons[reason(err.Error(), quoted)]++
		}
	}
	keys := sortedKeys(reasons)
	sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
	fmt.Println("go-sigma-rule-engine: rules refused, by reason:")
	for _, k := range keys {
		fmt.Printf("  %4d  %s\n", reasons[k], k)
	}
}

var specifier = regexp.MustCompile(`specifier (\S+) invalid`)

// reason groups an error text: the modifier it refused, or the text
// without the rule-specific names and numbers.
func reason(k string, quoted *regexp.Regexp) string {
	if i := strings.Index(k, "failed to extract and build branch for "); i >= 0 {
		if j := strings.Index(k[i:], ": "); j >= 0 {
			k = k[i+j+2:]
		}
	}
	if m := specifier.FindStringSubmatch(k); m != nil {
		return "modifier " + m[1] + " unsupported"
	}
	k = quoted.ReplaceAllString(k, "_")
	if len(k) > 70 {
		k = k[:70]
	}
	return k
}
