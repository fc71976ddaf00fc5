package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

// maxListLen caps each of Filter's lists, which become SQL parameters.
const maxListLen = 10000

// cursorPrefix starts every Page.Next; the rest is the date_added, in
// microseconds, of the last record of the page.
const cursorPrefix = "s1."

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
// on date_added: a page once walked stays the same while new records are
// added (they come after it), and Page.Next is always set when the page is
// not empty, so a client at the end can come back for what is added later.
//
// Errors: store.ErrNotFound when there is no collection with this id (not
// alias), store.ErrInvalid for a bad f.Next or a list longer than 10,000.
func (db *DB) Query(ctx context.Context, collectionID string, f store.Filter) (store.Page, error) {
	p, err := db.query(ctx, collectionID, f)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlitestore: query %q: %w", collectionID, err)
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
	coll, err := db.collPK(ctx, db.r, collectionID)
	if err != nil {
		return store.Page{}, err
	}

	query, args := buildQuery(coll, after, f, limit)
	stmt, err := db.readStmt(ctx, query)
	if err != nil {
		return store.Page{}, err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return store.Page{}, err
	}
	defer rows.Close()
	var p store.Page
	p.Records = make([]store.Record, 0, min(limit, 64))
	for rows.Next() {
		if len(p.Records) == limit {
			p.More = true
			break
		}
		var (
			da, ver int64
			cr, mod sql.NullInt64
			revoked bool
			o       stix.Object
			raw     []byte
		)
		if err := rows.Scan(&da, &o.ID, &o.Type, &o.SpecVersion, &ver, &cr, &mod, &revoked, &raw); err != nil {
			return store.Page{}, err
		}
		if cr.Valid {
			o.Created = storetime.FromNanos(cr.Int64)
		}
		if mod.Valid {
			o.Modified = storetime.FromNanos(mod.Int64)
		}
		o.Revoked = revoked
		o.Raw = raw
		p.Records = append(p.Records, store.Record{Object: o, DateAdded: storetime.FromMicros(da), Version: storetime.FromNanos(ver)})
	}
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

const selectCols = `SELECT date_added, id, type, spec_version, version, created, modified, revoked, raw FROM objects `

// buildQuery returns the SQL and arguments of one page of f after the
// date_added after. The index each shape uses is named, not left to the
// planner, whose choice without statistics (a new file) can be a scan of
// the whole collection:
//   - ids: the rows object_ids gives for their keys (NOT INDEXED leaves
//     only the rowid to look them up by), then a sort of the few matches;
//   - one type: objects_type, already in date_added order;
//   - a few types: one objects_type scan per type, merged (UNION ALL);
//   - otherwise objects_latest (the default) or objects_coll, in order.
func buildQuery(coll, after int64, f store.Filter, limit int) (string, []any) {
	ids, types := dedup(f.IDs), dedup(f.Types)
	var b strings.Builder
	var args []any
	// leg writes one SELECT; index is "" or an INDEXED BY / NOT INDEXED
	// clause, typ "" or the one type it is limited to.
	leg := func(index, typ string) {
		b.WriteString(selectCols)
		if index != "" {
			b.WriteString(index + " ")
		}
		b.WriteString("WHERE coll = ? AND date_added > ?")
		args = append(args, coll, after)
		if isZero(f.Versions) {
			b.WriteString(" AND is_latest = 1")
		} else if !f.Versions.All {
			cond, cargs := versionCond(f.Versions)
			b.WriteString(" AND " + cond)
			args = append(args, cargs...)
		}
		if len(ids) > 0 {
			b.WriteString(" AND date_added IN (SELECT date_added FROM object_ids WHERE coll = ? AND h IN (?" + strings.Repeat(", ?", len(ids)-1) + "))")
			args = append(args, coll)
			for _, id := range ids {
				args = append(args, keyHash(id))
			}
		}
		args = inList(&b, "id", ids, args)
		if typ != "" {
			b.WriteString(" AND type = ?")
			args = append(args, typ)
		} else {
			args = inList(&b, "type", types, args)
		}
		args = inList(&b, "spec_version", dedup(f.SpecVersions), args)
	}
	switch {
	case len(ids) > 0:
		leg("NOT INDEXED", "")
	case len(types) == 1:
		leg("INDEXED BY objects_type", types[0])
	case len(types) > 1 && len(types) <= maxTypeLegs:
		for i, typ := range types {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			leg("INDEXED BY objects_type", typ)
		}
	default:
		leg("", "")
	}
	b.WriteString(" ORDER BY date_added LIMIT ?")
	args = append(args, limit+1)
	return b.String(), args
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

// inList appends " AND col IN (?, ...)" for a non-empty list.
func inList(b *strings.Builder, col string, vals []string, args []any) []any {
	if len(vals) == 0 {
		return args
	}
	b.WriteString(" AND " + col + " IN (")
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('?')
		args = append(args, v)
	}
	b.WriteByte(')')
	return args
}
