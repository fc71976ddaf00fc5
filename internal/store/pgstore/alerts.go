package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

// PutAlerts implements store.Alerts: the alerts are inserted in one
// statement, in order, and an alert whose id is stored already is skipped.
func (db *DB) PutAlerts(ctx context.Context, alerts []store.AlertRecord) (int, error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	n := len(alerts)
	var (
		ids, engines, rules, levels, sources = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		times                                = make([]int64, n)
		jsons                                = make([][]byte, n)
	)
	for i, a := range alerts {
		if a.ID == "" {
			return 0, fmt.Errorf("pgstore: put alerts: alert %d without id: %w", i, store.ErrInvalid)
		}
		t, ok := storetime.Nanos(a.Time)
		if !ok || a.Time.IsZero() {
			t = 0 // unknown or out of range: sorted as "no time"
		}
		ids[i], engines[i], rules[i], levels[i], sources[i], times[i], jsons[i] = a.ID, a.Engine, a.RuleID, a.Level, a.Source, t, a.JSON
		if jsons[i] == nil {
			jsons[i] = []byte{}
		}
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO alerts (id, time, engine, rule_id, level, source, json)
		SELECT i, t, e, r, l, s, j FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[])
			WITH ORDINALITY AS u(i, t, e, r, l, s, j, n)
		ORDER BY n
		ON CONFLICT (id) DO NOTHING`, ids, times, engines, rules, levels, sources, jsons)
	if err != nil {
		return 0, fmt.Errorf("pgstore: put alerts: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Alerts implements store.Alerts.
func (db *DB) Alerts(ctx context.Context, f store.AlertFilter) ([]store.AlertRecord, error) {
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{{"level", f.Level}, {"rule_id", f.RuleID}, {"engine", f.Engine}} {
		if c.v != "" {
			args = append(args, c.v)
			where = append(where, c.col+" = $"+strconv.Itoa(len(args)))
		}
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		where = append(where, "seq < $"+strconv.Itoa(len(args)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT seq, id, time, engine, rule_id, level, source, json FROM alerts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT " + strconv.Itoa(limit)
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: alerts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AlertRecord, error) {
		var (
			a store.AlertRecord
			t int64
		)
		if err := r.Scan(&a.Seq, &a.ID, &t, &a.Engine, &a.RuleID, &a.Level, &a.Source, &a.JSON); err != nil {
			return a, err
		}
		if t != 0 {
			a.Time = storetime.FromNanos(t)
		}
		return a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: alerts: %w", err)
	}
	return out, nil
}
