package pgstore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

// maxListLen caps each of Filter's lists.
const maxListLen = 10000

// cursorPrefix starts every Page.Next; the rest is the date_added, in
// microseconds, of the last record of the page.
const cursorPrefix = "p1."

func encodeCursor(da int64) string { return cursorPrefix + strconv.FormatInt(da, 10) }

func decodeCursor(s string) (int64, error) {
	rest, ok := strings.CutPrefix(s, cursorPrefix)
	if !ok {
		return 0, fmt.Errorf("cursor %q: %w", s, store.ErrInvalid)
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cursor %q: %w", s, store.ErrInvalid)
	}
	return n, nil
}

// Query returns a page of the collection's records matching f, in date_added
// order; a zero f.Versions means the latest version of each object, and
// since (collection, id, version) is unique every version has exactly one
// spec_version, so an empty f.SpecVersions matches all. Paging is by keyset
// on date_added; since date_added is increasing in commit order (see
// put.go), a page once walked stays the same while any process adds
// records, and Page.Next is set whenever the page is not empty.
//
// Errors: store.ErrNotFound when there is no collection with this id (not
// alias), store.ErrInvalid for a bad f.Next or a list longer than 10,000.
func (db *DB) Query(ctx context.Context, collectionID string, f store.Filter) (store.Page, error) {
	p, err := db.query(ctx, collectionID, f)
	if err != nil {
		return store.Page{}, fmt.Errorf("pgstore: query %q: %w", collectionID, err)
	}
	return p, nil
}

