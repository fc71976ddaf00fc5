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
	tests := []struct {
		q    store.AlertQuery
		want []string
	}{
		{store.AlertQuery{}, []string{"t5", "t4", "t3", "t2", "t1", "t0"}},
		{store.AlertQuery{Sort: "oldest", Limit: 2}, []string{"t0", "t1"}},
		{store.AlertQuery{Sort: "oldest", Limit: 2, Offset: 2}, []string{"t2", "t3"}},
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
	for _, bad := range []store.AlertQuery{{Sort: "random"}, {Verdict: "maybe"}} {
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
