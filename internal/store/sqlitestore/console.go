package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

var (
	_ store.Users       = (*DB)(nil)
	_ store.UserAdmin   = (*DB)(nil)
	_ store.Triages     = (*DB)(nil)
	_ store.DecisionLog = (*DB)(nil)
)

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	if u.Name == "" || u.PasswordHash == "" {
		return fmt.Errorf("sqlitestore: create user %q: empty name or password hash: %w", u.Name, store.ErrInvalid)
	}
	if u.Created.IsZero() {
		u.Created = db.now()
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, created) VALUES (?, ?, ?, ?)`,
			u.Name, string(u.Role), u.PasswordHash, storetime.NanosOrZero(u.Created))
		return err
	})
	if isConstraint(err) {
		err = fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: create user %q: %w", u.Name, err)
	}
	return nil
}

// SetPassword implements store.UserAdmin.
func (db *DB) SetPassword(ctx context.Context, name, hash string) error {
	if hash == "" {
		return fmt.Errorf("sqlitestore: set password of %q: empty hash: %w", name, store.ErrInvalid)
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, hash, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmpErr(err, store.ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: set password of %q: %w", name, err)
	}
	return nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// User implements store.Users.
func (db *DB) User(ctx context.Context, name string) (store.User, error) {
	var (
		u       store.User
		role    string
		created int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT name, role, password_hash, created FROM users WHERE name = ?`, name).
		Scan(&u.Name, &role, &u.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, fmt.Errorf("sqlitestore: user %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("sqlitestore: user %q: %w", name, err)
	}
	u.Role, u.Created = store.Role(role), storetime.FromNanos(created)
	return u, nil
}

// Users implements store.Users.
func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, role, password_hash, created FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: users: %w", err)
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
			return nil, fmt.Errorf("sqlitestore: users: %w", err)
		}
		u.Role, u.Created = store.Role(role), storetime.FromNanos(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateSession implements store.Users.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	if len(s.IDHash) == 0 || s.User == "" {
		return fmt.Errorf("sqlitestore: create session: empty id hash or user: %w", store.ErrInvalid)
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user, csrf, created, expires) VALUES (?, ?, ?, ?, ?)`,
			s.IDHash, s.User, s.CSRF, storetime.NanosOrZero(s.Created), storetime.NanosOrZero(s.Expires))
		return err
	})
	if isConstraint(err) {
		// The id hash is random (a duplicate is impossible in practice), so
		// a constraint failure is the foreign key: no such user.
		err = fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: create session for %q: %w", s.User, err)
	}
	return nil
}

// Session implements store.Users.
func (db *DB) Session(ctx context.Context, idHash []byte) (store.Session, error) {
	var (
		s                store.Session
		created, expires int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT id_hash, user, csrf, created, expires FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&s.IDHash, &s.User, &s.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("sqlitestore: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlitestore: session: %w", err)
	}
	s.Created, s.Expires = storetime.FromNanos(created), storetime.FromNanos(expires)
	return s, nil
}

// DeleteSession implements store.Users.
func (db *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete session: %w", err)
	}
	return nil
}

// SetTriage implements store.Triages.
func (db *DB) SetTriage(ctx context.Context, ts []store.Triage) error {
	for _, t := range ts {
		if err := checkVerdict(t.Verdict, false); err != nil {
			return fmt.Errorf("sqlitestore: triage %s: %w", t.AlertID, err)
		}
	}
	now := db.now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		for _, t := range ts {
			if t.Time.IsZero() {
				t.Time = now
			}
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM alerts WHERE id = ?`, t.AlertID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlitestore: triage %s: no such alert: %w", t.AlertID, store.ErrNotFound)
			} else if err != nil {
				return fmt.Errorf("sqlitestore: triage %s: %w", t.AlertID, err)
			}
			tm := storetime.NanosOrZero(t.Time)
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO alert_triage (alert_id, assignee, verdict, note, by_user, time)
				VALUES (?, ?, ?, ?, ?, ?)`, t.AlertID, t.Assignee, t.Verdict, t.Note, t.By, tm); err != nil {
				return fmt.Errorf("sqlitestore: triage %s: %w", t.AlertID, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO alert_triage_log (alert_id, assignee, verdict, note, by_user, time)
				VALUES (?, ?, ?, ?, ?, ?)`, t.AlertID, t.Assignee, t.Verdict, t.Note, t.By, tm); err != nil {
				return fmt.Errorf("sqlitestore: triage log %s: %w", t.AlertID, err)
			}
		}
		return nil
	})
}

