package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

var (
	_ store.Federation  = (*DB)(nil)
	_ store.DecisionLog = (*DB)(nil)
)

// Cursor implements store.Federation.
func (db *DB) Cursor(ctx context.Context, peer, collection, direction string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, `SELECT value FROM fed_cursors WHERE peer = $1 AND collection = $2 AND direction = $3`,
		peer, collection, direction).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pgstore: cursor %s/%s/%s: %w", peer, collection, direction, err)
	}
	return v, nil
}

// SetCursor implements store.Federation.
func (db *DB) SetCursor(ctx context.Context, peer, collection, direction, value string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO fed_cursors (peer, collection, direction, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (peer, collection, direction) DO UPDATE SET value = excluded.value`,
		peer, collection, direction, value)
	if err != nil {
		return fmt.Errorf("pgstore: set cursor %s/%s/%s: %w", peer, collection, direction, err)
	}
	return nil
}

// AddOrigin implements store.Federation.
func (db *DB) AddOrigin(ctx context.Context, objectID string, version time.Time, peer string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO fed_origins (object_id, version, peer) VALUES ($1, $2, $3)
		ON CONFLICT (object_id, version, peer) DO NOTHING`, objectID, storetime.NanosOrZero(version), peer)
	if err != nil {
		return fmt.Errorf("pgstore: add origin of %s: %w", objectID, err)
	}
	return nil
}

// Origins implements store.Federation.
func (db *DB) Origins(ctx context.Context, objectID string, version time.Time) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT peer FROM fed_origins WHERE object_id = $1 AND version = $2 ORDER BY seq`,
		objectID, storetime.NanosOrZero(version))
	if err != nil {
		return nil, fmt.Errorf("pgstore: origins of %s: %w", objectID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: origins of %s: %w", objectID, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// BundleOpened implements store.Federation.
func (db *DB) BundleOpened(ctx context.Context, id string) (bool, error) {
	var ok bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM fed_bundles WHERE id = $1)`, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("pgstore: bundle %s: %w", id, err)
	}
	return ok, nil
}

// RecordBundle implements store.Federation.
func (db *DB) RecordBundle(ctx context.Context, id, peer string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO fed_bundles (id, peer, opened) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
		id, peer, storetime.NanosOrZero(at))
	if err != nil {
		return fmt.Errorf("pgstore: record bundle %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: bundle %s: %w", id, store.ErrConflict)
	}
	return nil
}

// LogDecisions implements store.Federation: one statement, so the
// decisions are stored together and in order.
func (db *DB) LogDecisions(ctx context.Context, ds []store.FedDecision) error {
	if len(ds) == 0 {
		return nil
	}
	n := len(ds)
	var (
		objs, peers, actions, rules, reasons = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		versions, times                      = make([]int64, n), make([]int64, n)
	)
	for i, d := range ds {
		objs[i], peers[i], actions[i], rules[i], reasons[i] = d.ObjectID, d.Peer, d.Action, d.Rule, d.Reason
		versions[i], times[i] = storetime.NanosOrZero(d.Version), storetime.NanosOrZero(d.Time)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO fed_decisions (object_id, version, peer, action, rule, reason, time)
		SELECT o, v, p, a, r, re, t FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
			WITH ORDINALITY AS u(o, v, p, a, r, re, t, n)
		ORDER BY n`, objs, versions, peers, actions, rules, reasons, times)
	if err != nil {
		return fmt.Errorf("pgstore: log %d decisions: %w", n, err)
	}
	return nil
}

func scanDecisions(rows pgx.Rows) ([]store.FedDecision, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.FedDecision, error) {
		var (
			d    store.FedDecision
			v, t int64
		)
		err := r.Scan(&d.Seq, &d.ObjectID, &v, &d.Peer, &d.Action, &d.Rule, &d.Reason, &t)
		d.Version, d.Time = storetime.FromNanosOrZero(v), storetime.FromNanosOrZero(t)
		return d, err
	})
}

// Decisions implements store.Federation.
func (db *DB) Decisions(ctx context.Context, peer, objectID string) ([]store.FedDecision, error) {
	q := `SELECT seq, object_id, version, peer, action, rule, reason, time FROM fed_decisions WHERE object_id = $1`
	args := []any{objectID}
	if peer != "" {
		q += ` AND peer = $2`
		args = append(args, peer)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: decisions on %s: %w", objectID, err)
	}
	out, err := scanDecisions(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: decisions on %s: %w", objectID, err)
	}
	return out, nil
}

// RecentDecisions implements store.DecisionLog.
func (db *DB) RecentDecisions(ctx context.Context, peer string, before int64, limit int) ([]store.FedDecision, error) {
	var (
		where []string
		args  []any
	)
	if peer != "" {
		args = append(args, peer)
		where = append(where, "peer = $"+strconv.Itoa(len(args)))
	}
	if before > 0 {
		args = append(args, before)
		where = append(where, "seq < $"+strconv.Itoa(len(args)))
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT seq, object_id, version, peer, action, rule, reason, time FROM fed_decisions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.pool.Query(ctx, q+" ORDER BY seq DESC LIMIT "+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: recent decisions: %w", err)
	}
	out, err := scanDecisions(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: recent decisions: %w", err)
	}
	return out, nil
}
