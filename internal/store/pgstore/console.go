package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

var (
	_ store.Users     = (*DB)(nil)
	_ store.UserAdmin = (*DB)(nil)
	_ store.Triages   = (*DB)(nil)
)

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	if u.Name == "" || u.PasswordHash == "" {
		return fmt.Errorf("pgstore: create user %q: empty name or password hash: %w", u.Name, store.ErrInvalid)
	}
	if u.Created.IsZero() {
		u.Created = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO users (name, role, password_hash, created) VALUES ($1, $2, $3, $4)`,
		u.Name, string(u.Role), u.PasswordHash, storetime.NanosOrZero(u.Created))
	if isUniqueViolation(err) {
		err = fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	if err != nil {
		return fmt.Errorf("pgstore: create user %q: %w", u.Name, err)
	}
	return nil
}

// SetPassword implements store.UserAdmin.
func (db *DB) SetPassword(ctx context.Context, name, hash string) error {
	if hash == "" {
		return fmt.Errorf("pgstore: set password of %q: empty hash: %w", name, store.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE name = $2`, hash, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE username = $1`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: set password of %q: %w", name, err)
	}
	return nil
}

// User implements store.Users.
func (db *DB) User(ctx context.Context, name string) (store.User, error) {
	var (
		u       store.User
		role    string
		created int64
	)
	err := db.pool.QueryRow(ctx, `SELECT name, role, password_hash, created FROM users WHERE name = $1`, name).
		Scan(&u.Name, &role, &u.PasswordHash, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, fmt.Errorf("pgstore: user %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("pgstore: user %q: %w", name, err)
	}
	u.Role, u.Created = store.Role(role), storetime.FromNanos(created)
	return u, nil
}

// Users implements store.Users.
func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, role, password_hash, created FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var (
			u       store.User
			role    string
			created int64
		)
		if err := rows.Scan(&u.Name, &role, &u.PasswordHash, &created); err != nil {
			return nil, fmt.Errorf("pgstore: users: %w", err)
		}
		u.Role, u.Created = store.Role(role), storetime.FromNanos(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateSession implements store.Users.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	if len(s.IDHash) == 0 || s.User == "" {
		return fmt.Errorf("pgstore: create session: empty id hash or user: %w", store.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (id_hash, username, csrf, created, expires) VALUES ($1, $2, $3, $4, $5)`,
		s.IDHash, s.User, s.CSRF, storetime.NanosOrZero(s.Created), storetime.NanosOrZero(s.Expires))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" { // foreign_key_violation
		err = fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("pgstore: create session for %q: %w", s.User, err)
	}
	return nil
}

