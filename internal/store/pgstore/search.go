package pgstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

var _ store.ObjectSearch = (*DB)(nil)

// refsMaxLimit caps Referencing's limit.
const refsMaxLimit = 10000

// indexPut fills object_text and object_refs for the versions just inserted
// with date_added in [first, last] (one Put allocates a contiguous range), by
// the SQL functions of migration 0006 (the ones its backfill used).
func indexPut(ctx context.Context, tx pgx.Tx, coll, first, last int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO object_text (coll, date_added, name, body)
		SELECT coll, date_added, shieldwall_search_name(raw), shieldwall_search_body(raw) FROM objects
		WHERE coll = $1 AND date_added BETWEEN $2 AND $3`, coll, first, last); err != nil {
		return fmt.Errorf("index text: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO object_refs (coll, ref, date_added)
		SELECT o.coll, r, o.date_added FROM objects o, shieldwall_refs(o.type, o.raw) r
		WHERE o.coll = $1 AND o.date_added BETWEEN $2 AND $3 AND o.type IN ('relationship', 'sighting')
		ON CONFLICT DO NOTHING`, coll, first, last); err != nil {
		return fmt.Errorf("index references: %w", err)
	}
	return nil
}

// likePattern is a case-insensitive substring pattern for ILIKE.
func likePattern(term string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(term) + "%"
}

const searchCols = `o.date_added, o.id, o.type, o.spec_version, o.version, o.created, o.modified, o.revoked, o.raw`

// SearchObjects searches the latest versions of the collection's objects by
// store.SearchText (see store.ObjectSearch): ILIKE on each word, served by
// the pg_trgm GIN indexes of object_text; first the matches of the name
// part, newest first, then those of name and body together that the name
// alone does not match. Put indexes in its own transaction, so Pending is
// always 0.
func (db *DB) SearchObjects(ctx context.Context, collectionID string, q store.SearchQuery) (store.SearchPage, error) {
	p, err := db.searchObjects(ctx, collectionID, q)
	if err != nil {
		return store.SearchPage{}, fmt.Errorf("pgstore: search %q: %w", collectionID, err)
	}
	return p, nil
}

func (db *DB) searchObjects(ctx context.Context, collectionID string, q store.SearchQuery) (store.SearchPage, error) {
	pl, err := store.PlanSearch(q)
	if err != nil {
		return store.SearchPage{}, err
	}
	limit, tier, before := pl.Limit, pl.Tier, pl.Before
	var pats []string
	for _, t := range pl.Terms {
		pats = append(pats, likePattern(t))
	}
	coll, err := db.collPK(ctx, db.pool, collectionID)
	if err != nil {
		return store.SearchPage{}, err
	}
	var types []string
	if len(q.Types) > 0 {
		types = q.Types
	}
	var p store.SearchPage
	if pats == nil {
		recs, err := db.searchRecords(ctx, `SELECT `+searchCols+` FROM objects o
			WHERE o.coll = $1 AND o.is_latest AND o.date_added < $2 AND ($3::text[] IS NULL OR o.type = ANY($3))
			ORDER BY o.date_added DESC LIMIT $4`, coll, before, types, limit+1)
		if err != nil {
			return p, err
		}
		if len(recs) > limit {
			recs = recs[:limit]
			p.More, p.Next = true, store.SearchCursor(0, recs[limit-1].DateAdded.UnixMicro())
		}
		p.Records = recs
		return p, nil
	}
	if tier == 0 {
		tier = 1
	}
	conds := map[int]string{
		1: `t.name ILIKE ALL($3)`,
		2: `(t.name || E'\n' || t.body) ILIKE ALL($3) AND NOT t.name ILIKE ALL($3)`,
	}
	for ; tier <= 2; tier, before = tier+1, int64(1<<63-1) {
		want := limit - len(p.Records)
		recs, err := db.searchRecords(ctx, `SELECT `+searchCols+` FROM object_text t JOIN objects o ON o.coll = t.coll AND o.date_added = t.date_added
			WHERE t.coll = $1 AND t.date_added < $2 AND `+conds[tier]+` AND o.is_latest AND ($4::text[] IS NULL OR o.type = ANY($4))
			ORDER BY t.date_added DESC LIMIT $5`, coll, before, pats, types, want+1)
		if err != nil {
			return p, err
		}
		if len(recs) > want {
			recs = recs[:want]
			p.Records = append(p.Records, recs...)
			last := before
			if len(recs) > 0 {
				last = recs[len(recs)-1].DateAdded.UnixMicro()
			}
			p.More, p.Next = true, store.SearchCursor(tier, last)
			return p, nil
		}
		p.Records = append(p.Records, recs...)
	}
	return p, nil
}

// searchRecords runs a query of searchCols.
func (db *DB) searchRecords(ctx context.Context, sql string, args ...any) ([]store.Record, error) {
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var recs []store.Record
	for rows.Next() {
		var (
			da, ver     int64
			cr, mod     *int64
			o           stix.Object
			id, typ, sv string
		)
		if err := rows.Scan(&da, &id, &typ, &sv, &ver, &cr, &mod, &o.Revoked, &o.Raw); err != nil {
			return nil, err
		}
		o.ID, o.Type, o.SpecVersion = id, typ, sv
		if cr != nil {
			o.Created = storetime.FromNanos(*cr)
		}
		if mod != nil {
			o.Modified = storetime.FromNanos(*mod)
		}
		recs = append(recs, store.Record{Object: o, DateAdded: storetime.FromMicros(da), Version: storetime.FromNanos(ver)})
	}
	return recs, rows.Err()
}

// Referencing returns the latest versions of the relationships and
// sightings of the collection that reference objectID, newest first, from
// object_refs (filled by Put).
func (db *DB) Referencing(ctx context.Context, collectionID, objectID string, limit int) ([]store.Record, bool, error) {
	if limit <= 0 {
		limit = 1000
	}
	limit = min(limit, refsMaxLimit)
	coll, err := db.collPK(ctx, db.pool, collectionID)
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: referencing %s in %q: %w", objectID, collectionID, err)
	}
	recs, err := db.searchRecords(ctx, `SELECT `+searchCols+` FROM object_refs r JOIN objects o ON o.coll = r.coll AND o.date_added = r.date_added
		WHERE r.coll = $1 AND r.ref = $2 AND o.is_latest ORDER BY r.date_added DESC LIMIT $3`, coll, objectID, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: referencing %s: %w", objectID, err)
	}
	more := len(recs) > limit
	if more {
		recs = recs[:limit]
	}
	return recs, more, nil
}
