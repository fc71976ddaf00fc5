package web

import (
	"context"
	"errors"
	"fmt"

	"github.com/shieldwall/shieldwall/internal/store"
)

// CheckUserName says why a user name is refused, or nil: 1 to 64 letters,
// digits and . _ - @.
func CheckUserName(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a user name has 1 to 64 characters")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			return fmt.Errorf("user name %q: only letters, digits and . _ - @ are allowed", name)
		}
	}
	return nil
}

// CreateUser makes a console account with an argon2id hash of password.
// It fails with a message fit for the user on a bad name, role or password,
// and wraps store.ErrConflict when the name is taken.
func CreateUser(ctx context.Context, users store.Users, name string, role store.Role, password string) error {
	if err := CheckUserName(name); err != nil {
		return err
	}
	if !ValidRole(role) {
		return fmt.Errorf("unknown role %q (want admin, analyst or viewer)", role)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := users.CreateUser(ctx, store.User{Name: name, Role: role, PasswordHash: hash}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("a user named %q exists already (%w)", name, store.ErrConflict)
		}
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}
