package alertout_test

import (
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/detect/alertout"
)

// FuzzSubject checks that any level, as a rule file may spell it, makes a
// subject of exactly one more token under the prefix: never a wildcard, a
// separator or white space, which would publish elsewhere or be refused.
func FuzzSubject(f *testing.F) {
	for _, s := range []string{"high", "Critical", "", "a.b", "*", ">", "low level", "é", "\x00", "x\r\ny"} {
		f.Add(s)
	}
	p := alertout.New(nil, alertout.Config{Prefix: "sw.alerts"})
	f.Fuzz(func(t *testing.T, level string) {
		subj := p.Subject(level)
		tok, ok := strings.CutPrefix(subj, "sw.alerts.")
		if !ok || tok == "" {
			t.Fatalf("Subject(%q) = %q, want sw.alerts.<token>", level, subj)
		}
		for _, r := range tok {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				t.Fatalf("Subject(%q) = %q: token holds %q", level, subj, r)
			}
		}
	})
}
