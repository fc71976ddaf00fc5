package sigma

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RuleSet is what LoadDirs read and compiled.
type RuleSet struct {
	Rules   []*Rule  // every parsed rule document
	Matcher *Matcher // all rules that compiled, in one matcher
}

// LoadDirs parses every .yml and .yaml file under dirs and compiles them
// into one matcher. Files and rules that fail are returned as LoadErrors with
// the reason; the error result is only for directories that cannot be read.
func LoadDirs(dirs []string, opts Options) (*RuleSet, []LoadError, error) {
	var rules []*Rule
	var errs []LoadError
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			ext := strings.ToLower(filepath.Ext(p))
			if ext != ".yml" && ext != ".yaml" {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, LoadError{Path: p, Err: err})
				return nil
			}
			rs, err := ParseRule(p, data)
			if err != nil {
				errs = append(errs, LoadError{Path: p, Err: err})
				return nil
			}
			rules = append(rules, rs...)
			return nil
		})
		if err != nil {
			return nil, errs, fmt.Errorf("load sigma rules from %s: %w", dir, err)
		}
	}
	m, cerrs := Compile(rules, opts)
	errs = append(errs, cerrs...)
	return &RuleSet{Rules: rules, Matcher: m}, errs, nil
}
