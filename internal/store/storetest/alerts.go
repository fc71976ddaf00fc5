package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

// testAlerts checks the optional store.Alerts capability: alerts are stored
// once per id, listed newest first, filtered and paged.
func testAlerts(t *testing.T, b store.Backend) {
	as, ok := b.(store.Alerts)
	if !ok {
		t.Skip("backend does not keep alerts (store.Alerts)")
	}
	ctx := context.Background()
	var batch []store.AlertRecord
	for i := range 10 {
		level := "low"
		if i%2 == 0 {
			level = "high"
		}
		batch = append(batch, store.AlertRecord{
			ID: fmt.Sprintf("a%02d", i), Time: base.Add(time.Duration(i) * time.Second),
			Engine: "sigma", RuleID: fmt.Sprintf("rule-%d", i%3), Level: level,
			Source: "f.evtx", JSON: []byte(fmt.Sprintf(`{"n":%d}`, i)),
		})
	}
	n, err := as.PutAlerts(ctx, batch)
	if err != nil || n != 10 {
		t.Fatalf("PutAlerts(10 new) = %d, %v; want 10, nil", n, err)
	}
	// The same alerts again, plus one new: only the new one is stored.
	again := append(batch[:3:3], store.AlertRecord{ID: "new", Engine: "ioc", RuleID: "indicator--1", Level: "medium", JSON: []byte(`{}`)})
	n, err = as.PutAlerts(ctx, again)
	if err != nil || n != 1 {
		t.Fatalf("PutAlerts(3 old, 1 new) = %d, %v; want 1, nil", n, err)
	}
	all, err := as.Alerts(ctx, store.AlertFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 11 || all[0].ID != "new" || all[10].ID != "a00" {
		t.Fatalf("Alerts() gave %d, first %q last %q; want 11 newest first", len(all), all[0].ID, all[len(all)-1].ID)
	}
	if string(all[10].JSON) != `{"n":0}` || !all[10].Time.Equal(base) {
		t.Errorf("alert a00 read back as %s at %v", all[10].JSON, all[10].Time)
	}
	high, _ := as.Alerts(ctx, store.AlertFilter{Level: "high"})
	if len(high) != 5 {
		t.Errorf("Level=high gave %d, want 5", len(high))
	}
	r1, _ := as.Alerts(ctx, store.AlertFilter{RuleID: "rule-1", Engine: "sigma"})
	if len(r1) != 3 {
		t.Errorf("RuleID=rule-1 gave %d, want 3", len(r1))
	}
	// Paging backwards by Seq sees each alert once.
	seen := map[string]bool{}
	var before int64
	for {
		page, err := as.Alerts(ctx, store.AlertFilter{Before: before, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			if seen[a.ID] {
				t.Fatalf("alert %s seen twice while paging", a.ID)
			}
			seen[a.ID] = true
		}
		before = page[len(page)-1].Seq
	}
	if len(seen) != 11 {
		t.Errorf("paging saw %d alerts, want 11", len(seen))
	}
	if _, err := as.PutAlerts(ctx, []store.AlertRecord{{JSON: []byte(`{}`)}}); err == nil {
		t.Error("PutAlerts accepted an alert without id")
	}
}
