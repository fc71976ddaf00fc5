package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/store"
)

// testUsers checks the optional store.Users capability: console accounts
// and sessions.
func testUsers(t *testing.T, b store.Backend) {
	us, ok := b.(store.Users)
	if !ok {
		t.Skip("backend does not keep console users (store.Users)")
	}
	ctx := context.Background()
	alice := store.User{Name: "alice", Role: store.RoleAnalyst, PasswordHash: "$argon2id$x", Created: base}
	if err := us.CreateUser(ctx, alice); err != nil {
		t.Fatalf("CreateUser(alice): %v", err)
	}
	if err := us.CreateUser(ctx, store.User{Name: "alice", Role: store.RoleViewer, PasswordHash: "h"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser(alice again) = %v, want ErrConflict", err)
	}
	for _, bad := range []store.User{{Name: "", PasswordHash: "h"}, {Name: "bob"}} {
		if err := us.CreateUser(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateUser(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	if err := us.CreateUser(ctx, store.User{Name: "bob", Role: store.RoleViewer, PasswordHash: "h2"}); err != nil {
		t.Fatal(err)
	}
	got, err := us.User(ctx, "alice")
	if err != nil {
		t.Fatalf("User(alice): %v", err)
	}
	if diff := cmp.Diff(alice, got); diff != "" {
		t.Errorf("User(alice) (-want +got):\n%s", diff)
	}
	if _, err := us.User(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User(carol) = %v, want ErrNotFound", err)
	}
	all, err := us.Users(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "alice" || all[1].Name != "bob" {
		t.Errorf("Users() = %v, %v; want alice, bob", all, err)
	}

	s := store.Session{IDHash: []byte{1, 2, 3}, User: "alice", CSRF: "tok", Created: base, Expires: base.Add(time.Hour)}
	if err := us.CreateSession(ctx, s); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	gs, err := us.Session(ctx, []byte{1, 2, 3})
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if diff := cmp.Diff(s, gs); diff != "" {
		t.Errorf("Session (-want +got):\n%s", diff)
	}
	if _, err := us.Session(ctx, []byte{9}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session(unknown) = %v, want ErrNotFound", err)
	}
	if err := us.CreateSession(ctx, store.Session{IDHash: []byte{4}, User: "nobody", Expires: base}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSession(unknown user) = %v, want ErrNotFound", err)
	}
	if err := us.CreateSession(ctx, store.Session{User: "alice"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("CreateSession(no id) = %v, want ErrInvalid", err)
	}
	if err := us.DeleteSession(ctx, []byte{1, 2, 3}); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if _, err := us.Session(ctx, []byte{1, 2, 3}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session after delete = %v, want ErrNotFound", err)
	}
	if err := us.DeleteSession(ctx, []byte{1, 2, 3}); err != nil {
		t.Errorf("DeleteSession(gone) = %v, want nil", err)
	}

	ua, ok := b.(store.UserAdmin)
	if !ok {
		return
	}
	// A new password ends the user's sessions, not the others'.
	for i, u := range []string{"alice", "alice", "bob"} {
		if err := us.CreateSession(ctx, store.Session{IDHash: []byte{7, byte(i)}, User: u, CSRF: "t", Created: base, Expires: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ua.SetPassword(ctx, "alice", "$argon2id$new"); err != nil {
		t.Fatalf("SetPassword(alice): %v", err)
	}
	if got, err := us.User(ctx, "alice"); err != nil || got.PasswordHash != "$argon2id$new" || got.Role != alice.Role {
		t.Errorf("User(alice) after SetPassword = %+v, %v; want the new hash, the same role", got, err)
	}
	for i, want := range []error{store.ErrNotFound, store.ErrNotFound, nil} {
		if _, err := us.Session(ctx, []byte{7, byte(i)}); !errors.Is(err, want) {
			t.Errorf("session %d after SetPassword(alice) = %v, want %v", i, err, want)
		}
	}
	if got, _ := us.User(ctx, "bob"); got.PasswordHash != "h2" {
		t.Errorf("SetPassword(alice) changed bob's hash to %q", got.PasswordHash)
	}
	if err := ua.SetPassword(ctx, "carol", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword(carol) = %v, want ErrNotFound", err)
	}
	if err := ua.SetPassword(ctx, "bob", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("SetPassword(bob, empty) = %v, want ErrInvalid", err)
	}
}

// testTriage checks the optional store.Triages capability: verdicts on
// alerts, the console's alert queries and the histogram.
func testTriage(t *testing.T, b store.Backend) {
	tr, ok := b.(store.Triages)
	as, ok2 := b.(store.Alerts)
	if !ok || !ok2 {
		t.Skip("backend does not keep triage (store.Triages and store.Alerts)")
	}
	ctx := context.Background()
	levels := []string{"low", "critical", "medium", "high", "informational", "high"}
	var batch []store.AlertRecord
	for i, l := range levels {
		batch = append(batch, store.AlertRecord{
			ID: fmt.Sprintf("t%d", i), Time: base.Add(time.Duration(i) * time.Minute),
			Engine: []string{"sigma", "ioc"}[i%2], RuleID: fmt.Sprintf("rule-%d", i%2), Level: l,
			Source: fmt.Sprintf("host%d.evtx", i), JSON: []byte(fmt.Sprintf(`{"rule_title":"Title 100%% number %d"}`, i)),
		})
	}
	if _, err := as.PutAlerts(ctx, batch); err != nil {
		t.Fatal(err)
	}
	ids := func(as []store.TriagedAlert) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	// A batch with an unknown alert or a bad verdict stores nothing.
	if err := tr.SetTriage(ctx, []store.Triage{{AlertID: "t0", Verdict: store.VerdictTruePositive}, {AlertID: "nope"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetTriage(unknown alert) = %v, want ErrNotFound", err)
	}
	if err := tr.SetTriage(ctx, []store.Triage{{AlertID: "t0", Verdict: "maybe"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("SetTriage(bad verdict) = %v, want ErrInvalid", err)
	}
	if a, err := tr.Alert(ctx, "t0"); err != nil || a.Triage != (store.Triage{}) {
		t.Errorf("Alert(t0) after refused triage = %+v, %v; want untriaged", a.Triage, err)
	}
	at := base.Add(time.Hour)
	if err := tr.SetTriage(ctx, []store.Triage{
		{AlertID: "t0", Verdict: store.VerdictTruePositive, Assignee: "alice", Note: "seen", By: "alice", Time: at},
		{AlertID: "t1", Verdict: store.VerdictFalsePositive, By: "bob", Time: at},
	}); err != nil {
		t.Fatalf("SetTriage: %v", err)
	}
	// Replacing keeps one current state.
	if err := tr.SetTriage(ctx, []store.Triage{{AlertID: "t1", Assignee: "carol", By: "carol", Time: at}}); err != nil {
		t.Fatal(err)
	}
	a, err := tr.Alert(ctx, "t0")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Triage{AlertID: "t0", Assignee: "alice", Verdict: store.VerdictTruePositive, Note: "seen", By: "alice", Time: at}
	if diff := cmp.Diff(want, a.Triage); diff != "" {
		t.Errorf("Alert(t0).Triage (-want +got):\n%s", diff)
	}
	if a.Level != "low" || a.RuleID != "rule-0" || !a.Time.Equal(base) {
		t.Errorf("Alert(t0) = %+v", a.AlertRecord)
	}
	if _, err := tr.Alert(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Alert(nope) = %v, want ErrNotFound", err)
	}
	all, err := tr.QueryAlerts(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seqOf := map[string]int64{}
	for _, a := range all {
		seqOf[a.ID] = a.Seq
	}
	tests := []struct {
		q    store.AlertQuery
		want []string
	}{
		{store.AlertQuery{}, []string{"t5", "t4", "t3", "t2", "t1", "t0"}},
		{store.AlertQuery{Sort: "oldest", Limit: 2}, []string{"t0", "t1"}},
		{store.AlertQuery{Sort: "oldest", Limit: 2, After: &store.AlertCursor{Seq: seqOf["t1"]}}, []string{"t2", "t3"}},
		{store.AlertQuery{Sort: "oldest", Limit: 2, Before: &store.AlertCursor{Seq: seqOf["t4"]}}, []string{"t2", "t3"}},
		{store.AlertQuery{Limit: 2, After: &store.AlertCursor{Seq: seqOf["t4"]}}, []string{"t3", "t2"}},
		{store.AlertQuery{Limit: 2, Before: &store.AlertCursor{Seq: seqOf["t2"]}}, []string{"t4", "t3"}},
		{store.AlertQuery{Sort: "level", Limit: 2, After: &store.AlertCursor{Rank: 4, Seq: seqOf["t5"]}}, []string{"t3", "t2"}},
		{store.AlertQuery{Sort: "level", Limit: 2, Before: &store.AlertCursor{Rank: 3, Seq: seqOf["t2"]}}, []string{"t5", "t3"}},
		{store.AlertQuery{Sort: "level"}, []string{"t1", "t5", "t3", "t2", "t0", "t4"}},
		{store.AlertQuery{Level: "high"}, []string{"t5", "t3"}},
		{store.AlertQuery{Engine: "ioc", RuleID: "rule-1"}, []string{"t5", "t3", "t1"}},
		{store.AlertQuery{Verdict: store.VerdictTruePositive}, []string{"t0"}},
		{store.AlertQuery{Verdict: "untriaged"}, []string{"t5", "t4", "t3", "t2", "t1"}},
		{store.AlertQuery{Text: "HOST2"}, []string{"t2"}},
		{store.AlertQuery{Text: "number 4"}, []string{"t4"}},
		{store.AlertQuery{Text: "100%"}, []string{"t5", "t4", "t3", "t2", "t1", "t0"}},
		{store.AlertQuery{Text: "1_0"}, nil}, // _ is not a wildcard
	}
	for _, tc := range tests {
		got, err := tr.QueryAlerts(ctx, tc.q)
		if err != nil {
			t.Errorf("QueryAlerts(%+v): %v", tc.q, err)
			continue
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("QueryAlerts(%+v) (-want +got):\n%s", tc.q, diff)
		}
	}
	for _, bad := range []store.AlertQuery{{Sort: "random"}, {Verdict: "maybe"},
		{After: &store.AlertCursor{Seq: 1}, Before: &store.AlertCursor{Seq: 9}}} {
		if _, err := tr.QueryAlerts(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("QueryAlerts(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	hist, err := tr.AlertHistogram(ctx, base, 2*time.Minute, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantHist := []store.AlertBucket{
		{Start: base, Level: "critical", Count: 1}, {Start: base, Level: "low", Count: 1},
		{Start: base.Add(2 * time.Minute), Level: "high", Count: 1}, {Start: base.Add(2 * time.Minute), Level: "medium", Count: 1},
	}
	if diff := cmp.Diff(wantHist, hist); diff != "" {
		t.Errorf("AlertHistogram (-want +got):\n%s", diff)
	}
	if _, err := tr.AlertHistogram(ctx, base, 0, 1); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AlertHistogram(step 0) = %v, want ErrInvalid", err)
	}
}

// testDecisionLog checks the optional store.DecisionLog capability.
func testDecisionLog(t *testing.T, b store.Backend) {
	dl, ok := b.(store.DecisionLog)
	f, ok2 := b.(store.Federation)
	if !ok || !ok2 {
		t.Skip("backend does not list decisions by peer (store.DecisionLog)")
	}
	ctx := context.Background()
	var ds []store.FedDecision
	for i := range 5 {
		ds = append(ds, store.FedDecision{ObjectID: fmt.Sprintf("indicator--%d", i), Version: base, Peer: []string{"p1", "p2"}[i%2],
			Action: "allow", Rule: "tlp", Reason: fmt.Sprint("r", i), Time: base.Add(time.Duration(i) * time.Second)})
	}
	if err := f.LogDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	got, err := dl.RecentDecisions(ctx, "p1", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Reason != "r4" || got[1].Reason != "r2" {
		t.Fatalf("RecentDecisions(p1, limit 2) = %+v; want r4, r2", got)
	}
	if !got[0].Time.Equal(base.Add(4*time.Second)) || got[0].Peer != "p1" || got[0].ObjectID != "indicator--4" {
		t.Errorf("RecentDecisions(p1)[0] = %+v", got[0])
	}
	next, err := dl.RecentDecisions(ctx, "p1", got[1].Seq, 10)
	if err != nil || len(next) != 1 || next[0].Reason != "r0" {
		t.Errorf("RecentDecisions(p1, before) = %+v, %v; want r0", next, err)
	}
	all, err := dl.RecentDecisions(ctx, "", 0, 0)
	if err != nil || len(all) != 5 {
		t.Errorf("RecentDecisions(all) = %d, %v; want 5", len(all), err)
	}
}

func alertIDs(as []store.TriagedAlert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// testAlertTextSearch checks the semantics of AlertQuery.Text, which an
// index serves in the SQL stores: a case-insensitive substring of the rule
// id, the source or the JSON; LIKE wildcards and the index's own query
// syntax are literal; a text shorter than store.MinIndexedText is matched
// against the newest store.ShortTextAlerts alerts only.
func testAlertTextSearch(t *testing.T, b store.Backend) {
	tr, ok := b.(store.Triages)
	as, ok2 := b.(store.Alerts)
	if !ok || !ok2 {
		t.Skip("backend does not keep triage (store.Triages and store.Alerts)")
	}
	ctx := context.Background()
	// The oldest alerts, which the short-text bound leaves out once
	// store.ShortTextAlerts newer ones are stored.
	var batch []store.AlertRecord
	for i, js := range []string{
		`{"rule_title":"Encoded PowerShell","event":{"CommandLine":"powershell.exe -enc SQBFAFgA"}}`,
		`{"rule_title":"Discount 100% off","event":{"Msg":"50% done, a_b and a\\b"}}`,
		`{"rule_title":"Quoted","event":{"Msg":"he said \"hi\" AND NEAR(x y) OR -z*"}}`,
		`{"rule_title":"Übel über Ärger","event":{"Msg":"ﬁle – 東京"}}`,
		`{"rule_title":"Plain","event":{"Msg":"nothing special qx"}}`,
	} {
		batch = append(batch, store.AlertRecord{ID: fmt.Sprintf("s%d", i), Time: base.Add(time.Duration(i) * time.Second),
			Engine: "sigma", RuleID: fmt.Sprintf("Rule-%c", 'A'+i), Level: "high", Source: fmt.Sprintf("HOST-%d/Security.evtx", i), JSON: []byte(js)})
	}
	if _, err := as.PutAlerts(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Stored twice (deduplicated by id): still found once.
	if n, err := as.PutAlerts(ctx, batch[:1]); err != nil || n != 0 {
		t.Fatalf("PutAlerts(again) = %d, %v; want 0 new", n, err)
	}
	tests := []struct {
		text string
		want []string
	}{
		{"powershell", []string{"s0"}},
		{"POWERSHELL.EXE -ENC", []string{"s0"}},
		{"sqbfafga", []string{"s0"}},
		{"rule-c", []string{"s2"}},          // the rule id
		{"host-3/security", []string{"s3"}}, // the source
		{"security.evtx", []string{"s4", "s3", "s2", "s1", "s0"}},
		{"100%", []string{"s1"}}, // % is literal
		{"0% d", []string{"s1"}},
		{"1%0", nil},
		{"a_b", []string{"s1"}}, // _ is literal
		{"a_c", nil},
		{"_b ", []string{"s1"}},
		{`a\\b`, []string{"s1"}},          // the JSON text: a\b is escaped there
		{`\"hi\"`, []string{"s2"}},        // quotes as the JSON holds them
		{`"hi\" AND`, []string{"s2"}},     // a quote is literal
		{"AND NEAR(x y)", []string{"s2"}}, // the index's query syntax is literal
		{"OR -z*", []string{"s2"}},
		{"Übel", []string{"s3"}},
		{"東京", []string{"s3"}}, // two characters: a short query, still found among the newest
		{"zzqx-no-such-text", nil},
		{"Rule-AHOST", nil},    // no match across two fields
		{"qx", []string{"s4"}}, // short
		{"%", []string{"s1"}},  // short, and literal
		{"a_", []string{"s1"}},
	}
	for _, tc := range tests {
		for _, sort := range []string{"", "level"} {
			q := store.AlertQuery{Text: tc.text, Sort: sort}
			got, err := tr.QueryAlerts(ctx, q)
			if err != nil {
				t.Errorf("QueryAlerts(%+v): %v", q, err)
				continue
			}
			if diff := cmp.Diff(tc.want, alertIDs(got)); diff != "" {
				t.Errorf("QueryAlerts(%+v) (-want +got):\n%s", q, diff)
			}
		}
	}
	if got := (store.AlertQuery{Text: "qx"}).TextBounded(); !got {
		t.Errorf("TextBounded(qx) = false, want true")
	}
	if got := (store.AlertQuery{Text: "東京都"}).TextBounded(); got {
		t.Errorf("TextBounded(東京都) = true, want false (three characters)")
	}

	// store.ShortTextAlerts newer alerts: a short text no longer reaches the
	// oldest ones, a text the index serves still does.
	batch = batch[:0]
	for i := range store.ShortTextAlerts {
		batch = append(batch, store.AlertRecord{ID: fmt.Sprintf("n%05d", i), Time: base.Add(time.Hour + time.Duration(i)*time.Millisecond),
			Engine: "ioc", RuleID: "rule-n", Level: "low", Source: "net", JSON: []byte(`{"rule_title":"newer"}`)})
	}
	batch[len(batch)-1].JSON = []byte(`{"rule_title":"newest qx"}`)
	if _, err := as.PutAlerts(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"qx", []string{fmt.Sprintf("n%05d", store.ShortTextAlerts-1)}},
		{"%", nil},
		{"powershell", []string{"s0"}},
		{"100%", []string{"s1"}},
		{"st qx", []string{fmt.Sprintf("n%05d", store.ShortTextAlerts-1)}},
	} {
		got, err := tr.QueryAlerts(ctx, store.AlertQuery{Text: tc.text})
		if err != nil {
			t.Errorf("QueryAlerts(%q): %v", tc.text, err)
			continue
		}
		if diff := cmp.Diff(tc.want, alertIDs(got)); diff != "" {
			t.Errorf("QueryAlerts(%q) after %d newer alerts (-want +got):\n%s", tc.text, store.ShortTextAlerts, diff)
		}
	}
}

// testAlertKeysetPaging pages through each sort order by cursor while
// alerts are added: every alert that was there is seen exactly once and in
// order, and paging back returns the pages seen.
func testAlertKeysetPaging(t *testing.T, b store.Backend) {
	tr, ok := b.(store.Triages)
	as, ok2 := b.(store.Alerts)
	if !ok || !ok2 {
		t.Skip("backend does not keep triage (store.Triages and store.Alerts)")
	}
	ctx := context.Background()
	levels := []string{"low", "critical", "medium", "high", "informational", "high", "bogus"}
	n := 0
	add := func(k int) {
		t.Helper()
		var batch []store.AlertRecord
		for range k {
			batch = append(batch, store.AlertRecord{ID: fmt.Sprintf("k%03d", n), Time: base.Add(time.Duration(n) * time.Second),
				Engine: "sigma", RuleID: "rule-k", Level: levels[n*5%len(levels)], Source: "src", JSON: fmt.Appendf(nil, `{"rule_title":"paged alert %d"}`, n)})
			n++
		}
		if _, err := as.PutAlerts(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	add(40)
	for _, sort := range []string{"", "oldest", "level"} {
		for _, text := range []string{"", "paged alert"} {
			base := store.AlertQuery{Sort: sort, Text: text, Limit: 1000}
			before, err := tr.QueryAlerts(ctx, base)
			if err != nil {
				t.Fatal(err)
			}
			if len(before) != n {
				t.Fatalf("QueryAlerts(%+v) = %d alerts, want %d", base, len(before), n)
			}
			// Forward, 7 at a time, adding 3 alerts after each of the first pages.
			var seen []store.TriagedAlert
			var pages [][]store.TriagedAlert
			q := base
			q.Limit = 7
			for range 100 {
				page, err := tr.QueryAlerts(ctx, q)
				if err != nil {
					t.Fatalf("QueryAlerts(%+v): %v", q, err)
				}
				if len(page) == 0 {
					break
				}
				pages = append(pages, page)
				seen = append(seen, page...)
				c := store.CursorOf(page[len(page)-1].AlertRecord)
				q.After = &c
				if len(pages) <= 3 {
					add(3)
				}
			}
			count := map[string]int{}
			for _, a := range seen {
				count[a.ID]++
			}
			for _, a := range before {
				if count[a.ID] != 1 {
					t.Errorf("sort %q text %q: alert %s seen %d times while paging, want once", sort, text, a.ID, count[a.ID])
				}
			}
			for i := 1; i < len(seen); i++ {
				if !inOrder(sort, seen[i-1], seen[i]) {
					t.Errorf("sort %q text %q: %s (seq %d, %s) before %s (seq %d, %s)", sort, text,
						seen[i-1].ID, seen[i-1].Seq, seen[i-1].Level, seen[i].ID, seen[i].Seq, seen[i].Level)
				}
			}
			if sort == "" && len(seen) != len(before) {
				t.Errorf("newest first: paged %d alerts, want the %d there when paging began (newer ones come before it)", len(seen), len(before))
			}
			if sort == "oldest" && len(seen) <= len(before) {
				t.Errorf("oldest first: paged %d alerts, want more than %d (the ones added while paging come last)", len(seen), len(before))
			}
			// Back from the last page, with the pages' own cursors: the
			// same pages (none were added before them in this order... except
			// newest first, where alerts added meanwhile come first, so it
			// is checked up to the first page).
			for i := len(pages) - 1; i > 0; i-- {
				q := base
				q.Limit = len(pages[i-1])
				c := store.CursorOf(pages[i][0].AlertRecord)
				q.Before = &c
				got, err := tr.QueryAlerts(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				want := pages[i-1]
				if sort == "level" {
					// Alerts added after that page was read may sort into
					// it; compare with the order as it is now.
					break
				}
				if diff := cmp.Diff(alertIDs(want), alertIDs(got)); diff != "" {
					t.Errorf("sort %q text %q: the page before page %d (-want +got):\n%s", sort, text, i+1, diff)
				}
			}
		}
	}
	// Before and After against the current order, level sort included,
	// with and without a text (which an index serves).
	for _, sort := range []string{"", "oldest", "level"} {
		for _, text := range []string{"", "paged alert"} {
			all, err := tr.QueryAlerts(ctx, store.AlertQuery{Sort: sort, Text: text, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range []int{0, 1, 10, len(all) / 2, len(all) - 2, len(all) - 1} {
				c := store.CursorOf(all[i].AlertRecord)
				after, err := tr.QueryAlerts(ctx, store.AlertQuery{Sort: sort, Text: text, Limit: 5, After: &c})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(alertIDs(all[i+1:min(i+6, len(all))]), alertIDs(after)); diff != "" {
					t.Errorf("sort %q text %q: 5 after #%d (-want +got):\n%s", sort, text, i, diff)
				}
				beforeC, err := tr.QueryAlerts(ctx, store.AlertQuery{Sort: sort, Text: text, Limit: 5, Before: &c})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(alertIDs(all[max(i-5, 0):i]), alertIDs(beforeC)); diff != "" {
					t.Errorf("sort %q text %q: 5 before #%d (-want +got):\n%s", sort, text, i, diff)
				}
			}
			// A level filter with the level sort reads that level only.
			for _, l := range []string{"high", "bogus"} {
				got, err := tr.QueryAlerts(ctx, store.AlertQuery{Sort: sort, Text: text, Level: l, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, a := range all {
					if a.Level == l {
						want = append(want, a.ID)
					}
				}
				if diff := cmp.Diff(want, alertIDs(got)); diff != "" {
					t.Errorf("sort %q text %q level %s (-want +got):\n%s", sort, text, l, diff)
				}
			}
		}
	}
}

// inOrder reports whether a may come before b in sort order.
func inOrder(sort string, a, b store.TriagedAlert) bool {
	switch sort {
	case "oldest":
		return a.Seq < b.Seq
	case "level":
		ra, rb := store.LevelRank(a.Level), store.LevelRank(b.Level)
		return ra > rb || ra == rb && a.Seq > b.Seq
	}
	return a.Seq > b.Seq
}
