package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// HeadSize is how many first bytes of a file its identity hashes.
const HeadSize = 1024

// Position is where reading of a followed file stands: the file's identity
// and the byte offset just past the last line processed.
type Position struct {
	Path    string `json:"path"`
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	HeadLen int    `json:"head_len"`  // bytes hashed, up to HeadSize
	Head    string `json:"head_hash"` // hex SHA-256 of the first HeadLen bytes
	Offset  int64  `json:"offset"`
}

// Checkpoints persists Positions in a folder, one small JSON file per
// followed path, each written atomically (temporary file, fsync, rename).
type Checkpoints struct {
	dir string
}

// OpenCheckpoints uses dir (created if needed) for checkpoint files.
func OpenCheckpoints(dir string) (*Checkpoints, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ingest: checkpoint dir: %w", err)
	}
	return &Checkpoints{dir: dir}, nil
}

func (c *Checkpoints) file(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:8])+".json")
}

// Load returns the saved position of path; ok is false when there is none.
func (c *Checkpoints) Load(path string) (pos Position, ok bool, err error) {
	data, err := os.ReadFile(c.file(path))
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("ingest: loading checkpoint of %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &pos); err != nil {
		return Position{}, false, fmt.Errorf("ingest: checkpoint of %s: %w", path, err)
	}
	return pos, true, nil
}

// Save stores pos for pos.Path atomically.
func (c *Checkpoints) Save(pos Position) error {
	data, err := json.Marshal(pos)
	if err != nil {
		return err
	}
	dst := c.file(pos.Path)
	tmp, err := os.CreateTemp(c.dir, ".ckpt-*")
	if err != nil {
		return fmt.Errorf("ingest: saving checkpoint: %w", err)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ingest: saving checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ingest: saving checkpoint: %w", err)
	}
	if d, err := os.Open(c.dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// identity reads the identity of an open file: device, inode and the hash of
// its first bytes (up to HeadSize).
func identity(f *os.File, path string) (Position, os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return Position{}, nil, fmt.Errorf("ingest: %w", err)
	}
	dev, ino := devIno(fi)
	n := int(min(fi.Size(), HeadSize))
	head, err := headHash(f, n)
	if err != nil {
		return Position{}, nil, err
	}
	return Position{Path: path, Dev: dev, Ino: ino, HeadLen: n, Head: head}, fi, nil
}

func headHash(f *os.File, n int) (string, error) {
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return "", fmt.Errorf("ingest: reading head of %s: %w", f.Name(), err)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), nil
}

// sameFile reports whether the open file f (with info fi) is the file pos
// was taken in: same device and inode (when known), and the same first
// pos.HeadLen bytes.
func sameFile(f *os.File, fi os.FileInfo, pos Position) bool {
	dev, ino := devIno(fi)
	if (pos.Dev != 0 || pos.Ino != 0) && (dev != pos.Dev || ino != pos.Ino) {
		return false
	}
	if fi.Size() < int64(pos.HeadLen) || fi.Size() < pos.Offset {
		return false
	}
	h, err := headHash(f, pos.HeadLen)
	return err == nil && h == pos.Head
}