// checkVerdict refuses verdicts other than the known ones ("untriaged" is
// only a query value).
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

const triagedAlertCols = `a.seq, a.id, a.time, a.engine, a.rule_id, a.level, a.source, a.json,
	coalesce(t.assignee, ''), coalesce(t.verdict, ''), coalesce(t.note, ''), coalesce(t.by_user, ''), coalesce(t.time, 0)`

// levelRankSQL is store.LevelRank in SQL.
const levelRankSQL = `CASE a.level WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 WHEN 'informational' THEN 1 ELSE 0 END`

// likeEscape escapes LIKE wildcards in s (with \ as the escape character).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ftsPhrase quotes s as one FTS5 phrase: every character in it is literal.
func ftsPhrase(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QueryAlerts implements store.Triages. A Text of store.MinIndexedText
// characters or more is looked up in the trigram index alerts_text
// (migration 0009); a shorter one is matched with LIKE against the newest
// store.ShortTextAlerts alerts only. Paging is by key (q.After, q.Before).
func (db *DB) QueryAlerts(ctx context.Context, q store.AlertQuery) ([]store.TriagedAlert, error) {
	if err := checkVerdict(q.Verdict, true); err != nil {
		return nil, fmt.Errorf("sqlitestore: query alerts: %w", err)
	}
	if q.After != nil && q.Before != nil {
		return nil, fmt.Errorf("sqlitestore: query alerts: both after and before a cursor: %w", store.ErrInvalid)
	}
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{{"a.level", q.Level}, {"a.rule_id", q.RuleID}, {"a.engine", q.Engine}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	switch q.Verdict {
	case "":
	case "untriaged":
		where = append(where, "coalesce(t.verdict, '') = ''")
	default:
		where = append(where, "t.verdict = ?")
		args = append(args, q.Verdict)
	}
	// seq is the column the order and the cursor compare: the text index's
	// rowid when the index drives the query, so that it reads its matches
	// lazily in that order and stops at the page's end.
	from, seq := "alerts a", "a.seq"
	switch {
	case q.Text == "":
	case q.TextBounded():
		p := "%" + likeEscape(q.Text) + "%"
		where = append(where, fmt.Sprintf(`a.seq >= (SELECT coalesce(min(seq), 0) FROM (SELECT seq FROM alerts ORDER BY seq DESC LIMIT %d))`, store.ShortTextAlerts),
			`(a.rule_id LIKE ? ESCAPE '\' OR a.source LIKE ? ESCAPE '\' OR CAST(a.json AS TEXT) LIKE ? ESCAPE '\')`)
		args = append(args, p, p, p)
	default:
		from, seq = "alerts_text f JOIN alerts a ON a.seq = f.rowid", "f.rowid"
		where = append(where, `alerts_text MATCH ?`)
		args = append(args, ftsPhrase(q.Text))
	}
	cur, back := q.After, false
	if q.Before != nil {
		cur, back = q.Before, true
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	if q.Sort == "level" && seq == "f.rowid" {
		return db.alertsByLevelText(ctx, q, from, where, args, cur, back, limit)
	}
	var order string
	switch q.Sort {
	case "", "oldest":
		desc := q.Sort == "" != back
		order = seq + " ASC"
		if desc {
			order = seq + " DESC"
		}
		if cur != nil {
			op := ">"
			if desc {
				op = "<"
			}
			where = append(where, seq+" "+op+" ?")
			args = append(args, cur.Seq)
		}
	case "level":
		order = levelRankSQL + " DESC, a.seq DESC"
		op := "<"
		if back {
			order, op = levelRankSQL+" ASC, a.seq ASC", ">"
		}
		if cur != nil {
			where = append(where, "("+levelRankSQL+", a.seq) "+op+" (?, ?)")
			args = append(args, cur.Rank, cur.Seq)
		}
	default:
		return nil, fmt.Errorf("sqlitestore: query alerts: unknown sort %q: %w", q.Sort, store.ErrInvalid)
	}
	out, err := db.queryTriaged(ctx, from, where, args, order, limit)
	if err != nil {
		return nil, err
	}
	if back {
		slices.Reverse(out)
	}
	return out, nil
}

// alertsByLevelText answers QueryAlerts for an indexed Text in the "level"
// order: one level rank at a time, most severe first, each read from the
// text index newest first, lazily, until the page is full. (Collecting
// every match to sort them by level reads the whole index for a word that
// is in every alert: 1.7 s at 100,000 alerts under load.) A rank without
// alerts is skipped with one look at the level index.
func (db *DB) alertsByLevelText(ctx context.Context, q store.AlertQuery, from string, where []string, args []any,
	cur *store.AlertCursor, back bool, limit int) ([]store.TriagedAlert, error) {
	ranks := []int{5, 4, 3, 2, 1, 0}
	order, op := "f.rowid DESC", " < ?"
	if back {
		slices.Reverse(ranks)
		order, op = "f.rowid ASC", " > ?"
	}
	var out []store.TriagedAlert
	for _, r := range ranks {
		if q.Level != "" && store.LevelRank(q.Level) != r || cur != nil && (!back && r > cur.Rank || back && r < cur.Rank) {
			continue
		}
		var one int
		err := db.r.QueryRowContext(ctx, `SELECT 1 FROM alerts a WHERE `+levelRankSQL+` = ? LIMIT 1`, r).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: query alerts: %w", err)
		}
		w, a := append(slices.Clip(where), levelRankSQL+" = ?"), append(slices.Clip(args), r)
		if cur != nil && r == cur.Rank {
			w, a = append(w, "f.rowid"+op), append(a, cur.Seq)
		}
		got, err := db.queryTriaged(ctx, from, w, a, order, limit-len(out))
		if err != nil {
			return nil, err
		}
		if out = append(out, got...); len(out) >= limit {
			break
		}
	}
	if back {
		slices.Reverse(out)
	}
	return out, nil
}

// queryTriaged runs one alert query of QueryAlerts.
func (db *DB) queryTriaged(ctx context.Context, from string, where []string, args []any, order string, limit int) ([]store.TriagedAlert, error) {
	s := `SELECT ` + triagedAlertCols + ` FROM ` + from + ` LEFT JOIN alert_triage t ON t.alert_id = a.id`
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	s += fmt.Sprintf(" ORDER BY %s LIMIT %d", order, limit)
	rows, err := db.r.QueryContext(ctx, s, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: query alerts: %w", err)
	}
	defer rows.Close()
	var out []store.TriagedAlert
	for rows.Next() {
		a, err := scanTriaged(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: query alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: query alerts: %w", err)
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
	row := db.r.QueryRowContext(ctx, `SELECT `+triagedAlertCols+` FROM alerts a LEFT JOIN alert_triage t ON t.alert_id = a.id WHERE a.id = ?`, id)
	a, err := scanTriaged(row)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("sqlitestore: alert %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("sqlitestore: alert %s: %w", id, err)
	}
	return a, nil
}

// AlertHistogram implements store.Triages.
func (db *DB) AlertHistogram(ctx context.Context, from time.Time, step time.Duration, n int) ([]store.AlertBucket, error) {
	if step <= 0 || n <= 0 {
		return nil, fmt.Errorf("sqlitestore: alert histogram: step and n must be positive: %w", store.ErrInvalid)
	}
	f, ok := storetime.Nanos(from)
	if !ok {
		return nil, fmt.Errorf("sqlitestore: alert histogram: from out of range: %w", store.ErrInvalid)
	}
	st := int64(step)
	rows, err := db.r.QueryContext(ctx, `SELECT (time - ?) / ? AS b, level, count(*) FROM alerts
		WHERE time >= ? AND time < ? GROUP BY b, level ORDER BY b, level`, f, st, f, f+st*int64(n))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: alert histogram: %w", err)
	}
	defer rows.Close()
	var out []store.AlertBucket
	for rows.Next() {
		var (
			b int64
			k store.AlertBucket
		)
		if err := rows.Scan(&b, &k.Level, &k.Count); err != nil {
			return nil, fmt.Errorf("sqlitestore: alert histogram: %w", err)
		}
		k.Start = from.Add(time.Duration(b) * step)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RecentDecisions implements store.DecisionLog.
func (db *DB) RecentDecisions(ctx context.Context, peer string, before int64, limit int) ([]store.FedDecision, error) {
	var (
		where []string
		args  []any
	)
	if peer != "" {
		where = append(where, "peer = ?")
		args = append(args, peer)
	}
	if before > 0 {
		where = append(where, "seq < ?")
		args = append(args, before)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT seq, object_id, version, peer, action, rule, reason, time FROM fed_decisions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.r.QueryContext(ctx, q+fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", limit), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: recent decisions: %w", err)
	}
	out, err := scanDecisions(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: recent decisions: %w", err)
	}
	return out, nil
}
