package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password hashing parameters: argon2id with OWASP's recommended minimum
// (19 MiB, two passes, one lane), a 16-byte random salt and a 32-byte key.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
	// MinPasswordLen and MaxPasswordLen bound accepted passwords (the upper
	// bound keeps hashing cheap to refuse).
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// HashPassword returns the argon2id hash of password in PHC form:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$KEY (unpadded base64).
func HashPassword(password string) (string, error) {
	if err := CheckPasswordPolicy(password); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt) // never fails
	return encodeHash(salt, argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)), nil
}

// unmatchableHash is a well-formed hash with today's parameters and a
// random key that no password derives: verifying against it costs what
// verifying a real user's password costs, without an argon2 run to make it.
func unmatchableHash() string {
	salt, key := make([]byte, argonSaltLen), make([]byte, argonKeyLen)
	rand.Read(salt)
	rand.Read(key)
	return encodeHash(salt, key)
}

func encodeHash(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPasswordPolicy says why a new password is refused, or nil.
func CheckPasswordPolicy(password string) error {
	switch {
	case len(password) < MinPasswordLen:
		return fmt.Errorf("the password must have at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("the password must have at most %d characters", MaxPasswordLen)
	}
	return nil
}

var errBadHash = errors.New("malformed password hash")

// VerifyPassword reports whether password matches an encoded hash from
// HashPassword; the comparison is constant-time. An error means the stored
// hash itself is malformed.
func VerifyPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<22 || t == 0 || t > 16 || p == 0 {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, errBadHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return false, errBadHash
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}
