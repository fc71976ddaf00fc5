// Package identity is who a node is: a name, an organisation, a STIX
// identity object that its objects name as created_by_ref, an Ed25519 key
// pair that signs what it sends, and an age (X25519) key pair that sealed
// bundles for it are encrypted to. The keys are created on first start and
// kept in the data directory, readable by the node's user only.
package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// FileName is the identity file inside the data directory.
const FileName = "identity.json"

// Identity is a node's identity with its private keys.
type Identity struct {
	Name string // the node's short name ("fr-cert-hub")
	Org  string // its organisation ("CERT-FR")
	// STIX is the identity object (identity_class "organization", named after
	// Org, with the node's name and public keys as x_shieldwall_* properties).
	STIX       stix.Object
	PublicKey  ed25519.PublicKey
	privateKey ed25519.PrivateKey
	ageID      *age.X25519Identity
}

// file is what identity.json holds.
type file struct {
	Name       string          `json:"name"`
	Org        string          `json:"organisation"`
	STIX       json.RawMessage `json:"stix"`
	Ed25519    string          `json:"ed25519_private_key"` // base64 seed
	AgePrivate string          `json:"age_identity"`        // AGE-SECRET-KEY-1...
}

// LoadOrCreate reads DIR/identity.json, or creates it with new keys when it
// does not exist. name and org must match an existing identity (a node does
// not silently change who it is); they are required to create one.
func LoadOrCreate(dir, name, org string, now time.Time) (*Identity, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return create(path, name, org, now)
	}
	if err != nil {
		return nil, fmt.Errorf("read identity: %w", err)
	}
	id, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", path, err)
	}
	if (name != "" && name != id.Name) || (org != "" && org != id.Org) {
		return nil, fmt.Errorf("identity %s is node %q of %q, not %q of %q; a node keeps its identity (move the file away to make a new one)", path, id.Name, id.Org, name, org)
	}
	return id, nil
}

// Load reads an existing identity.
func Load(dir string) (*Identity, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("read identity: %w", err)
	}
	return parse(b)
}

func create(path, name, org string, now time.Time) (*Identity, error) {
	if name == "" || org == "" {
		return nil, errors.New("a new node needs a name and an organisation (node.name and node.organisation in the configuration)")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make signing key: %w", err)
	}
	ageID, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("make encryption key: %w", err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	ts := stix.FormatTime(now.UTC(), 3)
	obj := map[string]any{
		"type": "identity", "spec_version": "2.1", "id": stix.NewID("identity"),
		"created": ts, "modified": ts,
		"name": org, "identity_class": "organization",
		"x_shieldwall_node":    name,
		"x_shieldwall_ed25519": base64.StdEncoding.EncodeToString(pub),
		"x_shieldwall_age":     ageID.Recipient().String(),
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	f := file{Name: name, Org: org, STIX: raw, Ed25519: base64.StdEncoding.EncodeToString(priv.Seed()), AgePrivate: ageID.String()}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create identity: %w", err)
	}
	// O_EXCL: two processes starting at once must not each make an identity.
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create identity: %w", err)
	}
	if _, err := fh.Write(append(b, '\n')); err != nil {
		fh.Close()
		os.Remove(path)
		return nil, fmt.Errorf("write identity: %w", err)
	}
	if err := fh.Close(); err != nil {
		return nil, fmt.Errorf("write identity: %w", err)
	}
	return parse(b)
}

func parse(b []byte) (*Identity, error) {
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.DecodeString(f.Ed25519)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("bad ed25519_private_key")
	}
	ageID, err := age.ParseX25519Identity(f.AgePrivate)
	if err != nil {
		return nil, fmt.Errorf("bad age_identity: %w", err)
	}
	obj, _, err := stix.Decode(f.STIX)
	if err != nil {
		return nil, fmt.Errorf("bad stix identity: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Identity{Name: f.Name, Org: f.Org, STIX: obj, PublicKey: priv.Public().(ed25519.PublicKey), privateKey: priv, ageID: ageID}, nil
}

// ID is the STIX identity id (for created_by_ref and where_sighted_refs).
func (id *Identity) ID() string { return id.STIX.ID }

// Sign signs msg with the node's Ed25519 key.
func (id *Identity) Sign(msg []byte) []byte { return ed25519.Sign(id.privateKey, msg) }

// AgeIdentity decrypts what is sealed for this node.
func (id *Identity) AgeIdentity() age.Identity { return id.ageID }

// AgeRecipient is what others seal to for this node ("age1...").
func (id *Identity) AgeRecipient() string { return id.ageID.Recipient().String() }

// PublicKeyString is the Ed25519 public key as peers configure it
// ("ed25519:BASE64").
func (id *Identity) PublicKeyString() string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(id.PublicKey)
}

// ParsePublicKey reads "ed25519:BASE64".
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(s, "ed25519:")
	if !ok {
		return nil, fmt.Errorf("public key %q: want ed25519:BASE64", s)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %q: not a base64 Ed25519 key", s)
	}
	return ed25519.PublicKey(b), nil
}
