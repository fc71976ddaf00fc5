package intel

import (
	"context"
	"fmt"
	"io"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// Export writes the records of a collection that f matches as one STIX 2.1
// bundle, page by page, and returns how many objects it wrote.
func Export(ctx context.Context, s store.Objects, collectionID string, f store.Filter, w io.Writer) (int, error) {
	bw := stix.NewBundleWriter(w)
	n := 0
	f.Limit = 5000
	for {
		page, err := s.Query(ctx, collectionID, f)
		if err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
		for _, r := range page.Records {
			if err := bw.Write(r.Object.Raw); err != nil {
				return n, fmt.Errorf("export: %w", err)
			}
			n++
		}
		if !page.More {
			break
		}
		f.Next = page.Next
	}
	return n, bw.Close()
}
