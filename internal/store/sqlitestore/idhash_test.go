package sqlitestore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

func malware(id string, modified time.Time) stix.Object {
	ts := modified.UTC().Format("2006-01-02T15:04:05.000Z")
	raw := fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":%q,"created":"2020-01-01T00:00:00.000Z","modified":%q,"name":"m","is_family":true}`, id, ts)
	created, _ := time.Parse(time.RFC3339, "2020-01-01T00:00:00Z")
	return stix.Object{ID: id, Type: "malware", SpecVersion: "2.1", Created: created, Modified: modified, Raw: []byte(raw)}
}

// TestIDHashCollision forges two ids that share a key of object_ids and checks
// that they stay distinct objects for Put, Query and Delete.
func TestIDHashCollision(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	c, err := db.CreateCollection(ctx, store.Collection{Title: "c"})
	if err != nil {
		t.Fatal(err)
	}
	const a, b = "malware--11111111-1111-4111-8111-111111111111", "malware--22222222-2222-4222-8222-222222222222"
	t1 := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.Put(ctx, c.ID, []stix.Object{malware(a, t1)}); err != nil {
		t.Fatal(err)
	}
	// Make a's rows share b's key, as a collision would.
	if _, err := db.w.ExecContext(ctx, `UPDATE object_ids SET h = ? WHERE date_added IN (SELECT date_added FROM objects WHERE id = ?)`, keyHash(b), a); err != nil {
		t.Fatal(err)
	}
	res, err := db.Put(ctx, c.ID, []stix.Object{malware(b, t1), malware(b, t1.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Added || !res[1].Added {
		t.Fatalf("Put of b = %+v, want both versions added (a must not shadow b)", res)
	}
	page, err := db.Query(ctx, c.ID, store.Filter{IDs: []string{b}, Versions: store.VersionMatch{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 {
		t.Fatalf("Query(b) = %d records, want 2", len(page.Records))
	}
	for _, r := range page.Records {
		if r.Object.ID != b {
			t.Errorf("Query(b) returned %s", r.Object.ID)
		}
	}
	// The newer version of b must not have cleared a's latest flag.
	all, err := db.Query(ctx, c.ID, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, r := range all.Records {
		got[r.Object.ID] = r.Version
	}
	if len(all.Records) != 2 || !got[a].Equal(t1) || !got[b].Equal(t1.Add(time.Hour)) {
		t.Fatalf("latest versions = %v, want a at %v and b at %v", got, t1, t1.Add(time.Hour))
	}
	if n, err := db.Delete(ctx, c.ID, b, store.VersionMatch{}); err != nil || n != 2 {
		t.Fatalf("Delete(b) = %d, %v; want 2", n, err)
	}
	var left int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM objects WHERE id = ?`, a).Scan(&left); err != nil || left != 1 {
		t.Fatalf("after deleting b, a has %d rows (%v), want 1", left, err)
	}
	// a's key, shared with b, must have stayed.
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM object_ids WHERE h = ?`, keyHash(b)).Scan(&left); err != nil || left != 1 {
		t.Fatalf("after deleting b, %d keys are left (%v), want a's", left, err)
	}
}

// TestCloseTwice checks that a second Close is harmless.
func TestCloseTwice(t *testing.T) {
	db, err := Open(context.Background(), t.TempDir()+"/x.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_ = db.Close() // must not panic
}
