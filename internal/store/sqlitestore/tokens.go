package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

// PutStatus stores s, replacing any status with the same id (a pending
// status is rewritten as its objects are processed). store.ErrInvalid when
// s.ID is empty.
func (db *DB) PutStatus(ctx context.Context, s store.Status) error {
	if s.ID == "" {
		return fmt.Errorf("sqlitestore: put status: empty id: %w", store.ErrInvalid)
	}
	ts, ok := storetime.Nanos(s.RequestTimestamp)
	if !ok {
		return fmt.Errorf("sqlitestore: put status %s: request timestamp out of range: %w", s.ID, store.ErrInvalid)
	}
	var lists [3][]byte
	for i, l := range [][]store.StatusItem{s.Successes, s.Failures, s.Pendings} {
		if l == nil {
			l = []store.StatusItem{}
		}
		b, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("sqlitestore: put status %s: %w", s.ID, err)
		}
		lists[i] = b
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO statuses
			(id, status, request_timestamp, total_count, successes, failures, pendings)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.Status, ts, s.TotalCount, string(lists[0]), string(lists[1]), string(lists[2]))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: put status %s: %w", s.ID, err)
	}
	return nil
}

// Status returns the status with this id. store.ErrNotFound when unknown.
// Empty lists come back nil.
func (db *DB) Status(ctx context.Context, id string) (store.Status, error) {
	var (
		s     store.Status
		ts    int64
		lists [3]string
	)
	err := db.r.QueryRowContext(ctx, `SELECT id, status, request_timestamp, total_count, successes, failures, pendings
		FROM statuses WHERE id = ?`, id).Scan(&s.ID, &s.Status, &ts, &s.TotalCount, &lists[0], &lists[1], &lists[2])
	if errors.Is(err, sql.ErrNoRows) {
		return store.Status{}, fmt.Errorf("sqlitestore: status %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Status{}, fmt.Errorf("sqlitestore: status %q: %w", id, err)
	}
	s.RequestTimestamp = storetime.FromNanos(ts)
	for i, dst := range []*[]store.StatusItem{&s.Successes, &s.Failures, &s.Pendings} {
		if err := json.Unmarshal([]byte(lists[i]), dst); err != nil {
			return store.Status{}, fmt.Errorf("sqlitestore: status %q: %w", id, err)
		}
		if len(*dst) == 0 {
			*dst = nil
		}
	}
	return s, nil
}

// CreateToken stores t, with a random UUID when ID is empty and the current
// time when Created is zero. store.ErrConflict when the id or name is taken;
// store.ErrInvalid when the name or hash is empty.
func (db *DB) CreateToken(ctx context.Context, t store.Token) error {
	if t.Name == "" || len(t.Hash) == 0 {
		return fmt.Errorf("sqlitestore: create token %q: empty name or hash: %w", t.Name, store.ErrInvalid)
	}
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	if t.Created.IsZero() {
		t.Created = db.now()
	}
	created, ok := storetime.Nanos(t.Created)
	if !ok {
		return fmt.Errorf("sqlitestore: create token %q: created out of range: %w", t.Name, store.ErrInvalid)
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, name, role, hash, created) VALUES (?, ?, ?, ?, ?)`,
			t.ID, t.Name, string(t.Role), t.Hash, created)
		if isConstraint(err) {
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: create token %q: %w", t.Name, err)
	}
	return nil
}

// TokenByHash finds the token whose secret hashes to h. store.ErrNotFound
// when none does.
func (db *DB) TokenByHash(ctx context.Context, h []byte) (store.Token, error) {
	var (
		t       store.Token
		role    string
		created int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT id, name, role, hash, created FROM tokens WHERE hash = ? LIMIT 1`, h).
		Scan(&t.ID, &t.Name, &role, &t.Hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("sqlitestore: token by hash: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlitestore: token by hash: %w", err)
	}
	t.Role = store.Role(role)
	t.Created = storetime.FromNanos(created)
	return t, nil
}

// SetGrant creates or replaces the grant for (collection, principal).
// store.ErrNotFound when no collection has g.CollectionID as its id;
// store.ErrInvalid when the principal is empty.
func (db *DB) SetGrant(ctx context.Context, g store.Grant) error {
	if g.Principal == "" {
		return fmt.Errorf("sqlitestore: set grant on %q: empty principal: %w", g.CollectionID, store.ErrInvalid)
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.collPK(ctx, tx, g.CollectionID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO grants (collection_id, principal, read, write) VALUES (?, ?, ?, ?)
			ON CONFLICT (collection_id, principal) DO UPDATE SET read = excluded.read, write = excluded.write`,
			g.CollectionID, g.Principal, g.Read, g.Write)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: set grant on %q for %q: %w", g.CollectionID, g.Principal, err)
	}
	return nil
}

// Grants lists the grants on the collection with this id, ordered by
// principal. store.ErrNotFound when there is no such collection.
func (db *DB) Grants(ctx context.Context, collectionID string) ([]store.Grant, error) {
	if _, err := db.collPK(ctx, db.r, collectionID); err != nil {
		return nil, fmt.Errorf("sqlitestore: grants on %q: %w", collectionID, err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT collection_id, principal, read, write FROM grants
		WHERE collection_id = ? ORDER BY principal`, collectionID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: grants on %q: %w", collectionID, err)
	}
	defer rows.Close()
	var gs []store.Grant
	for rows.Next() {
		var g store.Grant
		if err := rows.Scan(&g.CollectionID, &g.Principal, &g.Read, &g.Write); err != nil {
			return nil, fmt.Errorf("sqlitestore: grants on %q: %w", collectionID, err)
		}
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: grants on %q: %w", collectionID, err)
	}
	return gs, nil
}
