package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/shieldwall/shieldwall/internal/event"
)

// FollowOptions tune Follow.
type FollowOptions struct {
	Options
	// Poll is how often an idle file is checked for growth, rotation and
	// truncation (250 ms when 0).
	Poll time.Duration
	// Checkpoints, when set, gives the starting position and receives the
	// positions Commit saves. Without it reading starts at the beginning.
	Checkpoints *Checkpoints
}

// Follower reads a log file like `tail -F`: it yields complete lines only
// (a partial last line waits for its newline), keeps going when the file is
// rotated (renamed and replaced: the rest of the old file is read first)
// or truncated in place (copytruncate: reading restarts at 0), and waits for
// the file when it does not exist yet.
//
// Delivery is at least once, exactly once across a clean restart: the
// caller processes each event, then calls Commit, which saves the position
// just past the last event returned; a new Follower on the same path and
// checkpoints resumes there. A Follower is not safe for concurrent use.
type Follower struct {
	path string
	opts FollowOptions

	f        *os.File
	ident    Position // identity of f (its Offset is unused)
	lr       *LineReader
	draining bool // f is a rotated-away file, read to its end before path
	parse    lineParser
	last     Position // just past the last line returned
	saved    Position
}

// Follow starts following path, from its checkpoint when opts.Checkpoints
// holds one for the same file (or for a rotated copy of it next to path,
// such as path.1, whose rest is read first).
func Follow(path string, opts FollowOptions) (*Follower, error) {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	fl := &Follower{path: path, opts: opts}
	if opts.Checkpoints == nil {
		return fl, nil
	}
	pos, ok, err := opts.Checkpoints.Load(path)
	if err != nil || !ok {
		return fl, err
	}
	fl.saved = pos
	candidates := []string{path}
	for _, pat := range []string{path + ".*", path + "-*", path + "_*"} {
		m, _ := filepath.Glob(pat)
		sort.Strings(m)
		candidates = append(candidates, m...)
	}
	for i, c := range candidates {
		f, err := os.Open(c)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err == nil && sameFile(f, fi, pos) {
			if err := fl.use(f, pos.Offset); err != nil {
				return nil, err
			}
			fl.draining = i > 0
			return fl, nil
		}
		f.Close()
	}
	return fl, nil // the checkpointed file is gone: start the current one at 0
}

// use makes f the file being read, from offset off.
func (fl *Follower) use(f *os.File, off int64) error {
	id, _, err := identity(f, fl.path)
	if err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("ingest: %w", err)
	}
	if fl.f != nil {
		fl.f.Close()
	}
	fl.f, fl.ident, fl.parse = f, id, nil
	fl.lr = NewLineReader(headChecker{fl}, fl.path, off, fl.opts.MaxLine)
	fl.last = fl.position()
	if off > 0 {
		fl.parse = fl.parserFromHead()
	}
	return nil
}

func (fl *Follower) position() Position {
	p := fl.ident
	p.Offset = fl.lr.Offset()
	return p
}

// parserFromHead picks the parser from the start of the file when reading
// resumes in its middle, and feeds it the Zeek TSV headers found there.
func (fl *Follower) parserFromHead() lineParser {
	head := make([]byte, 64<<10)
	n, _ := fl.f.ReadAt(head, 0)
	head = head[:n]
	format := fl.opts.Format
	if format == "" {
		format = Sniff(fl.path, head)
	}
	p, err := fl.opts.parser(format, fl.path)
	if err != nil {
		return nil
	}
	if format == FormatZeek {
		sc := bufio.NewScanner(bytes.NewReader(head))
		for sc.Scan() && bytes.HasPrefix(sc.Bytes(), []byte("#")) {
			p.Parse(fl.path, 0, sc.Bytes())
		}
	}
	return p
}

// Next returns the next event of the file, waiting for one; see Source.
// A line whose format cannot be told gives a *RecordError.
func (fl *Follower) Next(ctx context.Context) (*event.Event, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if fl.f == nil {
			f, err := os.Open(fl.path)
			if errors.Is(err, fs.ErrNotExist) {
				if err := sleep(ctx, fl.opts.Poll); err != nil {
					return nil, err
				}
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("ingest: %w", err)
			}
			if err := fl.use(f, 0); err != nil {
				return nil, err
			}
		}
		line, off, err := fl.lr.Next()
		switch {
		case err == nil:
			fl.growIdentity()
			fl.last = fl.position()
			ev, err := fl.parseLine(off, line)
			if ev == nil && err == nil {
				continue
			}
			return ev, err
		case err == errRewritten:
			if err := fl.restart(); err != nil {
				return nil, err
			}
			continue
		case isRecordError(err):
			fl.last = fl.position()
			return nil, err
		case err != io.EOF:
			return nil, fmt.Errorf("ingest: reading %s: %w", fl.path, err)
		}
		switched, err := fl.atEOF()
		if err != nil {
			return nil, err
		}
		if !switched {
			if err := sleep(ctx, fl.opts.Poll); err != nil {
				return nil, err
			}
		}
	}
}

