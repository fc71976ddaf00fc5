package web

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shieldwall/shieldwall/internal/store"
)

// FuzzParseAlertParams: any query string gives either errors or a store
// query within the documented bounds, and this page's query and the page
// links it builds parse back to the same filter.
func FuzzParseAlertParams(f *testing.F) {
	for _, s := range []string{"", "level=high&sort=level&page=2&after=4.120", "q=powershell&rule=abc", "verdict=untriaged&engine=ioc",
		"page=0", "q=%ff", "level=a&level=b", "before=77&page=3", "sort=oldest&after=1", "after=1&before=2", "sort=level&before=0.5", "after=+5", "after=4.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, q, errs := parseAlertParams(v)
		if len(errs) > 0 {
			return
		}
		if q.Limit != alertsPerPage+1 || p.Page < 1 || p.Page > maxPage || q.After != nil && q.Before != nil {
			t.Fatalf("query %+v (page %d) out of bounds", q, p.Page)
		}
		for _, c := range []*store.AlertCursor{q.After, q.Before} {
			if c != nil && (c.Seq < 1 || c.Rank < 0 || c.Rank > 5 || q.Sort != "level" && c.Rank != 0) {
				t.Fatalf("cursor %+v out of bounds", *c)
			}
		}
		if len(q.Text) > maxTextParam || !utf8.ValidString(q.Text) || strings.ContainsRune(q.Text, 0) {
			t.Fatalf("text %q passed the checks", q.Text)
		}
		back, err := url.ParseQuery(p.self())
		if err != nil {
			t.Fatal(err)
		}
		p2, q2, errs2 := parseAlertParams(back)
		if len(errs2) > 0 || p2 != p || !reflect.DeepEqual(q2, q) {
			t.Fatalf("round trip of %q: %+v %v, want %+v", p.self(), p2, errs2, p)
		}
		if p.Page >= maxPage {
			return
		}
		c := store.AlertCursor{Seq: 12345}
		if q.Sort == "level" {
			c.Rank = 3
		}
		for _, dir := range []string{"after", "before"} {
			link, err := url.ParseQuery(p.link(dir, c, p.Page+1))
			if err != nil {
				t.Fatal(err)
			}
			p3, q3, errs3 := parseAlertParams(link)
			got := q3.After
			if dir == "before" {
				got = q3.Before
			}
			if len(errs3) > 0 || got == nil || *got != c || p3.Page != p.Page+1 || p3.Text != p.Text || q3.Sort != q.Sort {
				t.Fatalf("%s link %q of %+v: %+v %+v %v", dir, p.link(dir, c, p.Page+1), p, p3, q3, errs3)
			}
		}
	})
}
