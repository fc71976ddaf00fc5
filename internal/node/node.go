// Package node assembles a Shieldwall node: it opens the data directory and
// its store, makes sure a new node is usable (a default collection), and
// serves the HTTP surface (TAXII 2.1, health). It is the only package that
// wires the others together; everything else receives its dependencies.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/identity"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/pgstore"
	"github.com/shieldwall/shieldwall/internal/store/sqlitestore"
)

// DefaultCollectionAlias names the collection every new data directory has.
const DefaultCollectionAlias = "default"

// Options configure a node.
type Options struct {
	// DataDir holds the node's database; it is created if missing.
	DataDir string
	Logger  *slog.Logger
	// Name and Organisation make the node's identity on first start
	// (default: the host name, and "Shieldwall node NAME"); later starts must
	// give the same values or none.
	Name, Organisation string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// DB is a PostgreSQL DSN (postgres://...) for nodes that share one
	// database; empty means the embedded SQLite database in DataDir. The
	// data directory still holds the node's identity and checkpoints.
	DB string
}

// Node is an opened data directory.
type Node struct {
	Store    store.Backend
	Identity *identity.Identity
	log      *slog.Logger
	now      func() time.Time
	dataDir  string
	// detection is what the running Sense built (nil while none runs), for
	// the console's view of the loaded rules.
	detection atomic.Pointer[Detection]
}

// Open opens or creates the data directory and its store, and makes sure
// the default collection exists with its standard grants.
func Open(ctx context.Context, opts Options) (*Node, error) {
	if opts.DataDir == "" {
		return nil, errors.New("no data directory given (--data)")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := openStore(ctx, opts)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	n := &Node{Store: db, log: opts.Logger, now: opts.Now, dataDir: opts.DataDir}
	if err := n.ensureDefaultCollection(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := n.ensureIdentity(opts); err != nil {
		db.Close()
		return nil, err
	}
	return n, nil
}

// ensureIdentity loads the node's identity, making it on first start.
func (n *Node) ensureIdentity(opts Options) error {
	name, org := opts.Name, opts.Organisation
	if _, err := os.Stat(filepath.Join(opts.DataDir, identity.FileName)); err != nil {
		if name == "" {
			host, _ := os.Hostname()
			name = cmpOr(host, "node")
		}
		if org == "" {
			org = "Shieldwall node " + name
		}
	}
	id, err := identity.LoadOrCreate(opts.DataDir, name, org, n.now())
	if err != nil {
		return err
	}
	n.Identity = id
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// openStore opens the backend the options name: PostgreSQL for a
// postgres:// DSN, else SQLite in the data directory.
func openStore(ctx context.Context, opts Options) (store.Backend, error) {
	switch {
	case opts.DB == "":
		db, err := sqlitestore.Open(ctx, filepath.Join(opts.DataDir, "shieldwall.db"))
		if err != nil {
			return nil, fmt.Errorf("open store in %s: %w", opts.DataDir, err)
		}
		return db, nil
	case strings.HasPrefix(opts.DB, "postgres://") || strings.HasPrefix(opts.DB, "postgresql://"):
		db, err := pgstore.Open(ctx, opts.DB, pgstore.WithLogger(opts.Logger))
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL store: %w", err)
		}
		return db, nil
	}
	return nil, errors.New("--db: want a postgres:// DSN (or nothing, for the embedded SQLite database)")
}

// Close closes the store.
func (n *Node) Close() error { return n.Store.Close() }

func (n *Node) ensureDefaultCollection(ctx context.Context) error {
	_, err := n.Store.Collection(ctx, DefaultCollectionAlias)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("look up default collection: %w", err)
	}
	_, err = n.CreateCollection(ctx, store.Collection{
		Alias:       DefaultCollectionAlias,
		Title:       "Default",
		Description: "Intelligence of this node. Analysts read and write it, readers read it.",
	}, []store.Grant{
		{Principal: "role:" + string(store.RoleAnalyst), Read: true, Write: true},
		{Principal: "role:" + string(store.RoleReader), Read: true},
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // another process created it first
	}
	return err
}

// CreateCollection creates a collection and sets its grants.
func (n *Node) CreateCollection(ctx context.Context, c store.Collection, grants []store.Grant) (store.Collection, error) {
	if len(c.MediaTypes) == 0 {
		c.MediaTypes = []string{"application/stix+json;version=2.1"}
	}
	c, err := n.Store.CreateCollection(ctx, c)
	if err != nil {
		return c, fmt.Errorf("create collection: %w", err)
	}
	for _, g := range grants {
		g.CollectionID = c.ID
		if err := n.Store.SetGrant(ctx, g); err != nil {
			return c, fmt.Errorf("grant %s on %s: %w", g.Principal, c.ID, err)
		}
	}
	return c, nil
}

// CreateToken creates an access token and returns its secret, which is shown
// once and stored only as a hash.
func (n *Node) CreateToken(ctx context.Context, name string, role store.Role) (string, error) {
	switch role {
	case store.RoleAdmin, store.RoleAnalyst, store.RoleReader:
	default:
		return "", fmt.Errorf("unknown role %q (want admin, analyst or reader)", role)
	}
	if name == "" {
		return "", errors.New("a token needs a name (--name)")
	}
	secret := auth.NewSecret()
	err := n.Store.CreateToken(ctx, store.Token{ID: uuid.NewString(), Name: name, Role: role, Hash: auth.Hash(secret)})
	if errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("a token named %q exists already", name)
	}
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return secret, nil
}