// Session implements store.Users.
func (db *DB) Session(ctx context.Context, idHash []byte) (store.Session, error) {
	var (
		s                store.Session
		created, expires int64
	)
	err := db.pool.QueryRow(ctx, `SELECT id_hash, username, csrf, created, expires FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&s.IDHash, &s.User, &s.CSRF, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, fmt.Errorf("pgstore: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("pgstore: session: %w", err)
	}
	s.Created, s.Expires = storetime.FromNanos(created), storetime.FromNanos(expires)
	return s, nil
}

// DeleteSession implements store.Users.
func (db *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("pgstore: delete session: %w", err)
	}
	return nil
}

func checkVerdict(v string, query bool) error {
	switch v {
	case "", store.VerdictTruePositive, store.VerdictFalsePositive:
		return nil
	case "untriaged":
		if query {
			return nil
		}
	}
	return fmt.Errorf("unknown verdict %q: %w", v, store.ErrInvalid)
}

// SetTriage implements store.Triages.
func (db *DB) SetTriage(ctx context.Context, ts []store.Triage) error {
	for _, t := range ts {
		if err := checkVerdict(t.Verdict, false); err != nil {
			return fmt.Errorf("pgstore: triage %s: %w", t.AlertID, err)
		}
	}
	now := db.now()
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, t := range ts {
			if t.Time.IsZero() {
				t.Time = now
			}
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM alerts WHERE id = $1`, t.AlertID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("pgstore: triage %s: no such alert: %w", t.AlertID, store.ErrNotFound)
			} else if err != nil {
				return fmt.Errorf("pgstore: triage %s: %w", t.AlertID, err)
			}
			tm := storetime.NanosOrZero(t.Time)
			if _, err := tx.Exec(ctx, `INSERT INTO alert_triage (alert_id, assignee, verdict, note, by_user, time)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (alert_id) DO UPDATE SET assignee = EXCLUDED.assignee, verdict = EXCLUDED.verdict,
					note = EXCLUDED.note, by_user = EXCLUDED.by_user, time = EXCLUDED.time`,
				t.AlertID, t.Assignee, t.Verdict, t.Note, t.By, tm); err != nil {
				return fmt.Errorf("pgstore: triage %s: %w", t.AlertID, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO alert_triage_log (alert_id, assignee, verdict, note, by_user, time)
				VALUES ($1, $2, $3, $4, $5, $6)`, t.AlertID, t.Assignee, t.Verdict, t.Note, t.By, tm); err != nil {
				return fmt.Errorf("pgstore: triage log %s: %w", t.AlertID, err)
			}
		}
		return nil
	})
}

const triagedAlertCols = `a.seq, a.id, a.time, a.engine, a.rule_id, a.level, a.source, a.json,
	coalesce(t.assignee, ''), coalesce(t.verdict, ''), coalesce(t.note, ''), coalesce(t.by_user, ''), coalesce(t.time, 0)`

const levelRankSQL = `CASE a.level WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 WHEN 'informational' THEN 1 ELSE 0 END`

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// alertTextSQL is the text QueryAlerts matches, the expression of the
// trigram index alerts_text_trgm (migration 0007): it must stay identical.
const alertTextSQL = `alert_search_text(a.rule_id, a.source, a.json)`

// QueryAlerts implements store.Triages. A Text of store.MinIndexedText
// characters or more is matched with ILIKE on alertTextSQL, which the
// trigram index serves; a shorter one only against the newest
// store.ShortTextAlerts alerts. Paging is by key (q.After, q.Before).
func (db *DB) QueryAlerts(ctx context.Context, q store.AlertQuery) ([]store.TriagedAlert, error) {
	if err := checkVerdict(q.Verdict, true); err != nil {
		return nil, fmt.Errorf("pgstore: query alerts: %w", err)
	}
	if q.After != nil && q.Before != nil {
		return nil, fmt.Errorf("pgstore: query alerts: both after and before a cursor: %w", store.ErrInvalid)
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, c := range []struct{ col, v string }{{"a.level", q.Level}, {"a.rule_id", q.RuleID}, {"a.engine", q.Engine}} {
		if c.v != "" {
			where = append(where, c.col+" = "+arg(c.v))
		}
	}
	switch q.Verdict {
	case "":
	case "untriaged":
		where = append(where, "coalesce(t.verdict, '') = ''")
	default:
		where = append(where, "t.verdict = "+arg(q.Verdict))
	}
	if q.Text != "" {
		where = append(where, alertTextSQL+` ILIKE `+arg("%"+likeEscape(q.Text)+"%"))
		if q.TextBounded() {
			where = append(where, fmt.Sprintf(`a.seq >= (SELECT coalesce(min(seq), 0) FROM (SELECT seq FROM alerts ORDER BY seq DESC LIMIT %d) n)`, store.ShortTextAlerts))
		}
	}
	cur, back := q.After, false
	if q.Before != nil {
		cur, back = q.Before, true
	}
	var order string
	switch q.Sort {
	case "", "oldest":
		desc := q.Sort == "" != back
		op := ">"
		order = "a.seq ASC"
		if desc {
			order, op = "a.seq DESC", "<"
		}
		if cur != nil {
			where = append(where, "a.seq "+op+" "+arg(cur.Seq))
		}
	case "level":
		order = levelRankSQL + " DESC, a.seq DESC"
		op := "<"
		if back {
			order, op = levelRankSQL+" ASC, a.seq ASC", ">"
		}
		if cur != nil {
			where = append(where, "("+levelRankSQL+", a.seq) "+op+" ("+arg(cur.Rank)+", "+arg(cur.Seq)+")")
		}
	default:
		return nil, fmt.Errorf("pgstore: query alerts: unknown sort %q: %w", q.Sort, store.ErrInvalid)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	s := `SELECT ` + triagedAlertCols + ` FROM alerts a LEFT JOIN alert_triage t ON t.alert_id = a.id`
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	s += fmt.Sprintf(" ORDER BY %s LIMIT %d", order, limit)
	rows, err := db.pool.Query(ctx, s, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: query alerts: %w", err)
	}
	defer rows.Close()
	var out []store.TriagedAlert
	for rows.Next() {
		a, err := scanTriaged(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: query alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: query alerts: %w", err)
	}
	if back {
		slices.Reverse(out)
	}
	return out, nil
}

func scanTriaged(r interface{ Scan(...any) error }) (store.TriagedAlert, error) {
	var (
		a      store.TriagedAlert
		t, ttm int64
	)
	if err := r.Scan(&a.Seq, &a.ID, &t, &a.Engine, &a.RuleID, &a.Level, &a.Source, &a.JSON,
		&a.Triage.Assignee, &a.Triage.Verdict, &a.Triage.Note, &a.Triage.By, &ttm); err != nil {
		return a, err
	}
	if t != 0 {
		a.Time = storetime.FromNanos(t)
	}
	if ttm != 0 {
		a.Triage.AlertID = a.ID
		a.Triage.Time = storetime.FromNanos(ttm)
	}
	return a, nil
}

// Alert implements store.Triages.
func (db *DB) Alert(ctx context.Context, id string) (store.TriagedAlert, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+triagedAlertCols+` FROM alerts a LEFT JOIN alert_triage t ON t.alert_id = a.id WHERE a.id = $1`, id)
	a, err := scanTriaged(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("pgstore: alert %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("pgstore: alert %s: %w", id, err)
	}
	return a, nil
}

// AlertHistogram implements store.Triages.
func (db *DB) AlertHistogram(ctx context.Context, from time.Time, step time.Duration, n int) ([]store.AlertBucket, error) {
	if step <= 0 || n <= 0 {
		return nil, fmt.Errorf("pgstore: alert histogram: step and n must be positive: %w", store.ErrInvalid)
	}
	f, ok := storetime.Nanos(from)
	if !ok {
		return nil, fmt.Errorf("pgstore: alert histogram: from out of range: %w", store.ErrInvalid)
	}
	st := int64(step)
	rows, err := db.pool.Query(ctx, `SELECT (time - $1) / $2 AS b, level, count(*) FROM alerts
		WHERE time >= $1 AND time < $3 GROUP BY b, level ORDER BY b, level`, f, st, f+st*int64(n))
	if err != nil {
		return nil, fmt.Errorf("pgstore: alert histogram: %w", err)
	}
	defer rows.Close()
	var out []store.AlertBucket
	for rows.Next() {
		var (
			b int64
			c int64
			k store.AlertBucket
		)
		if err := rows.Scan(&b, &k.Level, &c); err != nil {
			return nil, fmt.Errorf("pgstore: alert histogram: %w", err)
		}
		k.Start, k.Count = from.Add(time.Duration(b)*step), int(c)
		out = append(out, k)
	}
	return out, rows.Err()
}
