package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

const collectionCols = `SELECT id, coalesce(alias, ''), title, description, media_types, created FROM collections`

// Collections lists every collection, ordered by Created and then by when
// it was stored.
func (db *DB) Collections(ctx context.Context) ([]store.Collection, error) {
	rows, err := db.pool.Query(ctx, collectionCols+` ORDER BY created, pk`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: collections: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Collection, error) { return scanCollection(r) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: collections: %w", err)
	}
	return cs, nil
}

// Collection finds a collection by id or, failing that, by alias.
// store.ErrNotFound when neither matches.
func (db *DB) Collection(ctx context.Context, idOrAlias string) (store.Collection, error) {
	c, err := scanCollection(db.pool.QueryRow(ctx, collectionCols+` WHERE id = $1 OR alias = $1 ORDER BY id = $1 DESC LIMIT 1`, idOrAlias))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Collection{}, fmt.Errorf("pgstore: collection %q: %w", idOrAlias, store.ErrNotFound)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("pgstore: collection %q: %w", idOrAlias, err)
	}
	return c, nil
}

func scanCollection(s pgx.Row) (store.Collection, error) {
	var (
		c       store.Collection
		created int64
	)
	if err := s.Scan(&c.ID, &c.Alias, &c.Title, &c.Description, &c.MediaTypes, &created); err != nil {
		return c, err
	}
	if len(c.MediaTypes) == 0 {
		c.MediaTypes = nil
	}
	c.Created = storetime.FromNanos(created)
	return c, nil
}

// collectionLockSQL serialises collection creation across processes, so
// that the check that neither the id nor the alias is taken as an id or an
// alias holds until the insert commits.
const collectionLockSQL = `SELECT pg_advisory_xact_lock(hashtextextended('shieldwall.collections.' || current_schema(), 0))`

// CreateCollection stores c, giving it a random UUID when ID is empty and
// the current time when Created is zero, and returns it as stored.
// store.ErrInvalid when ID is set but not a UUID; store.ErrConflict when the
// id or alias is taken, including by another collection's alias or id (so
// that Collection's lookup stays unambiguous).
func (db *DB) CreateCollection(ctx context.Context, c store.Collection) (store.Collection, error) {
	if c.ID == "" {
		c.ID = uuid.NewString()
	} else if _, err := uuid.Parse(c.ID); err != nil {
		return store.Collection{}, fmt.Errorf("pgstore: create collection: id %q is not a UUID: %w", c.ID, store.ErrInvalid)
	}
	if c.Created.IsZero() {
		c.Created = db.now()
	}
	created, ok := storetime.Nanos(c.Created)
	if !ok {
		return store.Collection{}, fmt.Errorf("pgstore: create collection %s: created out of range: %w", c.ID, store.ErrInvalid)
	}
	c.Created = storetime.FromNanos(created)
	media := c.MediaTypes
	if len(media) == 0 {
		media, c.MediaTypes = []string{}, nil
	}
	var alias *string
	if c.Alias != "" {
		alias = &c.Alias
	}
	err := db.writeTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, collectionLockSQL); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM collections
			WHERE id = $1 OR alias = $1 OR id = $2 OR alias = $2`, c.ID, alias).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrConflict
		}
		_, err := tx.Exec(ctx, `INSERT INTO collections (id, alias, title, description, media_types, created)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, alias, c.Title, c.Description, media, created)
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
		return err
	})
	if err != nil {
		return store.Collection{}, fmt.Errorf("pgstore: create collection %s (alias %q): %w", c.ID, c.Alias, err)
	}
	return c, nil
}
