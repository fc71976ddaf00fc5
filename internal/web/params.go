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
	// After and Before are the page cursor as given (at most one is set);
	// Page is the page number shown, carried by the page links.
	After, Before string
	Page          int
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
	for _, k := range []string{"level", "rule", "engine", "verdict", "q", "sort", "page", "after", "before"} {
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
		Limit: alertsPerPage + 1}
	if p.Sort != "newest" {
		sq.Sort = p.Sort
	}
	p.After, p.Before = q.Get("after"), q.Get("before")
	for _, c := range []struct {
		name, v string
		to      **store.AlertCursor
	}{{"after", p.After, &sq.After}, {"before", p.Before, &sq.Before}} {
		if c.v == "" {
			continue
		}
		cur, err := parseAlertCursor(c.v, sq.Sort)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", c.name, err))
			continue
		}
		*c.to = &cur
	}
	switch {
	case p.After != "" && p.Before != "":
		errs = append(errs, "after and before: give one of them, not both")
	case p.Page > 1 && p.After == "" && p.Before == "":
		errs = append(errs, "page: a page number alone is not a place in the list; use the page links (they carry after= or before=)")
	}
	return p, sq, errs
}

// formatAlertCursor is the after= or before= value of a page link: the
// alert's sequence number, preceded by its level's rank for the "level"
// sort ("4.1234").
func formatAlertCursor(c store.AlertCursor, sort string) string {
	if sort == "level" {
		return strconv.Itoa(c.Rank) + "." + strconv.FormatInt(c.Seq, 10)
	}
	return strconv.FormatInt(c.Seq, 10)
}

// parseAlertCursor reads what formatAlertCursor wrote for the same sort.
func parseAlertCursor(v, sort string) (store.AlertCursor, error) {
	bad := fmt.Errorf("%.40q is not a page position from this page's links", v)
	var c store.AlertCursor
	seq := v
	if sort == "level" {
		r, s, ok := strings.Cut(v, ".")
		if !ok || len(r) != 1 || r[0] < '0' || r[0] > '5' {
			return c, fmt.Errorf("%w (for sort=level it is a level rank from 0 to 5, a dot and a number)", bad)
		}
		c.Rank, seq = int(r[0]-'0'), s
	}
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil || n < 1 || seq[0] == '+' {
		return c, fmt.Errorf("%w (it is a positive whole number)", bad)
	}
	c.Seq = n
	return c, nil
}

// query renders p as a query string, without its cursor and page.
func (p alertParams) query() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"level", p.Level}, {"rule", p.Rule}, {"engine", p.Engine}, {"verdict", p.Verdict}, {"q", p.Text}, {"sort", p.Sort}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// link renders the query string of the page after (dir "after") or before
// (dir "before") cursor c, numbered page.
func (p alertParams) link(dir string, c store.AlertCursor, page int) string {
	v := p.query()
	v.Set(dir, formatAlertCursor(c, p.storeSort()))
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

// self renders the query string of this page, cursor included.
func (p alertParams) self() string {
	v := p.query()
	for _, kv := range [][2]string{{"after", p.After}, {"before", p.Before}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if p.Page > 1 {
		v.Set("page", strconv.Itoa(p.Page))
	}
	return v.Encode()
}

// storeSort is p.Sort as store.AlertQuery takes it.
func (p alertParams) storeSort() string {
	if p.Sort == "newest" {
		return ""
	}
	return p.Sort
}

// checkMultiline is checkText for text areas: line breaks are allowed.
func checkMultiline(name, v string, max int) error {
	return checkText(name, strings.NewReplacer("\r\n", " ", "\n", " ").Replace(v), max)
}
