package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	sigma "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
)

// sigmaGo runs github.com/bradleyjkemp/sigma-go as its README says:
// sigma.ParseRule, then evaluator.ForRule with a config whose log-source
// mappings carry the Channel/EventID conditions; RelevantToEvent decides
// whether a rule applies to an event, Matches whether it fires.
type sigmaGo struct {
	rules   []*evaluator.RuleEvaluator
	errs    map[string]int    // evaluation errors per rule id
	errText map[string]string // first error text per rule id
}

func (s *sigmaGo) load(dir string) (int, int, error) {
	cfg, err := sigma.ParseConfig([]byte(sigmaGoConfig()))
	if err != nil {
		return 0, 0, fmt.Errorf("sigma-go config: %w", err)
	}
	s.errs, s.errText = map[string]int{}, map[string]string{}
	failed := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r, err := sigma.ParseRule(data)
		if err != nil {
			failed++
			fmt.Printf("sigma-go: cannot parse %s: %v\n", p, err)
			return nil
		}
		if r.ID == "" {
			r.ID = p
		}
		s.rules = append(s.rules, evaluator.ForRule(r, evaluator.WithConfig(cfg), evaluator.WithPlaceholderExpander(literal)))
		return nil
	})
	return len(s.rules), failed, err
}

// literal keeps a %...% value as the literal text it is in SigmaHQ rules
// (%AppData%, %COMSPEC%): sigma-go treats any such value as a placeholder and
// fails the whole rule without an expander.
func literal(_ context.Context, v string) ([]string, error) { return []string{v}, nil }

func (s *sigmaGo) ruleIDs() []string {
	ids := make([]string, len(s.rules))
	for i, r := range s.rules {
		ids[i] = r.ID
	}
	return ids
}

func (s *sigmaGo) eval(r *record, hit func(string)) {
	ctx := context.Background()
	for _, re := range s.rules {
		ok, err := re.RelevantToEvent(ctx, "windows", r.fields)
		if err != nil || !ok {
			continue
		}
		res, err := re.Matches(ctx, r.fields)
		if err != nil {
			if s.errs[re.ID] == 0 {
				s.errText[re.ID] = err.Error()
			}
			s.errs[re.ID]++
			continue
		}
		if res.Match {
			hit(re.ID)
		}
	}
}

// errors lists, per rule, how many events failed and the first reason.
func (s *sigmaGo) errors() []ruleError {
	var out []ruleError
	for _, id := range sortedKeys(s.errs) {
		out = append(out, ruleError{RuleID: id, Events: s.errs[id], Err: s.errText[id]})
	}
	return out
}

type ruleError struct {
	RuleID string `json:"rule_id"`
	Events int    `json:"events"`
	Err    string `json:"error"`
}

func (s *sigmaGo) notes() string {
	if len(s.errs) == 0 {
		return ""
	}
	kinds := map[string]int{}
	for id, t := range s.errText {
		_ = id
		k := t
		if i := strings.LastIndex(k, ": "); i >= 0 {
			k = k[i+2:]
		}
		kinds[k]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sigma-go: %d rules returned evaluation errors on some event; by reason (rules):\n", len(s.errs))
	ks := sortedKeys(kinds)
	sort.Slice(ks, func(i, j int) bool { return kinds[ks[i]] > kinds[ks[j]] })
	for _, k := range ks {
		fmt.Fprintf(&b, "  %4d  %s\n", kinds[k], k)
	}
	return b.String()
}
