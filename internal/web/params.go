package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shieldwall/shieldwall/internal/store"
)

// Bounds of the query parameters the pages accept.
const (
	maxTextParam  = 200
	maxPage       = 10000
	alertsPerPage = 50
)

var (
	levels   = []string{"informational", "low", "medium", "high", "critical"}
	engines  = []string{"sigma", "ioc", "stix"}
	verdicts = []string{store.VerdictTruePositive, store.VerdictFalsePositive, "untriaged"}
	sorts    = []string{"newest", "oldest", "level"}
)

// alertParams is the alerts page's filter as the user gave it (for the
// form) and as the store takes it.
type alertParams struct {
	Level, Rule, Engine, Verdict, Text, Sort string
	Page                                     int
}

func oneOf(name, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%s: %q is not one of %s", name, v, strings.Join(allowed, ", "))
}

// checkText bounds a free-text parameter: valid UTF-8, no control
// characters, at most max bytes.
func checkText(name, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%s: at most %d characters", name, max)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s: not valid UTF-8 text", name)
	}
	for _, c := range v {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("%s: control characters are not allowed", name)
		}
	}
	return nil
}

// parseAlertParams reads the alerts page's query. Every bad parameter is
// reported; the filter is then not run.
func parseAlertParams(q url.Values) (alertParams, store.AlertQuery, []string) {
	var p alertParams
	var errs []string
	for _, k := range []string{"level", "rule", "engine", "verdict", "q", "sort", "page"} {
		if len(q[k]) > 1 {
			errs = append(errs, fmt.Sprintf("%s: given %d times, want once", k, len(q[k])))
		}
	}
	p.Level, p.Rule, p.Engine, p.Verdict = q.Get("level"), strings.TrimSpace(q.Get("rule")), q.Get("engine"), q.Get("verdict")
	p.Text, p.Sort = strings.TrimSpace(q.Get("q")), q.Get("sort")
	if p.Level != "" {
		if err := oneOf("level", p.Level, levels); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if p.Engine != "" {
		if err := oneOf("engine", p.Engine, engines); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if p.Verdict != "" {
		if err := oneOf("verdict", p.Verdict, verdicts); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if p.Sort != "" {
		if err := oneOf("sort", p.Sort, sorts); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, t := range []struct{ name, v string }{{"rule", p.Rule}, {"q", p.Text}} {
		if err := checkText(t.name, t.v, maxTextParam); err != nil {
			errs = append(errs, err.Error())
		}
	}
	p.Page = 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			errs = append(errs, fmt.Sprintf("page: %q is not a whole number from 1 to %d", v, maxPage))
		} else {
			p.Page = n
		}
	}
	sq := store.AlertQuery{Level: p.Level, RuleID: p.Rule, Engine: p.Engine, Verdict: p.Verdict, Text: p.Text,
		Offset: (p.Page - 1) * alertsPerPage, Limit: alertsPerPage + 1}
	if p.Sort != "newest" {
		sq.Sort = p.Sort
	}
	return p, sq, errs
}

// query renders p as a query string, with page replaced.
func (p alertParams) query(page int) string {
	v := url.Values{}
	for _, kv := range [][2]string{{"level", p.Level}, {"rule", p.Rule}, {"engine", p.Engine}, {"verdict", p.Verdict}, {"q", p.Text}, {"sort", p.Sort}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

// checkMultiline is checkText for text areas: line breaks are allowed.
func checkMultiline(name, v string, max int) error {
	return checkText(name, strings.NewReplacer("\r\n", " ", "\n", " ").Replace(v), max)
}