func (fl *Follower) parseLine(off int64, line []byte) (*event.Event, error) {
	if fl.parse == nil {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil, nil
		}
		format := fl.opts.Format
		if format == "" {
			format = Sniff(fl.path, line)
		}
		p, err := fl.opts.parser(format, fl.path)
		if err != nil {
			return nil, &RecordError{Source: fl.path, Offset: off, Err: err}
		}
		fl.parse = p
	}
	return parseLine(fl.parse, fl.path, off, line)
}

// atEOF checks, at the end of the data, for rotation and truncation. It
// reports whether reading switched (so there may be data at once).
func (fl *Follower) atEOF() (bool, error) {
	if fl.draining {
		if fl.lr.Buffered() > 0 && !fl.lr.Final {
			fl.lr.Final = true // the rotated file will not grow: flush its last partial line
			return true, nil
		}
		fl.f.Close()
		fl.f, fl.draining = nil, false
		return true, nil
	}
	cur, err := fl.f.Stat()
	if err != nil {
		return false, fmt.Errorf("ingest: %w", err)
	}
	fi, err := os.Stat(fl.path)
	if err != nil {
		return false, nil // gone for now: keep the old file, wait for a new one
	}
	if !os.SameFile(cur, fi) {
		fl.draining = true // rotated: read what is left of the old file, then switch
		return true, nil
	}
	held := fl.lr.Offset() + int64(fl.lr.Buffered())
	rewritten := false
	if fi.Size() >= int64(fl.ident.HeadLen) {
		h, err := headHash(fl.f, fl.ident.HeadLen)
		rewritten = err == nil && h != fl.ident.Head
	}
	if fi.Size() < held || rewritten {
		// Truncated in place (copytruncate): start over from its beginning.
		return true, fl.restart()
	}
	return false, nil
}

// growIdentity rehashes the head of a file first seen shorter than
// HeadSize once reading passed the bytes hashed, so that a later
// truncate-and-refill is told from growth by the content read.
func (fl *Follower) growIdentity() {
	if fl.ident.HeadLen >= HeadSize || fl.lr.Offset() <= int64(fl.ident.HeadLen) {
		return
	}
	if id, _, err := identity(fl.f, fl.path); err == nil {
		fl.ident = id
	}
}

func (fl *Follower) restart() error {
	if _, err := fl.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	id, _, err := identity(fl.f, fl.path)
	if err != nil {
		return err
	}
	fl.ident, fl.parse = id, nil
	fl.lr.Reset(headChecker{fl}, 0)
	fl.last = fl.position()
	return nil
}

// Position is the position just past the last event Next returned.
func (fl *Follower) Position() Position { return fl.last }

// Commit saves the position just past the last event Next returned, to be
// called once that event (and those before it) were processed. Without
// Checkpoints it does nothing.
func (fl *Follower) Commit() error {
	if fl.opts.Checkpoints == nil || fl.last == fl.saved || fl.last.Head == "" {
		return nil
	}
	if err := fl.opts.Checkpoints.Save(fl.last); err != nil {
		return err
	}
	fl.saved = fl.last
	return nil
}

// Close closes the file; it does not commit.
func (fl *Follower) Close() error {
	if fl.f != nil {
		err := fl.f.Close()
		fl.f = nil
		return err
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errRewritten says the head of the file changed under the reader.
var errRewritten = errors.New("ingest: file rewritten in place")

// headChecker reads the followed file, first checking its head still
// hashes as when it was identified: a file truncated and refilled past the
// read offset between two polls is then read again from 0, not from the
// middle of new data. It costs one 1 KiB pread per buffer fill.
type headChecker struct{ fl *Follower }

func (h headChecker) Read(p []byte) (int, error) {
	id := h.fl.ident
	if id.HeadLen > 0 && !h.fl.draining {
		if sum, err := headHash(h.fl.f, id.HeadLen); err == nil && sum != id.Head {
			return 0, errRewritten
		}
	}
	return h.fl.f.Read(p)
}

var _ Source = (*Follower)(nil)
