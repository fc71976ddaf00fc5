package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/federation"
)

// Federation builds the node's sync engine for the configured peers and
// makes sure each peer has its inbox collection. The store must keep
// federation state (store.Federation: both the SQLite and the PostgreSQL
// store do).
func (n *Node) Federation(ctx context.Context, cfg *config.Config) (*federation.Syncer, error) {
	st, ok := n.Store.(federation.Store)
	if !ok {
		return nil, errors.New("federation needs a store that keeps federation state (store.Federation)")
	}
	s, err := federation.New(federation.Options{Identity: n.Identity, Nation: cfg.Node.Nation, Federation: cfg.Federation, Store: st, Logger: n.log, Now: n.now})
	if err != nil {
		return nil, err
	}
	if err := s.EnsureInboxes(ctx, n.Store); err != nil {
		return nil, fmt.Errorf("federation inboxes: %w", err)
	}
	return s, nil
}