func (db *DB) query(ctx context.Context, collectionID string, f store.Filter) (store.Page, error) {
	after := int64(math.MinInt64)
	if !f.AddedAfter.IsZero() {
		// date_added > t for a t between two microseconds is date_added > floor(t).
		after = f.AddedAfter.UnixMicro()
		if f.AddedAfter.Before(storetime.FromMicros(after)) {
			after-- // UnixMicro rounds towards zero before 1970
		}
	}
	if f.Next != "" {
		c, err := decodeCursor(f.Next)
		if err != nil {
			return store.Page{}, err
		}
		after = max(after, c)
	}
	if len(f.IDs) > maxListLen || len(f.Types) > maxListLen || len(f.SpecVersions) > maxListLen || len(f.Versions.Times) > maxListLen {
		return store.Page{}, fmt.Errorf("filter list longer than %d: %w", maxListLen, store.ErrInvalid)
	}
	limit := f.Limit
	if limit <= 0 || limit > db.maxPage {
		limit = db.maxPage
	}
	coll, err := db.collPK(ctx, db.pool, collectionID)
	if err != nil {
		return store.Page{}, err
	}
	sql, args := buildQuery(coll, after, f, limit)
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return store.Page{}, err
	}
	defer rows.Close()
	var p store.Page
	p.Records = make([]store.Record, 0, min(limit, 64))
	var (
		da, ver int64
		cr, mod *int64
		revoked bool
		typ     string
		id      string
		spec    string
		raw     []byte
	)
	for rows.Next() {
		if len(p.Records) == limit {
			p.More = true
			break
		}
		if err := rows.Scan(&da, &id, &typ, &spec, &ver, &cr, &mod, &revoked, &raw); err != nil {
			return store.Page{}, err
		}
		o := stix.Object{ID: id, Type: typ, SpecVersion: spec, Revoked: revoked, Raw: raw}
		if cr != nil {
			o.Created = storetime.FromNanos(*cr)
		}
		if mod != nil {
			o.Modified = storetime.FromNanos(*mod)
		}
		raw = nil // Scan into a nil slice allocates a new one per row
		p.Records = append(p.Records, store.Record{Object: o, DateAdded: storetime.FromMicros(da), Version: storetime.FromNanos(ver)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.Page{}, err
	}
	if n := len(p.Records); n > 0 {
		p.Next = encodeCursor(p.Records[n-1].DateAdded.UnixMicro())
	}
	return p, nil
}

// maxTypeLegs is the most types a query merges one ordered index scan each
// for; beyond that it filters one scan of the collection.
const maxTypeLegs = 16

const selectCols = `SELECT date_added, id, type, spec_version, version, created, modified, revoked, raw FROM objects`

// buildQuery returns the SQL and arguments of one page of f after the
// date_added after. Every shape is a range scan of an index already in
// date_added order, so a page costs the same at the start and the end of a
// collection:
//   - ids: objects_version, then a sort of the few matches;
//   - one type: objects_type;
//   - a few types: one objects_type scan per type, each limited, merged by
//     the planner (Merge Append);
//   - otherwise objects_latest (the default) or the primary key
//     (coll, date_added).
func buildQuery(coll, after int64, f store.Filter, limit int) (string, []any) {
	ids, types := dedup(f.IDs), dedup(f.Types)
	args := []any{coll, after, limit + 1}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var b strings.Builder
	leg := func(typ string) {
		b.WriteString(selectCols + " WHERE coll = $1 AND date_added > $2")
		switch {
		case isZero(f.Versions):
			b.WriteString(" AND is_latest")
		case !f.Versions.All:
			b.WriteString(" AND " + versionCond(f.Versions, arg))
		}
		if len(ids) > 0 {
			b.WriteString(" AND id = ANY(" + arg(ids) + "::text[])")
		}
		if typ != "" {
			b.WriteString(" AND type = " + arg(typ))
		} else if len(types) > 0 {
			b.WriteString(" AND type = ANY(" + arg(types) + "::text[])")
		}
		if sv := dedup(f.SpecVersions); len(sv) > 0 {
			b.WriteString(" AND spec_version = ANY(" + arg(sv) + "::text[])")
		}
	}
	if len(ids) == 0 && len(types) > 1 && len(types) <= maxTypeLegs {
		for i, typ := range types {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			b.WriteString("(")
			leg(typ)
			b.WriteString(" ORDER BY date_added LIMIT $3)")
		}
	} else {
		t := ""
		if len(ids) == 0 && len(types) == 1 {
			t = types[0]
		}
		leg(t)
	}
	b.WriteString(" ORDER BY date_added LIMIT $3")
	return b.String(), args
}

func isZero(vm store.VersionMatch) bool {
	return !vm.All && !vm.First && !vm.Last && len(vm.Times) == 0
}

// versionCond is the SQL condition selecting the versions vm names: the
// union of its parts; arg adds a parameter and returns its placeholder. It
// must not be called with the zero VersionMatch, whose meaning depends on
// the caller.
func versionCond(vm store.VersionMatch, arg func(any) string) string {
	if vm.All {
		return "true"
	}
	var parts []string
	if vm.Last {
		parts = append(parts, "is_latest")
	}
	if vm.First {
		parts = append(parts, "is_first")
	}
	var ts []int64
	for _, t := range vm.Times {
		if n, ok := storetime.Nanos(t); ok { // a time out of range matches nothing
			ts = append(ts, n)
		}
	}
	if len(ts) > 0 {
		parts = append(parts, "version = ANY("+arg(ts)+"::bigint[])")
	}
	if len(parts) == 0 {
		return "false"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// dedup returns vals without repeats, in their first order.
func dedup(vals []string) []string {
	if len(vals) < 2 {
		return vals
	}
	seen := make(map[string]bool, len(vals))
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// Delete removes the versions of one object that vm selects (every version
// for the zero VersionMatch) and re-marks the latest and first of what
// remains. It reports how many records went: 0 when the object exists but no
// version matched. store.ErrNotFound: no such collection, or no version of
// the object in it. It takes the date_added clock lock like Put, so that
// the marks of one object are never computed by two writers at once.
func (db *DB) Delete(ctx context.Context, collectionID, objectID string, vm store.VersionMatch) (int, error) {
	var deleted int64
	err := db.writeTx(ctx, func(tx pgx.Tx) error {
		coll, err := db.collPK(ctx, tx, collectionID)
		if err != nil {
			return err
		}
		if err := lockClock(ctx, tx); err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM objects WHERE coll = $1 AND id = $2`, coll, objectID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("object %q: %w", objectID, store.ErrNotFound)
		}
		args := []any{coll, objectID}
		q := `DELETE FROM objects WHERE coll = $1 AND id = $2`
		if !isZero(vm) {
			q += " AND " + versionCond(vm, func(v any) string {
				args = append(args, v)
				return "$" + strconv.Itoa(len(args))
			})
		}
		tag, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return err
		}
		deleted = tag.RowsAffected()
		if deleted == 0 || deleted == n {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE objects o SET is_latest = o.version = m.hi, is_first = o.version = m.lo
			FROM (SELECT max(version) AS hi, min(version) AS lo FROM objects WHERE coll = $1 AND id = $2) m
			WHERE o.coll = $1 AND o.id = $2
			AND (o.is_latest IS DISTINCT FROM (o.version = m.hi) OR o.is_first IS DISTINCT FROM (o.version = m.lo))`,
			coll, objectID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: delete %s from %q: %w", objectID, collectionID, err)
	}
	return int(deleted), nil
}
