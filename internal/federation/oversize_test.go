package federation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/taxii/taxiiclient"
)

// TestOversizedPageRefused: a peer whose page is larger than this node
// accepts is refused with the reason, shown in the peer's state, and
// nothing of the page is stored; the node's own data is untouched.
func TestOversizedPageRefused(t *testing.T) {
	src, dst := pullPair(t)
	o := &objs{t: t}
	for i := range 4 {
		_, raw := o.indicator(src, "big"+string(rune('a'+i)), nil, stix.TLPClearID)
		putRaw(t, src, "public", raw)
	}
	_, mine := o.indicator(dst, "mine", nil, stix.TLPClearID)
	dst.put(t, mine)
	src.serve(t, nil)
	dst.start(t, func(opt *Options) {
		opt.ClientOptions = func(string) []taxiiclient.Option {
			return []taxiiclient.Option{taxiiclient.WithMaxRetries(1), taxiiclient.WithBackoff(time.Millisecond, 5*time.Millisecond),
				taxiiclient.WithMaxResponseSize(600)} // smaller than one page of indicators
		}
	})
	err := dst.syncer.SyncOnce(context.Background(), "src")
	if err == nil || !errors.Is(err, taxiiclient.ErrResponseTooLarge) {
		t.Fatalf("SyncOnce with an oversized page = %v, want ErrResponseTooLarge", err)
	}
	st, _ := dst.syncer.PeerState("src")
	if st.Link == LinkConnected || !strings.Contains(st.LastError, "large") || st.Received != 0 {
		t.Errorf("PeerState(src) = %+v; want degraded, the reason, nothing received", st)
	}
	if held := dst.holdings(t); len(held) != 1 {
		t.Errorf("dst holds %d versions after the refused page, want only its own 1", len(held))
	}
}
