// Package sealed writes and reads offline bundles for air gaps, data diodes
// and couriers: a STIX bundle with a manifest, signed with the sender's
// Ed25519 key and encrypted to the recipient's age (X25519) key.
//
// A sealed file is the age encryption of one JSON document:
//
//	{"format":"shieldwall-sealed-bundle/1",
//	 "manifest":"<manifest JSON, as a string>",
//	 "signature":"<base64 Ed25519 signature of the manifest string's bytes>",
//	 "bundle":{...STIX 2.1 bundle...}}
//
// The manifest names sender and recipient, a unique bundle id, when it was
// sealed, and the SHA-256 of the bundle bytes exactly as they appear. Open
// decrypts, checks the format, the recipient, the signature against the
// sender's configured key, the bundle hash and freshness; refusing replays
// is the caller's job (it keeps the ids it has opened), as it owns the
// durable state.
package sealed

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
)

// Format is the version tag of the sealed document.
const Format = "shieldwall-sealed-bundle/1"

// Manifest describes one sealed bundle.
type Manifest struct {
	// ID is unique per sealing (a UUID); receivers refuse an ID twice.
	ID string `json:"id"`
	// From and To are node names; FromIdentity is the sender's STIX identity.
	From         string    `json:"from"`
	FromIdentity string    `json:"from_identity"`
	To           string    `json:"to"`
	Sealed       time.Time `json:"sealed"`
	// Objects counts the bundle's objects; BundleSHA256 is the hex SHA-256
	// of the bundle bytes.
	Objects      int    `json:"objects"`
	BundleSHA256 string `json:"bundle_sha256"`
	// Cursor is the sender's position after this bundle (opaque to the
	// receiver; the sender uses it for "everything since the last bundle").
	Cursor string `json:"cursor,omitempty"`
}

// Errors Open returns (wrapped), so callers can report why a file was refused.
var (
	ErrNotForUs     = errors.New("sealed for another node")
	ErrBadSignature = errors.New("signature does not verify with the sender's key")
	ErrUnknownPeer  = errors.New("sender is not a known peer")
	ErrStale        = errors.New("bundle is too old or from the future")
	ErrCorrupt      = errors.New("bundle is corrupt")
)

type document struct {
	Format    string          `json:"format"`
	Manifest  string          `json:"manifest"`
	Signature string          `json:"signature"`
	Bundle    json.RawMessage `json:"bundle"`
}

// Seal writes bundle (a STIX bundle as JSON) to w, signed with sign and
// encrypted to recipient. m.BundleSHA256 is filled in.
func Seal(w io.Writer, m Manifest, bundle []byte, sign func([]byte) []byte, recipient age.Recipient) error {
	if !json.Valid(bundle) {
		return errors.New("seal: bundle is not JSON")
	}
	sum := sha256.Sum256(bundle)
	m.BundleSHA256 = hex.EncodeToString(sum[:])
	mb, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	doc, err := json.Marshal(document{Format: Format, Manifest: string(mb), Signature: base64.StdEncoding.EncodeToString(sign(mb)), Bundle: bundle})
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	aw, err := age.Encrypt(w, recipient)
	if err != nil {
		return fmt.Errorf("seal: encrypt: %w", err)
	}
	if _, err := aw.Write(doc); err != nil {
		return fmt.Errorf("seal: encrypt: %w", err)
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("seal: encrypt: %w", err)
	}
	return nil
}

// OpenOptions say who we are and whom we trust.
type OpenOptions struct {
	Identity age.Identity // our decryption key
	Self     string       // our node name (the manifest's To)
	// SenderKey returns the configured Ed25519 key of a peer by node name;
	// false when the peer is unknown.
	SenderKey func(from string) (ed25519.PublicKey, bool)
	Now       time.Time
	// MaxAge refuses bundles sealed longer ago (0: 30 days); MaxSkew refuses
	// bundles sealed further in the future (0: 5 minutes).
	MaxAge, MaxSkew time.Duration
	// MaxSize bounds the decrypted document (0: 1 GiB).
	MaxSize int64
}

// Open reads a sealed bundle and returns its verified manifest and bundle.
func Open(r io.Reader, o OpenOptions) (Manifest, []byte, error) {
	if o.MaxAge == 0 {
		o.MaxAge = 30 * 24 * time.Hour
	}
	if o.MaxSkew == 0 {
		o.MaxSkew = 5 * time.Minute
	}
	if o.MaxSize == 0 {
		o.MaxSize = 1 << 30
	}
	ar, err := age.Decrypt(r, o.Identity)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return Manifest{}, nil, fmt.Errorf("open: %w (cannot decrypt with this node's key)", ErrNotForUs)
		}
		return Manifest{}, nil, fmt.Errorf("open: decrypt: %w: %v", ErrCorrupt, err)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(ar, o.MaxSize+1))
	if err != nil {
		return Manifest{}, nil, fmt.Errorf("open: decrypt: %w: %v", ErrCorrupt, err)
	}
	if n > o.MaxSize {
		return Manifest{}, nil, fmt.Errorf("open: %w: larger than %d bytes", ErrCorrupt, o.MaxSize)
	}
	var doc document
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return Manifest{}, nil, fmt.Errorf("open: %w: %v", ErrCorrupt, err)
	}
	if doc.Format != Format {
		return Manifest{}, nil, fmt.Errorf("open: %w: format %q, want %q", ErrCorrupt, doc.Format, Format)
	}
	var m Manifest
	if err := json.Unmarshal([]byte(doc.Manifest), &m); err != nil {
		return Manifest{}, nil, fmt.Errorf("open: %w: manifest: %v", ErrCorrupt, err)
	}
	key, ok := o.SenderKey(m.From)
	if !ok {
		return m, nil, fmt.Errorf("open: %w: %q", ErrUnknownPeer, m.From)
	}
	sig, err := base64.StdEncoding.DecodeString(doc.Signature)
	if err != nil || !ed25519.Verify(key, []byte(doc.Manifest), sig) {
		return m, nil, fmt.Errorf("open: bundle %s from %s: %w", m.ID, m.From, ErrBadSignature)
	}
	if m.To != o.Self {
		return m, nil, fmt.Errorf("open: bundle %s is for %q, this is %q: %w", m.ID, m.To, o.Self, ErrNotForUs)
	}
	sum := sha256.Sum256(doc.Bundle)
	if hex.EncodeToString(sum[:]) != m.BundleSHA256 {
		return m, nil, fmt.Errorf("open: bundle %s: %w: content does not match its signed hash", m.ID, ErrCorrupt)
	}
	if age := o.Now.Sub(m.Sealed); age > o.MaxAge || age < -o.MaxSkew {
		return m, nil, fmt.Errorf("open: bundle %s sealed %s: %w (now %s)", m.ID, m.Sealed.Format(time.RFC3339), ErrStale, o.Now.Format(time.RFC3339))
	}
	return m, doc.Bundle, nil
}
