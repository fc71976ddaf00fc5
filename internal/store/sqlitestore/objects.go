package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetime"
)

// Delete removes the versions of one object that vm selects (every version
// for the zero VersionMatch) and re-marks the latest and first of what
// remains. It reports how many records went: 0 when the object exists but no
// version matched. store.ErrNotFound: no such collection, or no version of
// the object in it.
func (db *DB) Delete(ctx context.Context, collectionID, objectID string, vm store.VersionMatch) (int, error) {
	var deleted int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		coll, err := db.collPK(ctx, tx, collectionID)
		if err != nil {
			return err
		}
		// The rows of this object: those whose key is the id's, and whose id
		// is (another id may share the key).
		const rowsOf = `date_added IN (SELECT date_added FROM object_ids WHERE coll = ?1 AND h = ?2) AND id = ?3`
		h := keyHash(objectID)
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM objects WHERE `+rowsOf, coll, h, objectID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("object %q: %w", objectID, store.ErrNotFound)
		}
		q := `DELETE FROM objects WHERE ` + rowsOf
		args := []any{coll, h, objectID}
		if !isZero(vm) {
			cond, cargs := versionCond(vm)
			q += " AND " + cond
			args = append(args, cargs...)
		}
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if deleted, err = r.RowsAffected(); err != nil {
			return err
		}
		if deleted == 0 {
			return nil
		}
		// Drop the keys whose rows went.
		if _, err := tx.ExecContext(ctx, `DELETE FROM object_ids WHERE coll = ?1 AND h = ?2
			AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.date_added = object_ids.date_added)`, coll, h); err != nil {
			return err
		}
		if deleted == n {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE objects SET
			is_latest = (version = (SELECT max(version) FROM objects WHERE `+rowsOf+`)),
			is_first  = (version = (SELECT min(version) FROM objects WHERE `+rowsOf+`))
			WHERE `+rowsOf, coll, h, objectID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete %s from %q: %w", objectID, collectionID, err)
	}
	return int(deleted), nil
}

func isZero(vm store.VersionMatch) bool {
	return !vm.All && !vm.First && !vm.Last && len(vm.Times) == 0
}

// versionCond is the SQL condition selecting the versions vm names: the
// union of its parts. It must not be called with the zero VersionMatch,
// whose meaning depends on the caller.
func versionCond(vm store.VersionMatch) (string, []any) {
	if vm.All {
		return "1", nil
	}
	var parts []string
	var args []any
	if vm.Last {
		parts = append(parts, "is_latest = 1")
	}
	if vm.First {
		parts = append(parts, "is_first = 1")
	}
	var ph []string
	for _, t := range vm.Times {
		if n, ok := storetime.Nanos(t); ok { // a time out of range matches nothing
			ph = append(ph, "?")
			args = append(args, n)
		}
	}
	if len(ph) > 0 {
		parts = append(parts, "version IN ("+strings.Join(ph, ", ")+")")
	}
	if len(parts) == 0 {
		return "0", nil
	}
	if len(parts) == 1 {
		return parts[0], args
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}
