package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

// insertChunk is how many rows one multi-row INSERT of Put carries into
// objects, keyChunk how many into object_ids.
const (
	insertChunk = 64
	keyChunk    = 256
)

const (
	// putProbeSQL lists every stored version of the ids whose keys are in
	// the JSON array ?2 (and of any other id sharing a key).
	putProbeSQL = `SELECT o.id, o.version, o.date_added FROM object_ids k CROSS JOIN objects o
		ON o.date_added = k.date_added WHERE k.coll = ?1 AND k.h IN (SELECT value FROM json_each(?2))`
	putInsertCols  = `INSERT INTO objects (date_added, coll, id, idh, type, spec_version, version, created, modified, revoked, is_latest, is_first, raw) VALUES `
	putInsertRow   = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	putInsertArgs  = 13
	putKeyCols     = `INSERT INTO object_ids (coll, h, date_added) VALUES `
	putKeyRow      = `(?, ?, ?)`
	putKeyArgs     = 3
	putUnlatestSQL = `UPDATE objects SET is_latest = 0 WHERE date_added = ?`
	putUnfirstSQL  = `UPDATE objects SET is_first = 0 WHERE date_added = ?`
)

// putStmts are Put's statements, prepared once on the writer connection.
type putStmts struct {
	probe, insert1, insertN, key1, keyN, unlatest, unfirst *sql.Stmt
}

func (db *DB) preparePut(ctx context.Context) error {
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = db.w.PrepareContext(ctx, q)
		return s
	}
	db.put = putStmts{
		probe:    prep(putProbeSQL),
		insert1:  prep(putInsertCols + putInsertRow),
		insertN:  prep(putInsertCols + strings.Repeat(putInsertRow+", ", insertChunk-1) + putInsertRow),
		key1:     prep(putKeyCols + putKeyRow),
		keyN:     prep(putKeyCols + strings.Repeat(putKeyRow+", ", keyChunk-1) + putKeyRow),
		unlatest: prep(putUnlatestSQL),
		unfirst:  prep(putUnfirstSQL),
	}
	return err
}

func (p putStmts) close() {
	for _, s := range []*sql.Stmt{p.probe, p.insert1, p.insertN, p.key1, p.keyN, p.unlatest, p.unfirst} {
		if s != nil {
			s.Close()
		}
	}
}

// idState is what Put knows of the stored versions of one id: all of them,
// so the rows flagged is_latest and is_first are those of latestDA and
// firstDA.
type idState struct {
	n                 int
	maxV, minV        int64
	latestDA, firstDA int64
	versions          map[int64]int64 // version → date_added
}

func (st *idState) add(v, da int64) {
	if st.n == 0 || v > st.maxV {
		st.maxV, st.latestDA = v, da
	}
	if st.n == 0 || v < st.minV {
		st.minV, st.firstDA = v, da
	}
	st.n++
	st.versions[v] = da
}

// Put stores objs in the collection with this id (not alias) in one
// transaction. Each object is identified by (id, version), version being
// Object.Version(); a version already stored is left alone and reported with
// Added false and the DateAdded it was stored with. An object without
// created and modified (most cyber-observables) has a single version: once
// its id is stored, putting it again is a no-op, whatever its content.
//
// Errors: store.ErrNotFound when the collection does not exist,
// store.ErrInvalid for an object without id, type or JSON or with a
// timestamp outside 1678–2262; nothing is stored then.
func (db *DB) Put(ctx context.Context, collectionID string, objs []stix.Object) ([]store.PutResult, error) {
	vers := make([]int64, len(objs))
	for i := range objs {
		o := &objs[i]
		if o.ID == "" || o.Type == "" || len(o.Raw) == 0 {
			return nil, fmt.Errorf("sqlitestore: put %q: object %d lacks id, type or JSON: %w", collectionID, i, store.ErrInvalid)
		}
		var ok1, ok2 bool
		_, ok1 = storetime.Nanos(o.Created)
		_, ok2 = storetime.Nanos(o.Modified)
		vers[i] = storetime.Nanos64(o.Version())
		if (!o.Created.IsZero() && !ok1) || (!o.Modified.IsZero() && !ok2) {
			return nil, fmt.Errorf("sqlitestore: put %q: object %s: timestamp out of range: %w", collectionID, o.ID, store.ErrInvalid)
		}
	}
	var res []store.PutResult
	db.putStarted()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		coll, err := db.collPK(ctx, tx, collectionID)
		if err != nil {
			return err
		}
		res, err = db.putTx(ctx, tx, coll, objs, vers)
		return err
	})
	db.putDone(err == nil && slices.ContainsFunc(res, func(r store.PutResult) bool { return r.Added }))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: put %q: %w", collectionID, err)
	}
	return res, nil
}

