package federation

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/stix"
)

// seedObjects reads the objects of the demo bundles (in this repository).
func seedObjects(tb testing.TB) [][]byte {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "demo", "seed", "*.json"))
	var out [][]byte
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		br := stix.NewBundleReader(fh)
		for {
			raw, err := br.Next()
			if errors.Is(err, io.EOF) || (err != nil && raw == nil && !isElementError(err)) {
				break
			}
			if raw != nil {
				out = append(out, raw)
			}
		}
		fh.Close()
	}
	return out
}

func isElementError(err error) bool {
	var ee *stix.ElementError
	return errors.As(err, &ee)
}

// FuzzReceive feeds what a peer could send to the receiving path: it must
// never fail or panic, and must store only what stix.Decode accepts and
// does not name this node as creator.
func FuzzReceive(f *testing.F) {
	seeds := seedObjects(f)
	if len(seeds) == 0 {
		f.Skip("no seed objects in ../demo/seed")
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte(`{"type":"indicator","id":"indicator--x"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":`))
	n := newFuzzNode(f)
	ctx := context.Background()
	p := n.syncer.peers["x"]
	f.Fuzz(func(t *testing.T, data []byte) {
		added, err := n.syncer.receive(ctx, p, []json.RawMessage{data}, "default")
		if err != nil {
			t.Fatalf("receive(%q) = %v", data, err)
		}
		if added > 0 {
			o, _, err := stix.Decode(data)
			if err != nil {
				t.Fatalf("receive stored %q, which stix.Decode refuses: %v", data, err)
			}
			if createdBy(o.Raw) == n.id.ID() {
				t.Fatalf("receive stored %q, which names this node as creator", data)
			}
		}
	})
}

func newFuzzNode(tb testing.TB) *node {
	tb.Helper()
	n := newNode(tb, "self", "CERT-SELF", "FRA")
	n.peers = []config.Peer{{Name: "x", Relation: "member", Into: "default"}}
	s, err := New(Options{Identity: n.id, Store: n.db, Logger: quietLogger(), Federation: config.Federation{Peers: n.peers}})
	if err != nil {
		tb.Fatal(err)
	}
	n.syncer = s
	return n
}
