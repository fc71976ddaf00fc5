// Package auth authenticates HTTP callers by access token and works out
// what each may do with each collection.
//
// A token is a random secret shown once to its owner; the store keeps only
// its SHA-256 hash (see Hash). A caller presents it as a Bearer token or as
// the password of HTTP Basic authentication with the token's name as user.
// Rights come from the token's role and the store's grants: admin may read
// and write everything; analyst and reader get what the collection's grants
// give to their token name or to "role:analyst" / "role:reader", and a reader
// never writes.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shieldwall/shieldwall/internal/store"
)

// SecretPrefix starts every secret NewSecret makes, so that a leaked token
// is easy to recognise (by people and by secret scanners).
const SecretPrefix = "swt_"

// secretBytes is the entropy of a secret: 256 bits.
const secretBytes = 32

// maxSecretLen bounds what Authenticate will hash and look up.
const maxSecretLen = 512

// NewSecret returns a new random token secret: SecretPrefix followed by 32
// bytes from crypto/rand in unpadded base64url.
func NewSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the SHA-256 of a secret, as stored in store.Token.Hash.
//
// A fast hash is right here, unlike for passwords: a secret from NewSecret
// carries 256 random bits, so nobody can guess it from its hash however many
// hashes per second they try, and a slow hash (bcrypt, argon2) would only
// cost every request CPU time and make the hash unusable as a lookup key.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Errors Authenticate returns; both mean HTTP 401.
var (
	// ErrNoCredentials: the request carries no Authorization header.
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadCredentials: the credentials are malformed, unknown, or the
	// Basic user name is not the token's name.
	ErrBadCredentials = errors.New("invalid credentials")
)

// TokenLookup finds tokens by the hash of their secret.
type TokenLookup interface {
	// TokenByHash returns the token whose secret hashes to h, or an error
	// wrapping store.ErrNotFound when there is none; any other error is a
	// failure of the store.
	TokenByHash(ctx context.Context, h []byte) (store.Token, error)
}

// GrantLookup lists grants.
type GrantLookup interface {
	// Grants returns the grants on one collection (none is not an error).
	Grants(ctx context.Context, collectionID string) ([]store.Grant, error)
}

// Authenticate identifies the caller of r from its Authorization header:
// "Bearer SECRET", or HTTP Basic with the token's name as user and the
// secret as password. It returns the token, or ErrNoCredentials,
// ErrBadCredentials, or (wrapped) a store failure.
func Authenticate(ctx context.Context, r *http.Request, tokens TokenLookup) (store.Token, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return store.Token{}, ErrNoCredentials
	}
	var user, secret string
	basic := false
	scheme, rest, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		secret = strings.TrimSpace(rest)
	case strings.EqualFold(scheme, "Basic"):
		var ok bool
		if user, secret, ok = r.BasicAuth(); !ok {
			return store.Token{}, fmt.Errorf("%w: malformed Basic credentials", ErrBadCredentials)
		}
		basic = true
	default:
		return store.Token{}, fmt.Errorf("%w: unsupported scheme", ErrBadCredentials)
	}
	if secret == "" || len(secret) > maxSecretLen {
		return store.Token{}, fmt.Errorf("%w: empty or oversized secret", ErrBadCredentials)
	}
	sum := Hash(secret)
	// The lookup by hash is not constant time (it is an index search), which
	// leaks nothing useful: the attacker controls the secret, not its hash.
	tok, err := tokens.TokenByHash(ctx, sum)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, fmt.Errorf("%w: unknown token", ErrBadCredentials)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("looking up token: %w", err)
	}
	// Check again in constant time rather than trust how the backend
	// compared (a case-insensitive collation, a prefix match...).
	if subtle.ConstantTimeCompare(tok.Hash, sum) != 1 {
		return store.Token{}, fmt.Errorf("%w: unknown token", ErrBadCredentials)
	}
	if basic && subtle.ConstantTimeCompare([]byte(user), []byte(tok.Name)) != 1 {
		return store.Token{}, fmt.Errorf("%w: user name does not match the token", ErrBadCredentials)
	}
	return tok, nil
}

// Rights is what a caller may do with one collection.
type Rights struct {
	Read  bool
	Write bool
}

// None reports whether r grants nothing; such a collection is hidden.
func (r Rights) None() bool { return !r.Read && !r.Write }

// RolePrincipal returns the principal naming everyone with role, as used in
// store.Grant.Principal ("role:analyst").
func RolePrincipal(role store.Role) string { return "role:" + string(role) }

// RightsFrom works out tok's rights from the grants on one collection.
func RightsFrom(tok store.Token, grants []store.Grant) Rights {
	switch tok.Role {
	case store.RoleAdmin:
		return Rights{Read: true, Write: true}
	case store.RoleAnalyst, store.RoleReader:
	default:
		return Rights{}
	}
	rolePrincipal := RolePrincipal(tok.Role)
	var r Rights
	for _, g := range grants {
		// A token named like a role principal gets only its role's grants.
		if g.Principal == rolePrincipal || g.Principal == tok.Name && !strings.HasPrefix(tok.Name, "role:") {
			r.Read = r.Read || g.Read
			r.Write = r.Write || g.Write
		}
	}
	if tok.Role == store.RoleReader {
		r.Write = false
	}
	return r
}

// RightsOn works out tok's rights on a collection, reading its grants only
// when the role needs them. The error is a store failure, wrapped.
func RightsOn(ctx context.Context, tok store.Token, collectionID string, grants GrantLookup) (Rights, error) {
	switch tok.Role {
	case store.RoleAdmin:
		return Rights{Read: true, Write: true}, nil
	case store.RoleAnalyst, store.RoleReader:
	default:
		return Rights{}, nil
	}
	gs, err := grants.Grants(ctx, collectionID)
	if err != nil {
		return Rights{}, fmt.Errorf("reading grants of collection %s: %w", collectionID, err)
	}
	return RightsFrom(tok, gs), nil
}
