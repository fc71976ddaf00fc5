package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shieldwall/shieldwall/internal/policy"
	"github.com/shieldwall/shieldwall/internal/store"
)

// Explanation answers "why did (or would) this object go, or not, to this
// peer": the decisions recorded when it was handled, and the decision the
// policy gives now for every version this node holds.
type Explanation struct {
	Peer     string
	ObjectID string
	Recorded []store.FedDecision
	Current  []CurrentDecision
}

// CurrentDecision is the policy's answer today for one stored version.
type CurrentDecision struct {
	Collection string
	Version    time.Time
	// Origins are the peers this version came from (none: made here).
	Origins  []string
	Decision policy.Decision
}

// Explain gathers the recorded and recomputed decisions on objectID for
// peer; it is what `shieldwall policy explain --peer P OBJECT_ID` prints.
func (s *Syncer) Explain(ctx context.Context, peerName, objectID string) (Explanation, error) {
	p, err := s.peer(peerName)
	if err != nil {
		return Explanation{}, err
	}
	ex := Explanation{Peer: peerName, ObjectID: objectID}
	if ex.Recorded, err = s.o.Store.Decisions(ctx, peerName, objectID); err != nil {
		return ex, fmt.Errorf("explain: %w", err)
	}
	colls, err := s.o.Store.Collections(ctx)
	if err != nil {
		return ex, fmt.Errorf("explain: %w", err)
	}
	for _, c := range colls {
		pg, err := s.o.Store.Query(ctx, c.ID, store.Filter{IDs: []string{objectID}, Versions: store.VersionMatch{All: true}})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return ex, fmt.Errorf("explain: %w", err)
		}
		for _, r := range pg.Records {
			o, err := s.decide(ctx, p, r)
			if err != nil {
				return ex, fmt.Errorf("explain: %w", err)
			}
			origins, err := s.o.Store.Origins(ctx, r.Object.ID, r.Object.Version())
			if err != nil {
				return ex, fmt.Errorf("explain: %w", err)
			}
			name := c.Alias
			if name == "" {
				name = c.ID
			}
			ex.Current = append(ex.Current, CurrentDecision{Collection: name, Version: r.Version, Origins: origins, Decision: o.decision})
		}
	}
	if len(ex.Recorded) == 0 && len(ex.Current) == 0 {
		return ex, fmt.Errorf("explain: %s: %w (no decision recorded and no version held)", objectID, store.ErrNotFound)
	}
	return ex, nil
}
