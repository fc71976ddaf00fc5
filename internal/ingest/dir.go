package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/shieldwall/shieldwall/internal/event"
)

// dirSource reads every log file under a folder, one after the other.
type dirSource struct {
	files []string
	opts  Options
	cur   Source
	path  string // of cur
}

// OpenDir returns a Source over every regular file under root, in lexical
// order, each read with OpenFile. Hidden files and folders (".name") and
// compressed files are passed over. A file that cannot be opened or whose
// format is unknown gives a *RecordError (Offset -1) and reading goes on
// with the next file.
func OpenDir(root string, opts Options) (Source, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && !skippedExt[strings.ToLower(filepath.Ext(p))] {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: walking %s: %w", root, err)
	}
	return &dirSource{files: files, opts: opts}, nil
}

var skippedExt = map[string]bool{".gz": true, ".bz2": true, ".xz": true, ".zst": true, ".zip": true, ".7z": true, ".yaml": true, ".yml": true, ".md": true}

func (d *dirSource) Next(ctx context.Context) (*event.Event, error) {
	for {
		if d.cur == nil {
			if len(d.files) == 0 {
				return nil, io.EOF
			}
			path := d.files[0]
			d.files = d.files[1:]
			src, err := OpenFile(path, d.opts)
			if err != nil {
				return nil, &RecordError{Source: path, Offset: -1, Err: err}
			}
			d.cur, d.path = src, path
		}
		ev, err := d.cur.Next(ctx)
		if err == io.EOF {
			err = d.cur.Close()
			d.cur = nil
			if err != nil {
				return nil, &RecordError{Source: d.path, Offset: -1, Err: err}
			}
			continue
		}
		if err != nil && !isRecordError(err) && !errors.Is(err, ctx.Err()) {
			// A broken file ends that file, not the folder.
			d.cur.Close()
			d.cur = nil
			return nil, &RecordError{Source: d.path, Offset: -1, Err: err}
		}
		return ev, err
	}
}

func (d *dirSource) Close() error {
	if d.cur != nil {
		return d.cur.Close()
	}
	return nil
}