func (db *DB) putTx(ctx context.Context, tx *sql.Tx, coll int64, objs []stix.Object, vers []int64) ([]store.PutResult, error) {
	res := make([]store.PutResult, len(objs))
	if len(objs) == 0 {
		return res, nil
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last FROM date_added_clock WHERE id = 1`).Scan(&last); err != nil {
		return nil, fmt.Errorf("read date_added clock: %w", err)
	}
	keys := make([]idKey, len(objs))
	for i := range objs {
		keys[i] = idKey{h: keyHash(objs[i].ID)}
	}
	states, err := db.probe(ctx, tx, coll, keys)
	if err != nil {
		return nil, err
	}

	insN := tx.StmtContext(ctx, db.put.insertN)
	pending := make([]any, 0, insertChunk*putInsertArgs)
	flush := func() error {
		if len(pending) == cap(pending) {
			_, err := insN.ExecContext(ctx, pending...)
			pending = pending[:0]
			return err
		}
		ins1 := tx.StmtContext(ctx, db.put.insert1)
		for i := 0; i < len(pending); i += putInsertArgs {
			if _, err := ins1.ExecContext(ctx, pending[i:i+putInsertArgs]...); err != nil {
				return err
			}
		}
		pending = pending[:0]
		return nil
	}

	added := keys[:0] // the keys of the rows inserted, reusing keys
	var refs []refRow // object_refs of the relationships and sightings inserted
	for i := range objs {
		o := &objs[i]
		h := keys[i].h
		versioned := !o.Version().IsZero()
		st := states[o.ID]
		if st != nil && !versioned {
			res[i] = store.PutResult{DateAdded: storetime.FromMicros(st.latestDA)}
			continue
		}
		if st != nil {
			if da, ok := st.versions[vers[i]]; ok {
				res[i] = store.PutResult{DateAdded: storetime.FromMicros(da)}
				continue
			}
		}
		da := max(db.now().UnixMicro(), last+1)
		last = da
		v := vers[i]
		if !versioned {
			v = da * 1000
		}
		isLatest := st == nil || v > st.maxV
		isFirst := st == nil || v < st.minV
		if st != nil && (isLatest || isFirst) {
			// The row losing its flag may still be pending: write it first.
			if err := flush(); err != nil {
				return nil, fmt.Errorf("object %s: %w", o.ID, err)
			}
			if isLatest {
				if _, err := tx.StmtContext(ctx, db.put.unlatest).ExecContext(ctx, st.latestDA); err != nil {
					return nil, fmt.Errorf("object %s: %w", o.ID, err)
				}
			}
			if isFirst {
				if _, err := tx.StmtContext(ctx, db.put.unfirst).ExecContext(ctx, st.firstDA); err != nil {
					return nil, fmt.Errorf("object %s: %w", o.ID, err)
				}
			}
		}
		pending = append(pending, da, coll, o.ID, idHash(o.ID), o.Type, o.SpecVersion, v,
			storetime.NullNanos(o.Created), storetime.NullNanos(o.Modified), o.Revoked, isLatest, isFirst, []byte(o.Raw))
		if len(pending) == cap(pending) {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("insert: %w", err)
			}
		}
		if st == nil {
			st = &idState{versions: map[int64]int64{}}
			states[o.ID] = st
		}
		st.add(v, da)
		res[i] = store.PutResult{Added: true, DateAdded: storetime.FromMicros(da)}
		added = append(added, idKey{h: h, da: da})
		for _, ref := range store.RefsOf(o.Type, o.Raw) {
			refs = append(refs, refRow{ref: ref, da: da})
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("insert: %w", err)
	}
	if len(added) == 0 {
		return res, nil
	}
	if err := db.insertKeys(ctx, tx, coll, added); err != nil {
		return nil, fmt.Errorf("insert ids: %w", err)
	}
	if err := insertRefs(ctx, tx, coll, refs); err != nil {
		return nil, fmt.Errorf("insert references: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE date_added_clock SET last = ? WHERE id = 1`, last); err != nil {
		return nil, fmt.Errorf("write date_added clock: %w", err)
	}
	return res, nil
}

// idKey is one entry of object_ids (within a collection): the top 32 bits
// of the id's hash and the date_added of the row.
type idKey struct{ h, da int64 }

// keyHash is the h of object_ids for an id: idHash >> 32, as migration 0005
// computes it in SQL. It must never change: it is stored.
func keyHash(id string) int64 { return idHash(id) >> 32 }

// insertKeys adds the keys of the rows just inserted to object_ids, in key
// order: an ordered sweep visits each page of that B-tree once however many
// keys land on it, where input order (random ids) would jump from page to
// page for every key.
func (db *DB) insertKeys(ctx context.Context, tx *sql.Tx, coll int64, keys []idKey) error {
	slices.SortFunc(keys, func(a, b idKey) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.da, b.da)
	})
	args := make([]any, 0, keyChunk*putKeyArgs)
	keyN := tx.StmtContext(ctx, db.put.keyN)
	for len(keys) >= keyChunk {
		args = args[:0]
		for _, k := range keys[:keyChunk] {
			args = append(args, coll, k.h, k.da)
		}
		if _, err := keyN.ExecContext(ctx, args...); err != nil {
			return err
		}
		keys = keys[keyChunk:]
	}
	key1 := tx.StmtContext(ctx, db.put.key1)
	for _, k := range keys {
		if _, err := key1.ExecContext(ctx, coll, k.h, k.da); err != nil {
			return err
		}
	}
	return nil
}

// probe loads the stored versions of the ids whose keys are given. Rows of
// other ids that share a key come back too; they are keyed by their own id,
// so they never stand for an object of the batch.
func (db *DB) probe(ctx context.Context, tx *sql.Tx, coll int64, keys []idKey) (map[string]*idState, error) {
	hs := make([]int64, len(keys))
	for i, k := range keys {
		hs[i] = k.h
	}
	js, err := json.Marshal(hs)
	if err != nil {
		return nil, err
	}
	rows, err := tx.StmtContext(ctx, db.put.probe).QueryContext(ctx, coll, string(js))
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	defer rows.Close()
	states := map[string]*idState{}
	for rows.Next() {
		var (
			id    string
			v, da int64
		)
		if err := rows.Scan(&id, &v, &da); err != nil {
			return nil, fmt.Errorf("probe: %w", err)
		}
		st := states[id]
		if st == nil {
			st = &idState{versions: map[int64]int64{}}
			states[id] = st
		}
		st.add(v, da)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return states, nil
}

// idHash is the 64-bit FNV-1a hash of a STIX id, kept in objects.idh; its
// top 32 bits key object_ids (keyHash). It must never change: it is stored.
func idHash(id string) int64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return int64(h)
}
