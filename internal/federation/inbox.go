package federation

import (
	"context"
	"errors"
	"fmt"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// InboxSetup is what EnsureInboxes needs: collections and grants.
type InboxSetup interface {
	store.Collections
	SetGrant(ctx context.Context, g store.Grant) error
}

// EnsureInboxes creates, for every configured peer, the inbox collection it pushes into (Options.Inbox; by default
// "inbox-PEER") when missing, and grants the token named after the peer
// write (not read) access to it. The token itself is made by the operator
// (its secret goes into the peer's configuration).
func (s *Syncer) EnsureInboxes(ctx context.Context, st InboxSetup) error {
	for _, name := range s.order {
		box := s.o.Inbox(name)
		c, err := st.Collection(ctx, box)
		if errors.Is(err, store.ErrNotFound) {
			c, err = st.CreateCollection(ctx, store.Collection{ID: stix.NewID("x")[len("x--"):], Alias: box,
				Title: "Inbox of " + name, Description: "what peer " + name + " pushes; the federation moves it into " + s.peers[name].cfg.Into})
		}
		if err != nil {
			return fmt.Errorf("federation: inbox of %s: %w", name, err)
		}
		if err := st.SetGrant(ctx, store.Grant{CollectionID: c.ID, Principal: name, Write: true}); err != nil {
			return fmt.Errorf("federation: inbox of %s: %w", name, err)
		}
	}
	return nil
}
