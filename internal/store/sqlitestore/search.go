package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

var _ store.ObjectSearch = (*DB)(nil)

// The text index (migrations 0007, 0008) is filled after the transactions
// that store objects, never inside them: trigram indexing cost 40-160 µs of
// CPU per generated indicator here (the more, the larger the index), several
// times what storing it costs, and the import goal (50,000 objects/s)
// leaves no room for it.
const (
	// indexBatch is how many versions one indexing transaction takes
	// (about a second of the writer: a Put may wait that long).
	indexBatch = 10000
	// indexTxBudget bounds the time one indexing transaction holds the
	// writer, whatever the batch: on a slow or loaded machine (or a -race
	// build) 10,000 long ATT&CK descriptions take far longer than a second,
	// and another process sharing the file would wait past its busy
	// timeout. The transaction commits what it indexed by then.
	indexTxBudget = 250 * time.Millisecond
	// indexPause is the background indexer's rest between transactions.
	indexPause = 100 * time.Millisecond
	// indexSyncMax: a search that finds at most this many versions waiting
	// indexes them first, so what was just stored is found.
	indexSyncMax = 2000
	// indexIdle is how long the background indexer waits after the last Put
	// ended (none running) before it takes the writer, so that a bulk import
	// is not slowed by it (when it waited only for 1 s after each commit it
	// indexed 170,000 versions between the transactions of a 1M import on
	// a loaded machine, which took 60% more CPU); but it waits at most
	// indexMaxDefer for an idle moment, then indexes indexSyncMax versions,
	// so that a steady stream of Puts is indexed too.
	indexIdle     = 5 * time.Second
	indexMaxDefer = time.Minute
	// searchScan bounds the index entries one search page reads when a type
	// filter rejects most of them (a rare type, a text common in others):
	// the page then ends early with a cursor. 20,000 took 1.2 s (p50) on
	// the 1M store at a load average of 15-18.
	searchScan = 5000
	// refsMaxLimit caps Referencing's limit.
	refsMaxLimit = 10000
)

// textIndexer is the background state of the text index.
type textIndexer struct {
	lastPut atomic.Int64  // Unix nanoseconds of the last Put's start or end
	active  atomic.Int32  // Puts in progress (or waiting for the writer)
	kick    chan struct{} // buffered 1: something was stored
	stop    chan struct{}
	done    chan struct{}
	cancel  context.CancelFunc
	once    sync.Once
}

// startIndexer starts the background indexer; stopIndexer ends it.
func (db *DB) startIndexer() {
	ctx, cancel := context.WithCancel(context.Background())
	db.ix = &textIndexer{kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), cancel: cancel}
	db.ix.kick <- struct{}{} // backfill what an earlier process left
	go db.runIndexer(ctx)
}

func (db *DB) stopIndexer() {
	if db.ix == nil {
		return
	}
	db.ix.once.Do(func() {
		db.ix.cancel()
		close(db.ix.stop)
	})
	<-db.ix.done
}

// putStarted tells the indexer that a Put begins; the indexer stays off the
// writer until putDone and indexIdle after it.
func (db *DB) putStarted() {
	if db.ix != nil {
		db.ix.active.Add(1)
		db.ix.lastPut.Store(time.Now().UnixNano())
	}
}

// putDone ends putStarted; stored says whether the Put added versions.
func (db *DB) putDone(stored bool) {
	if db.ix == nil {
		return
	}
	db.ix.lastPut.Store(time.Now().UnixNano())
	db.ix.active.Add(-1)
	if stored {
		select {
		case db.ix.kick <- struct{}{}:
		default:
		}
	}
}

func (db *DB) runIndexer(ctx context.Context) {
	ix := db.ix
	defer close(ix.done)
	for {
		select {
		case <-ix.stop:
			return
		case <-ix.kick:
		}
		deferred := time.Now()
		for {
			// Wait until no Put ran for indexIdle, or indexMaxDefer passed:
			// then index a small batch only, and wait again.
			wait := time.Duration(ix.lastPut.Load()+int64(indexIdle)) - time.Duration(time.Now().UnixNano())
			if ix.active.Load() > 0 {
				wait = max(wait, indexIdle)
			}
			batch := indexBatch
			if forced := indexMaxDefer - time.Since(deferred); wait > 0 && forced <= 0 {
				wait, batch = 0, indexSyncMax
			} else {
				wait = min(wait, forced)
			}
			if wait > 0 {
				select {
				case <-ix.stop:
					return
				case <-time.After(wait):
				}
				continue
			}
			_, more, err := db.indexText(ctx, batch)
			deferred = time.Now()
			if err != nil || !more {
				// Done, or failed (closing, say): the next Put, or the next
				// search, tries again.
				break
			}
			// Leave the file's write lock free for a moment: another
			// process sharing the file (SQLite's busy handler polls) would
			// otherwise lose the lock to back-to-back batches and time out.
			select {
			case <-ix.stop:
				return
			case <-time.After(indexPause):
			}
		}
	}
}

