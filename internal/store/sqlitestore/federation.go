package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

var _ store.Federation = (*DB)(nil)

// Cursor implements store.Federation.
func (db *DB) Cursor(ctx context.Context, peer, collection, direction string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM fed_cursors WHERE peer = ? AND collection = ? AND direction = ?`,
		peer, collection, direction).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cursor %s/%s/%s: %w", peer, collection, direction, err)
	}
	return v, nil
}

// SetCursor implements store.Federation.
func (db *DB) SetCursor(ctx context.Context, peer, collection, direction, value string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO fed_cursors (peer, collection, direction, value) VALUES (?, ?, ?, ?)
			ON CONFLICT (peer, collection, direction) DO UPDATE SET value = excluded.value`,
			peer, collection, direction, value)
		if err != nil {
			return fmt.Errorf("set cursor %s/%s/%s: %w", peer, collection, direction, err)
		}
		return nil
	})
}

// AddOrigin implements store.Federation.
func (db *DB) AddOrigin(ctx context.Context, objectID string, version time.Time, peer string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO fed_origins (object_id, version, peer) VALUES (?, ?, ?)
			ON CONFLICT (object_id, version, peer) DO NOTHING`, objectID, storetime.NanosOrZero(version), peer)
		if err != nil {
			return fmt.Errorf("add origin of %s: %w", objectID, err)
		}
		return nil
	})
}

// Origins implements store.Federation.
func (db *DB) Origins(ctx context.Context, objectID string, version time.Time) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT peer FROM fed_origins WHERE object_id = ? AND version = ? ORDER BY seq`,
		objectID, storetime.NanosOrZero(version))
	if err != nil {
		return nil, fmt.Errorf("origins of %s: %w", objectID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("origins of %s: %w", objectID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// BundleOpened implements store.Federation.
func (db *DB) BundleOpened(ctx context.Context, id string) (bool, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM fed_bundles WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("bundle %s: %w", id, err)
	}
	return n > 0, nil
}

// RecordBundle implements store.Federation.
func (db *DB) RecordBundle(ctx context.Context, id, peer string, at time.Time) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO fed_bundles (id, peer, opened) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			id, peer, storetime.NanosOrZero(at))
		if err != nil {
			return fmt.Errorf("record bundle %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("bundle %s: %w", id, store.ErrConflict)
		}
		return nil
	})
}

// LogDecisions implements store.Federation.
func (db *DB) LogDecisions(ctx context.Context, ds []store.FedDecision) error {
	if len(ds) == 0 {
		return nil
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO fed_decisions (object_id, version, peer, action, rule, reason, time)
			VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare decision insert: %w", err)
		}
		defer st.Close()
		for _, d := range ds {
			if _, err := st.ExecContext(ctx, d.ObjectID, storetime.NanosOrZero(d.Version), d.Peer, d.Action, d.Rule, d.Reason, storetime.NanosOrZero(d.Time)); err != nil {
				return fmt.Errorf("log decision on %s for %s: %w", d.ObjectID, d.Peer, err)
			}
		}
		return nil
	})
}

// Decisions implements store.Federation.
func (db *DB) Decisions(ctx context.Context, peer, objectID string) ([]store.FedDecision, error) {
	q := `SELECT seq, object_id, version, peer, action, rule, reason, time FROM fed_decisions WHERE object_id = ?`
	args := []any{objectID}
	if peer != "" {
		q += ` AND peer = ?`
		args = append(args, peer)
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("decisions on %s: %w", objectID, err)
	}
	out, err := scanDecisions(rows)
	if err != nil {
		return nil, fmt.Errorf("decisions on %s: %w", objectID, err)
	}
	return out, nil
}

// scanDecisions reads the rows of a fed_decisions SELECT (seq, object_id,
// version, peer, action, rule, reason, time) and closes them.
func scanDecisions(rows *sql.Rows) ([]store.FedDecision, error) {
	defer rows.Close()
	var out []store.FedDecision
	for rows.Next() {
		var (
			d    store.FedDecision
			v, t int64
		)
		if err := rows.Scan(&d.Seq, &d.ObjectID, &v, &d.Peer, &d.Action, &d.Rule, &d.Reason, &t); err != nil {
			return nil, err
		}
		d.Version, d.Time = storetime.FromNanosOrZero(v), storetime.FromNanosOrZero(t)
		out = append(out, d)
	}
	return out, rows.Err()
}
