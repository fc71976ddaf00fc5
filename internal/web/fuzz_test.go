package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseAlertParams: any query string gives either errors or a store
// query within the documented bounds, and the page links it builds parse
// back to the same filter.
func FuzzParseAlertParams(f *testing.F) {
	for _, s := range []string{"", "level=high&sort=level&page=2", "q=powershell&rule=abc", "verdict=untriaged&engine=ioc", "page=0", "q=%ff", "level=a&level=b"} {
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
		if q.Limit != alertsPerPage+1 || q.Offset < 0 || q.Offset > (maxPage-1)*alertsPerPage {
			t.Fatalf("query %+v out of bounds", q)
		}
		if len(q.Text) > maxTextParam || !utf8.ValidString(q.Text) || strings.ContainsRune(q.Text, 0) {
			t.Fatalf("text %q passed the checks", q.Text)
		}
		back, err := url.ParseQuery(p.query(p.Page))
		if err != nil {
			t.Fatal(err)
		}
		p2, q2, errs2 := parseAlertParams(back)
		if len(errs2) > 0 || p2 != p || q2 != q {
			t.Fatalf("round trip of %q: %+v %v, want %+v", p.query(p.Page), p2, errs2, p)
		}
	})
}