// IndexText indexes every version that waits for the text index, now, in
// transactions of indexBatch (the background indexer does the same when the
// store is idle). It returns how many versions it indexed.
func (db *DB) IndexText(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := db.indexText(ctx, indexBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("sqlitestore: index text: %w", err)
		}
		if !more {
			return total, nil
		}
	}
}

// indexText indexes up to max of the versions after object_text_state.upto,
// in date_added order, in one write transaction of at most about
// indexTxBudget. The writer serialises it with Put, so every version up to
// upto is committed and indexed. more reports that versions may still wait
// (the batch was full, or the budget ran out).
func (db *DB) indexText(ctx context.Context, max int) (n int, more bool, _ error) {
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		n, more = 0, false
		start := time.Now()
		var upto int64
		if err := tx.QueryRowContext(ctx, `SELECT upto FROM object_text_state WHERE id = 1`).Scan(&upto); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT date_added, raw FROM objects WHERE date_added > ? ORDER BY date_added LIMIT ?`, upto, max)
		if err != nil {
			return err
		}
		type entry struct {
			da         int64
			name, body string
		}
		var es []entry
		cut := false
		for rows.Next() {
			if len(es) > 0 && time.Since(start) > indexTxBudget {
				cut = true
				break
			}
			var (
				da  int64
				raw []byte
			)
			if err := rows.Scan(&da, &raw); err != nil {
				rows.Close()
				return err
			}
			name, body := store.SearchText(raw)
			es = append(es, entry{da, name, body})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(es) == 0 {
			return nil
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO object_text (rowid, name, body) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		more = cut || len(es) == max
		for i, e := range es {
			if i > 0 && time.Since(start) > indexTxBudget {
				more = true
				break
			}
			upto, n = e.da, i+1
			if e.name == "" && e.body == "" {
				continue
			}
			if _, err := ins.ExecContext(ctx, e.da, e.name, e.body); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE object_text_state SET upto = ? WHERE id = 1`, upto); err != nil {
			return err
		}
		return nil
	})
	return n, more, err
}

// pendingText counts the versions not yet indexed, counting at most
// atMost+1 of them (cheap) unless atMost < 0 (exact).
func (db *DB) pendingText(ctx context.Context, atMost int) (int, error) {
	q := `SELECT count(*) FROM objects WHERE date_added > (SELECT upto FROM object_text_state WHERE id = 1)`
	if atMost >= 0 {
		q = `SELECT count(*) FROM (SELECT 1 FROM objects WHERE date_added > (SELECT upto FROM object_text_state WHERE id = 1) LIMIT ` + strconv.Itoa(atMost+1) + `)`
	}
	var n int
	err := db.r.QueryRowContext(ctx, q).Scan(&n)
	return n, err
}

