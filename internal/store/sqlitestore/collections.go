package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

// isConstraint reports whether err is a SQLite constraint violation (a
// UNIQUE, PRIMARY KEY or FOREIGN KEY failure).
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// Collections lists every collection, ordered by Created and then by when
// it was stored.
func (db *DB) Collections(ctx context.Context) ([]store.Collection, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, coalesce(alias, ''), title, description, media_types, created
		FROM collections ORDER BY created, pk`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: collections: %w", err)
	}
	defer rows.Close()
	var cs []store.Collection
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: collections: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: collections: %w", err)
	}
	return cs, nil
}

// Collection finds a collection by id or, failing that, by alias.
// store.ErrNotFound when neither matches.
func (db *DB) Collection(ctx context.Context, idOrAlias string) (store.Collection, error) {
	row := db.r.QueryRowContext(ctx, `SELECT id, coalesce(alias, ''), title, description, media_types, created
		FROM collections WHERE id = ?1 OR alias = ?1 ORDER BY id = ?1 DESC LIMIT 1`, idOrAlias)
	c, err := scanCollection(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Collection{}, fmt.Errorf("sqlitestore: collection %q: %w", idOrAlias, store.ErrNotFound)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("sqlitestore: collection %q: %w", idOrAlias, err)
	}
	return c, nil
}

func scanCollection(s interface{ Scan(...any) error }) (store.Collection, error) {
	var (
		c       store.Collection
		media   string
		created int64
	)
	if err := s.Scan(&c.ID, &c.Alias, &c.Title, &c.Description, &media, &created); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(media), &c.MediaTypes); err != nil {
		return c, fmt.Errorf("media_types of %s: %w", c.ID, err)
	}
	if len(c.MediaTypes) == 0 {
		c.MediaTypes = nil
	}
	c.Created = storetime.FromNanos(created)
	return c, nil
}

// CreateCollection stores c, giving it a random UUID when ID is empty and
// the current time when Created is zero, and returns it as stored.
// store.ErrInvalid when ID is set but not a UUID; store.ErrConflict when the
// id or alias is taken, including by another collection's alias or id (so
// that Collection's lookup stays unambiguous).
func (db *DB) CreateCollection(ctx context.Context, c store.Collection) (store.Collection, error) {
	if c.ID == "" {
		c.ID = uuid.NewString()
	} else if _, err := uuid.Parse(c.ID); err != nil {
		return store.Collection{}, fmt.Errorf("sqlitestore: create collection: id %q is not a UUID: %w", c.ID, store.ErrInvalid)
	}
	if c.Created.IsZero() {
		c.Created = db.now()
	}
	created, ok := storetime.Nanos(c.Created)
	if !ok {
		return store.Collection{}, fmt.Errorf("sqlitestore: create collection %s: created out of range: %w", c.ID, store.ErrInvalid)
	}
	c.Created = storetime.FromNanos(created)
	media, err := json.Marshal(c.MediaTypes)
	if err != nil {
		return store.Collection{}, fmt.Errorf("sqlitestore: create collection %s: %w", c.ID, err)
	}
	if len(c.MediaTypes) == 0 {
		media, c.MediaTypes = []byte("[]"), nil
	}
	var alias any
	if c.Alias != "" {
		alias = c.Alias
	}
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM collections
			WHERE id = ?1 OR alias = ?1 OR id = ?2 OR alias = ?2`, c.ID, alias).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrConflict
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO collections (id, alias, title, description, media_types, created)
			VALUES (?, ?, ?, ?, ?, ?)`, c.ID, alias, c.Title, c.Description, string(media), created)
		if isConstraint(err) {
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
		return err
	})
	if err != nil {
		return store.Collection{}, fmt.Errorf("sqlitestore: create collection %s (alias %q): %w", c.ID, c.Alias, err)
	}
	return c, nil
}
