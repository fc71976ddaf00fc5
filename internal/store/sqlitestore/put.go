package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

// insertChunk is how many rows one multi-row INSERT of Put carries.
const insertChunk = 64

const (
	// putProbeSQL lists every stored version of the ids in the JSON array ?2.
	putProbeSQL = `SELECT id, version, date_added, is_latest FROM objects
		WHERE coll = ?1 AND idh IN (SELECT value FROM json_each(?2))`
	putInsertCols  = `INSERT INTO objects (date_added, coll, id, idh, type, spec_version, version, created, modified, revoked, is_latest, is_first, raw) VALUES `
	putInsertRow   = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	putInsertArgs  = 13
	putUnlatestSQL = `UPDATE objects SET is_latest = 0 WHERE coll = ? AND idh = ? AND id = ? AND is_latest = 1`
	putUnfirstSQL  = `UPDATE objects SET is_first = 0 WHERE coll = ? AND idh = ? AND id = ? AND is_first = 1`
)

// putStmts are Put's statements, prepared once on the writer connection.
type putStmts struct {
	probe, insert1, insertN, unlatest, unfirst *sql.Stmt
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
		unlatest: prep(putUnlatestSQL),
		unfirst:  prep(putUnfirstSQL),
	}
	return err
}

func (p putStmts) close() {
	for _, s := range []*sql.Stmt{p.probe, p.insert1, p.insertN, p.unlatest, p.unfirst} {
		if s != nil {
			s.Close()
		}
	}
}

// idState is what Put knows of the stored versions of one id.
type idState struct {
	n          int
	maxV, minV int64
	latestDA   int64
	versions   map[int64]int64 // version → date_added
}

func (st *idState) add(v, da int64) {
	if st.n == 0 || v > st.maxV {
		st.maxV, st.latestDA = v, da
	}
	if st.n == 0 || v < st.minV {
		st.minV = v
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
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		coll, err := db.collPK(ctx, tx, collectionID)
		if err != nil {
			return err
		}
		res, err = db.putTx(ctx, tx, coll, objs, vers)
		return err
	})
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
	states, err := db.probe(ctx, tx, coll, objs)
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

	added := false
	for i := range objs {
		o := &objs[i]
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
			// An older row of this id may still be pending: write it first.
			if err := flush(); err != nil {
				return nil, fmt.Errorf("object %s: %w", o.ID, err)
			}
			if isLatest {
				if _, err := tx.StmtContext(ctx, db.put.unlatest).ExecContext(ctx, coll, idHash(o.ID), o.ID); err != nil {
					return nil, fmt.Errorf("object %s: %w", o.ID, err)
				}
			}
			if isFirst {
				if _, err := tx.StmtContext(ctx, db.put.unfirst).ExecContext(ctx, coll, idHash(o.ID), o.ID); err != nil {
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
		added = true
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("insert: %w", err)
	}
	if added {
		if _, err := tx.ExecContext(ctx, `UPDATE date_added_clock SET last = ? WHERE id = 1`, last); err != nil {
			return nil, fmt.Errorf("write date_added clock: %w", err)
		}
	}
	return res, nil
}

// probe loads the stored versions of the ids among objs. Rows of other ids
// that share a hash come back too; they are keyed by their own id, so they
// never stand for an object of the batch.
func (db *DB) probe(ctx context.Context, tx *sql.Tx, coll int64, objs []stix.Object) (map[string]*idState, error) {
	hashes := make([]int64, len(objs))
	for i := range objs {
		hashes[i] = idHash(objs[i].ID)
	}
	js, err := json.Marshal(hashes)
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
			id       string
			v, da    int64
			isLatest bool
		)
		if err := rows.Scan(&id, &v, &da, &isLatest); err != nil {
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

// idHash is the 64-bit FNV-1a hash of a STIX id, the key of the id index.
// It must never change: it is stored.
func idHash(id string) int64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return int64(h)
}