// ftsQuery makes the FTS5 query of one tier of the terms: each a quoted
// string (a trigram phrase, that is a substring), all required; tier 1 in
// the name column, tier 2 anywhere but not all in the name column.
func ftsQuery(terms []string, tier int) string {
	qs := make([]string, len(terms))
	for i, t := range terms {
		qs[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	all := "(" + strings.Join(qs, " AND ") + ")"
	if tier == 1 {
		return "{name} : " + all
	}
	return all + " NOT {name} : " + all
}

// SearchObjects searches the latest versions of the collection's objects
// by store.SearchText (see store.ObjectSearch). With text it walks the
// trigram index newest first, the name column's matches then the others',
// and keeps what is a latest version of this collection and type; without text it reads objects_latest or
// objects_type backwards. A page reads at most searchScan index entries:
// when a type filter rejects that many, it ends early with More and a
// cursor. When more than indexSyncMax versions wait for the index (after a
// bulk import) they are not searched and Pending says how many.
func (db *DB) SearchObjects(ctx context.Context, collectionID string, q store.SearchQuery) (store.SearchPage, error) {
	p, err := db.searchObjects(ctx, collectionID, q)
	if err != nil {
		return store.SearchPage{}, fmt.Errorf("sqlitestore: search %q: %w", collectionID, err)
	}
	return p, nil
}

func (db *DB) searchObjects(ctx context.Context, collectionID string, q store.SearchQuery) (store.SearchPage, error) {
	pl, err := store.PlanSearch(q)
	if err != nil {
		return store.SearchPage{}, err
	}
	limit, tier, before, terms := pl.Limit, pl.Tier, pl.Before, pl.Terms
	coll, err := db.collPK(ctx, db.r, collectionID)
	if err != nil {
		return store.SearchPage{}, err
	}
	var p store.SearchPage
	if terms == nil {
		p.Records, p.More, err = db.latestBefore(ctx, coll, q.Types, before, limit)
		if err == nil && p.More {
			p.Next = store.SearchCursor(0, p.Records[len(p.Records)-1].DateAdded.UnixMicro())
		}
		return p, err
	}

	pending, err := db.pendingText(ctx, indexSyncMax)
	if err != nil {
		return p, err
	}
	if pending > 0 && pending <= indexSyncMax {
		for more := true; more && err == nil; {
			_, more, err = db.indexText(ctx, indexSyncMax)
		}
		if err != nil {
			return p, fmt.Errorf("index: %w", err)
		}
	} else if pending > indexSyncMax {
		if p.Pending, err = db.pendingText(ctx, -1); err != nil {
			return p, err
		}
	}

	// Walk the index newest first, tier by tier; keep the rows that are a
	// latest version of this collection (and type).
	var das []int64
	scanned := 0
	if tier == 0 {
		tier = 1
	}
	for ; tier <= 2 && !p.More; tier, before = tier+1, int64(1<<63-1) {
		var stop int64
		das, scanned, stop, err = db.walkText(ctx, coll, q.Types, ftsQuery(terms, tier), before, das, limit, scanned)
		if err != nil {
			return p, err
		}
		if stop != 0 {
			p.More, p.Next = true, store.SearchCursor(tier, stop)
		}
	}
	p.Records, err = db.recordsAt(ctx, das)
	return p, err
}

// walkText reads the index entries matching match with rowid < before,
// newest first, and appends to das those that are latest versions in coll
// (of types) until das holds limit (stop is then the last one's rowid) or
// scanned reaches searchScan (stop is then the last entry read); stop is 0
// when the entries ran out first.
func (db *DB) walkText(ctx context.Context, coll int64, types []string, match string, before int64, das []int64, limit, scanned int) (_ []int64, _ int, stop int64, _ error) {
	stmt, err := db.readStmt(ctx, `SELECT t.rowid, o.coll, o.is_latest, o.type FROM object_text t CROSS JOIN objects o ON o.date_added = t.rowid
		WHERE object_text MATCH ?1 AND t.rowid < ?2 ORDER BY t.rowid DESC`)
	if err != nil {
		return das, scanned, 0, err
	}
	rows, err := stmt.QueryContext(ctx, match, before)
	if err != nil {
		return das, scanned, 0, err
	}
	defer rows.Close()
	last := before // the rowid of the last entry kept by this walk
	for rows.Next() {
		var (
			da, c  int64
			latest bool
			typ    string
		)
		if err := rows.Scan(&da, &c, &latest, &typ); err != nil {
			return das, scanned, 0, err
		}
		scanned++
		if c == coll && latest && (len(types) == 0 || containsStr(types, typ)) {
			if len(das) == limit {
				// One more match: the page is full and ends before it.
				return das, scanned, last, nil
			}
			das = append(das, da)
			last = da
		}
		if scanned >= searchScan {
			return das, scanned, da, nil
		}
	}
	return das, scanned, 0, rows.Err()
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// latestBefore reads the latest versions of the collection (of these
// types) with date_added < before, newest first: limit of them and whether
// more follow.
func (db *DB) latestBefore(ctx context.Context, coll int64, types []string, before int64, limit int) ([]store.Record, bool, error) {
	const cols = `date_added, id, type, spec_version, version, created, modified, revoked, raw`
	types = dedup(types)
	var (
		b    strings.Builder
		args = []any{coll, before, limit + 1}
	)
	switch {
	case len(types) == 0:
		b.WriteString(`SELECT ` + cols + ` FROM objects INDEXED BY objects_latest WHERE coll = ?1 AND is_latest = 1 AND date_added < ?2 ORDER BY date_added DESC LIMIT ?3`)
	case len(types) <= maxTypeLegs:
		// One ordered index scan per type, merged.
		for i, t := range types {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			args = append(args, t)
			fmt.Fprintf(&b, `SELECT * FROM (SELECT %s FROM objects INDEXED BY objects_type WHERE coll = ?1 AND type = ?%d AND is_latest = 1 AND date_added < ?2 ORDER BY date_added DESC LIMIT ?3)`, cols, len(args))
		}
		b.WriteString(` ORDER BY date_added DESC LIMIT ?3`)
	default:
		b.WriteString(`SELECT ` + cols + ` FROM objects INDEXED BY objects_latest WHERE coll = ?1 AND is_latest = 1 AND date_added < ?2 AND type IN (SELECT value FROM json_each(?4)) ORDER BY date_added DESC LIMIT ?3`)
		js, _ := jsonStrings(types)
		args = append(args, js)
	}
	stmt, err := db.readStmt(ctx, b.String())
	if err != nil {
		return nil, false, err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, false, err
	}
	more := len(recs) > limit
	if more {
		recs = recs[:limit]
	}
	return recs, more, nil
}

func jsonStrings(vs []string) (string, error) {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(v)) // ids and types are ASCII without controls; Quote is JSON for them
	}
	b.WriteByte(']')
	return b.String(), nil
}

// recordsAt reads the rows with these date_addeds, in this order (a row
// deleted meanwhile is left out).
func (db *DB) recordsAt(ctx context.Context, das []int64) ([]store.Record, error) {
	if len(das) == 0 {
		return nil, nil
	}
	args := make([]any, len(das))
	ph := make([]string, len(das))
	for i, da := range das {
		args[i], ph[i] = da, "?"
	}
	rows, err := db.r.QueryContext(ctx, `SELECT date_added, id, type, spec_version, version, created, modified, revoked, raw
		FROM objects WHERE date_added IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, err
	}
	pos := make(map[int64]int, len(das))
	for i, da := range das {
		pos[da] = i
	}
	slices.SortFunc(recs, func(a, b store.Record) int { return pos[a.DateAdded.UnixMicro()] - pos[b.DateAdded.UnixMicro()] })
	return recs, nil
}

// scanRecords reads rows of (date_added, id, type, spec_version, version,
// created, modified, revoked, raw).
func scanRecords(rows *sql.Rows) ([]store.Record, error) {
	var recs []store.Record
	for rows.Next() {
		var (
			da, ver int64
			cr, mod sql.NullInt64
			o       stix.Object
			raw     []byte
		)
		if err := rows.Scan(&da, &o.ID, &o.Type, &o.SpecVersion, &ver, &cr, &mod, &o.Revoked, &raw); err != nil {
			return nil, err
		}
		if cr.Valid {
			o.Created = storetime.FromNanos(cr.Int64)
		}
		if mod.Valid {
			o.Modified = storetime.FromNanos(mod.Int64)
		}
		o.Raw = raw
		recs = append(recs, store.Record{Object: o, DateAdded: storetime.FromMicros(da), Version: storetime.FromNanos(ver)})
	}
	return recs, rows.Err()
}

// Referencing returns the latest versions of the relationships and
// sightings of the collection that reference objectID, newest first, from
// object_refs (filled by Put): its cost is that of the object's own
// references, whatever the collection's size.
func (db *DB) Referencing(ctx context.Context, collectionID, objectID string, limit int) ([]store.Record, bool, error) {
	if limit <= 0 {
		limit = 1000
	}
	limit = min(limit, refsMaxLimit)
	coll, err := db.collPK(ctx, db.r, collectionID)
	if err != nil {
		return nil, false, fmt.Errorf("sqlitestore: referencing %s in %q: %w", objectID, collectionID, err)
	}
	stmt, err := db.readStmt(ctx, `SELECT o.date_added, o.id, o.type, o.spec_version, o.version, o.created, o.modified, o.revoked, o.raw
		FROM object_refs r CROSS JOIN objects o ON o.date_added = r.date_added
		WHERE r.coll = ?1 AND r.ref = ?2 AND o.is_latest = 1 ORDER BY r.date_added DESC LIMIT ?3`)
	if err != nil {
		return nil, false, fmt.Errorf("sqlitestore: referencing %s: %w", objectID, err)
	}
	rows, err := stmt.QueryContext(ctx, coll, objectID, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("sqlitestore: referencing %s: %w", objectID, err)
	}
	defer rows.Close()
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, false, fmt.Errorf("sqlitestore: referencing %s: %w", objectID, err)
	}
	more := len(recs) > limit
	if more {
		recs = recs[:limit]
	}
	return recs, more, nil
}

// refRow is one row of object_refs to insert.
type refRow struct {
	ref string
	da  int64
}

// insertRefs adds the references of the versions Put just inserted.
func insertRefs(ctx context.Context, tx *sql.Tx, coll int64, refs []refRow) error {
	if len(refs) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO object_refs (coll, ref, date_added) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range refs {
		if _, err := st.ExecContext(ctx, coll, r.ref, r.da); err != nil {
			return err
		}
	}
	return nil
}
