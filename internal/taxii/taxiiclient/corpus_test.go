package taxiiclient

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// corpusDir is the shared corpora folder, from this package's directory.
const corpusDir = "../../../../shared/corpora/stix"

// TestCorpusRoundTrip posts MITRE ATT&CK Mobile (real STIX 2.1) through
// the client with each encoding and walks it back in pages of 1,000,
// reporting the bytes on the wire.
func TestCorpusRoundTrip(t *testing.T) {
	path := filepath.Join(corpusDir, "attack", "mobile-attack-17.1.json")
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("corpus %s absent (see ../shared/corpora/README.md)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(data, &bundle); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(bundle.Objects) < 2000 {
		t.Fatalf("%s: %d objects, want over 2,000", path, len(bundle.Objects))
	}
	ctx := context.Background()
	for _, enc := range []Encoding{Zstd, Gzip, None} {
		t.Run(string(enc), func(t *testing.T) {
			s := newServer(t, nil)
			c := s.client(t, WithCompression(enc))
			stored := 0
			for objs := bundle.Objects; len(objs) > 0; {
				n := min(len(objs), 1000)
				st, err := c.Add(ctx, collA, objs[:n])
				if err != nil {
					t.Fatal(err)
				}
				stored += st.SuccessCount
				objs = objs[n:]
			}
			up := c.Stats()
			seen := map[string]bool{}
			walked := 0
			for p, err := range c.Pages(ctx, collA, Query{Limit: 1000}) {
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range objectIDs(t, p.Objects) {
					seen[id] = true
				}
				walked += len(p.Objects)
			}
			if walked != len(seen) || stored < len(bundle.Objects)*9/10 || walked == 0 {
				t.Errorf("stored %d of %d objects, walked %d (%d distinct)", stored, len(bundle.Objects), walked, len(seen))
			}
			st := c.Stats()
			t.Logf("%-8s %d objects: POST %8d raw -> %8d wire (%.1fx); GET %d pages %8d raw -> %8d wire (%.1fx)",
				enc, stored, up.BytesSentRaw, up.BytesSentWire, float64(up.BytesSentRaw)/float64(up.BytesSentWire),
				st.Requests-up.Requests, st.BytesRecvRaw-up.BytesRecvRaw, st.BytesRecvWire-up.BytesRecvWire,
				float64(st.BytesRecvRaw-up.BytesRecvRaw)/float64(st.BytesRecvWire-up.BytesRecvWire))
		})
	}
}
