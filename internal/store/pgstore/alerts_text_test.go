package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/store"
)

// TestAlertTextIndex checks that the alert text search reads the trigram
// index (migration 0007), and that without the index (pg_trgm could not be
// created) Open logs it and the search still answers, by scanning.
func TestAlertTextIndex(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var as []store.AlertRecord
	for i := range 3000 {
		as = append(as, store.AlertRecord{ID: fmt.Sprintf("a%04d", i), Engine: "sigma", RuleID: fmt.Sprintf("rule-%d", i%50), Level: "high",
			Source: "host.evtx", JSON: fmt.Appendf(nil, `{"rule_title":"Alert %d","event":{"CommandLine":"powershell -enc %08x"}}`, i, i*7919)})
	}
	if _, err := db.PutAlerts(ctx, as); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE alerts`); err != nil {
		t.Fatal(err)
	}
	search := func(db *DB, text string) []store.TriagedAlert {
		t.Helper()
		got, err := db.QueryAlerts(ctx, store.AlertQuery{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := fmt.Sprintf("-enc %08x", 1234*7919)
	if got := search(db, want); len(got) != 1 || got[0].ID != "a1234" {
		t.Fatalf("search %q = %d alerts, want a1234", want, len(got))
	}
	var plan strings.Builder
	rows, err := db.pool.Query(ctx, `EXPLAIN SELECT seq FROM alerts a WHERE `+alertTextSQL+` ILIKE '%zzqx-no-such%' ORDER BY seq DESC LIMIT 51`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	rows.Close()
	if !strings.Contains(plan.String(), "alerts_text_trgm") {
		t.Errorf("a search that matches nothing does not read the trigram index:\n%s", plan.String())
	}

	// Without the index: a warning at Open, and the same answers.
	if _, err := db.pool.Exec(ctx, `DROP INDEX alerts_text_trgm`); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	db2, err := Open(ctx, dsn, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "reads every alert") {
		t.Errorf("Open without the text index logged %q, want a warning that the search reads every alert", logs.String())
	}
	if got := search(db2, want); len(got) != 1 || got[0].ID != "a1234" {
		t.Errorf("search %q without the index = %d alerts, want a1234", want, len(got))
	}
	logs.Reset()
	if _, err := db.pool.Exec(ctx, `CREATE INDEX alerts_text_trgm ON alerts USING gin (alert_search_text(rule_id, source, json) public.gin_trgm_ops)`); err != nil {
		t.Fatal(err)
	}
	db4, err := Open(ctx, dsn, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	db4.Close()
	if logs.Len() != 0 {
		t.Errorf("Open with the text index logged %q, want nothing", logs.String())
	}
}
