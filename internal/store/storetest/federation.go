package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shieldwall/shieldwall/internal/store"
)

// RunFederation runs the conformance checks of the optional
// store.Federation capability; each subtest skips when the backend lacks
// it. open must return a new, empty backend each time.
func RunFederation(t *testing.T, open func(t *testing.T) store.Backend) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f store.Federation)
	}{
		{"Cursors", testFedCursors},
		{"Origins", testFedOrigins},
		{"Bundles", testFedBundles},
		{"Decisions", testFedDecisions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			f, ok := b.(store.Federation)
			if !ok {
				t.Skip("backend does not keep federation state (store.Federation)")
			}
			tc.fn(t, f)
		})
	}
}

func testFedCursors(t *testing.T, f store.Federation) {
	ctx := context.Background()
	if v, err := f.Cursor(ctx, "hub", "default", store.DirPull); err != nil || v != "" {
		t.Fatalf("Cursor(unset) = %q, %v; want \"\", nil", v, err)
	}
	for _, v := range []string{"a", "b"} {
		if err := f.SetCursor(ctx, "hub", "default", store.DirPull, v); err != nil {
			t.Fatalf("SetCursor(%q): %v", v, err)
		}
	}
	if err := f.SetCursor(ctx, "hub", "default", store.DirPush, "p"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ peer, coll, dir, want string }{
		{"hub", "default", store.DirPull, "b"},
		{"hub", "default", store.DirPush, "p"},
		{"fra", "default", store.DirPull, ""},
		{"hub", "other", store.DirPull, ""},
	} {
		if v, err := f.Cursor(ctx, c.peer, c.coll, c.dir); err != nil || v != c.want {
			t.Errorf("Cursor(%s, %s, %s) = %q, %v; want %q", c.peer, c.coll, c.dir, v, err, c.want)
		}
	}
}

func testFedOrigins(t *testing.T, f store.Federation) {
	ctx := context.Background()
	v1, v2 := at(1), at(2)
	for _, o := range []struct {
		id   string
		v    time.Time
		peer string
	}{{"indicator--1", v1, "hub"}, {"indicator--1", v1, "fra"}, {"indicator--1", v1, "hub"}, {"indicator--1", v2, "deu"}} {
		if err := f.AddOrigin(ctx, o.id, o.v, o.peer); err != nil {
			t.Fatalf("AddOrigin(%s, %v, %s): %v", o.id, o.v, o.peer, err)
		}
	}
	for _, c := range []struct {
		v    time.Time
		want []string
	}{{v1, []string{"hub", "fra"}}, {v2, []string{"deu"}}, {at(3), nil}} {
		got, err := f.Origins(ctx, "indicator--1", c.v)
		if err != nil || !cmp.Equal(got, c.want) {
			t.Errorf("Origins(indicator--1, %v) = %v, %v; want %v", c.v, got, err, c.want)
		}
	}
}

func testFedBundles(t *testing.T, f store.Federation) {
	ctx := context.Background()
	if seen, err := f.BundleOpened(ctx, "b1"); err != nil || seen {
		t.Fatalf("BundleOpened(new) = %v, %v; want false, nil", seen, err)
	}
	if err := f.RecordBundle(ctx, "b1", "hub", base); err != nil {
		t.Fatalf("RecordBundle(b1): %v", err)
	}
	if seen, err := f.BundleOpened(ctx, "b1"); err != nil || !seen {
		t.Fatalf("BundleOpened(b1) = %v, %v; want true, nil", seen, err)
	}
	if err := f.RecordBundle(ctx, "b1", "hub", base); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("RecordBundle(b1 again) = %v, want ErrConflict", err)
	}
}

func testFedDecisions(t *testing.T, f store.Federation) {
	ctx := context.Background()
	ds := []store.FedDecision{
		{ObjectID: "indicator--1", Version: at(1), Peer: "hub", Action: "allow", Rule: "allow", Reason: "r1", Time: at(10)},
		{ObjectID: "indicator--1", Version: at(1), Peer: "fra", Action: "deny", Rule: "tlp", Reason: "r2", Time: at(11)},
		{ObjectID: "indicator--2", Version: at(2), Peer: "hub", Action: "refuse", Rule: "invalid", Reason: "r3", Time: at(12)},
	}
	if err := f.LogDecisions(ctx, ds); err != nil {
		t.Fatalf("LogDecisions: %v", err)
	}
	opt := cmpopts.IgnoreFields(store.FedDecision{}, "Seq")
	got, err := f.Decisions(ctx, "", "indicator--1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ds[:2], got, opt); diff != "" {
		t.Errorf("Decisions(all peers, indicator--1) mismatch (-want +got):\n%s", diff)
	}
	if got[0].Seq >= got[1].Seq {
		t.Errorf("Decisions: Seq %d then %d, want increasing", got[0].Seq, got[1].Seq)
	}
	got, err = f.Decisions(ctx, "hub", "indicator--1")
	if err != nil || len(got) != 1 || got[0].Reason != "r1" {
		t.Errorf("Decisions(hub, indicator--1) = %+v, %v; want the one with reason r1", got, err)
	}
}
