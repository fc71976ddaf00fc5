package store

import (
	"context"
	"time"
)

// Directions of a federation cursor.
const (
	DirPull   = "pull"   // a peer's collection we pull from (TAXII added_after)
	DirPush   = "push"   // a local collection we push to a peer (date_added)
	DirInbox  = "inbox"  // the local inbox collection a peer pushes into
	DirBundle = "bundle" // a local collection sealed into offline bundles for a peer
)

// FedDecision is one recorded outcome of the federation for one object
// version and one peer: what the sharing policy decided when sending, or why
// something received was refused.
type FedDecision struct {
	Seq      int64 // storage order, assigned by the store
	ObjectID string
	Version  time.Time
	Peer     string
	// Action is a policy action (allow, redact, deny) or, for what a peer
	// sent, refuse.
	Action string
	Rule   string
	Reason string
	Time   time.Time
}

// Federation keeps the durable state of a node's federation sync: cursors,
// the origin of received object versions, the sealed bundles opened and the
// decision log. It is a separate capability: callers probe a Backend for it.
type Federation interface {
	// Cursor returns the cursor of (peer, collection, direction); "" when
	// none was set. Cursors are opaque to the store.
	Cursor(ctx context.Context, peer, collection, direction string) (string, error)
	// SetCursor creates or replaces a cursor.
	SetCursor(ctx context.Context, peer, collection, direction, value string) error
	// AddOrigin records that peer sent this version of this object; adding
	// the same triple again is a no-op.
	AddOrigin(ctx context.Context, objectID string, version time.Time, peer string) error
	// Origins lists the peers a version came from, first one first; nil
	// when it was never received (created or imported locally).
	Origins(ctx context.Context, objectID string, version time.Time) ([]string, error)
	// BundleOpened says whether a sealed bundle id was opened before.
	BundleOpened(ctx context.Context, id string) (bool, error)
	// RecordBundle remembers a sealed bundle as opened. ErrConflict when the
	// id was recorded already.
	RecordBundle(ctx context.Context, id, peer string, at time.Time) error
	// LogDecisions appends decisions in one transaction.
	LogDecisions(ctx context.Context, ds []FedDecision) error
	// Decisions lists the decisions recorded for an object (and a peer,
	// unless peer is ""), oldest first.
	Decisions(ctx context.Context, peer, objectID string) ([]FedDecision, error)
}
