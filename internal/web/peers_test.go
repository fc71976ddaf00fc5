package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/federation"
)

// TestPeersBacklog: the Peers page shows each peer's backlog by priority
// class, withheld apart, with "≥" when the count was capped, to every role.
func TestPeersBacklog(t *testing.T) {
	f := newFixture(t)
	states := []federation.State{{Peer: "north", Link: federation.LinkConnected}, {Peer: "south", Link: federation.LinkCut}}
	backlogs := []federation.Backlog{
		{Peer: "north", ByClass: map[string]int{federation.ClassMarking: 1, federation.ClassRevocation: 2, federation.ClassUrgent: 3, federation.ClassNormal: 4}, Withheld: 5},
		{Peer: "south", ByClass: map[string]int{federation.ClassMarking: 0, federation.ClassRevocation: 7, federation.ClassUrgent: 0, federation.ClassNormal: 1993}, Capped: true, Limit: 2000},
	}
	srv, err := New(Options{Store: f.db, NodeName: "hq",
		Peers:   func() []federation.State { return states },
		Backlog: func(context.Context) []federation.Backlog { return backlogs }})
	if err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(srv)
	defer f.ts.Close()
	rows := regexp.MustCompile(`(?s)<tr data-peer="(\w+)"><td>\w+</td>((?:<td>[^<]*</td>)+)<td data-field="backlog_total">([^<]*)</td><td>([^<]*)</td>`)
	cell := regexp.MustCompile(`<td>([^<]*)</td>`)
	want := map[string]string{
		"north": "1 2 3 4 | 10 | 5",
		"south": "≥ 0 ≥ 7 ≥ 0 ≥ 1993 | ≥ 2000 | ≥ 0",
	}
	for _, role := range []string{"ada", "ana", "vic"} {
		status, body, _ := f.login(role).get("/peers")
		if status != http.StatusOK {
			t.Fatalf("%s: GET /peers = %d", role, status)
		}
		table := body[strings.Index(body, `id="backlog-table"`):]
		header := "<th>marking</th><th>revocation</th><th>urgent</th><th>normal</th>"
		if !strings.Contains(table, header) {
			t.Errorf("%s: the backlog table lacks the classes in push order %s", role, header)
		}
		got := map[string]string{}
		for _, m := range rows.FindAllStringSubmatch(table, -1) {
			var cls []string
			for _, c := range cell.FindAllStringSubmatch(m[2], -1) {
				cls = append(cls, c[1])
			}
			got[m[1]] = strings.Join(cls, " ") + " | " + m[3] + " | " + m[4]
		}
		for p, w := range want {
			if strings.ReplaceAll(got[p], "&ge;", "≥") != w {
				t.Errorf("%s: backlog row of %s = %q, want %q", role, p, got[p], w)
			}
		}
	}
}
