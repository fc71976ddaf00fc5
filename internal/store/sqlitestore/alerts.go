package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

var _ store.Alerts = (*DB)(nil)

// alertTextSQL indexes for the text search (alerts_text, migration 0009)
// the alerts stored after seq ?, the way the migration indexes those stored
// before it.
const alertTextSQL = `INSERT INTO alerts_text (rowid, rule_id, source, body)
	SELECT seq, rule_id, source, CAST(json AS TEXT) FROM alerts WHERE seq > ? ORDER BY seq`

// PutAlerts implements store.Alerts. The alerts it adds get seqs above every
// stored one (the rowid of a table without deletions), so one statement at
// the end indexes their text.
func (db *DB) PutAlerts(ctx context.Context, alerts []store.AlertRecord) (int, error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	added := 0
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM alerts`).Scan(&last); err != nil {
			return fmt.Errorf("last alert: %w", err)
		}
		var err error
		if added, err = insertAlerts(ctx, tx, alerts); err != nil || added == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, alertTextSQL, last); err != nil {
			return fmt.Errorf("index alert text: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// insertAlerts inserts the alerts whose id is not stored yet and returns
// how many it added.
func insertAlerts(ctx context.Context, tx *sql.Tx, alerts []store.AlertRecord) (int, error) {
	st, err := tx.PrepareContext(ctx, `INSERT INTO alerts (id, time, engine, rule_id, level, source, json)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("prepare alert insert: %w", err)
	}
	defer st.Close()
	added := 0
	for _, a := range alerts {
		if a.ID == "" {
			return 0, fmt.Errorf("alert without id: %w", store.ErrInvalid)
		}
		t, ok := storetime.Nanos(a.Time)
		if !ok || a.Time.IsZero() {
			t = 0 // unknown or out of range: sorted as "no time"
		}
		res, err := st.ExecContext(ctx, a.ID, t, a.Engine, a.RuleID, a.Level, a.Source, a.JSON)
		if err != nil {
			return 0, fmt.Errorf("insert alert %s: %w", a.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			added++
		}
	}
	return added, nil
}

// Alerts implements store.Alerts.
func (db *DB) Alerts(ctx context.Context, f store.AlertFilter) ([]store.AlertRecord, error) {
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{{"level", f.Level}, {"rule_id", f.RuleID}, {"engine", f.Engine}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.Before > 0 {
		where = append(where, "seq < ?")
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT seq, id, time, engine, rule_id, level, source, json FROM alerts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", limit)
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query alerts: %w", err)
	}
	defer rows.Close()
	var out []store.AlertRecord
	for rows.Next() {
		var (
			a store.AlertRecord
			t int64
		)
		if err := rows.Scan(&a.Seq, &a.ID, &t, &a.Engine, &a.RuleID, &a.Level, &a.Source, &a.JSON); err != nil {
			return nil, fmt.Errorf("scan alert: %w", err)
		}
		if t != 0 {
			a.Time = storetime.FromNanos(t)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
