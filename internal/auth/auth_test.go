package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/store"
)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := NewSecret()
		rest, ok := strings.CutPrefix(s, SecretPrefix)
		if !ok {
			t.Fatalf("NewSecret() = %q, want prefix %q", s, SecretPrefix)
		}
		b, err := base64.RawURLEncoding.DecodeString(rest)
		if err != nil || len(b) < 32 {
			t.Fatalf("NewSecret() = %q: %d bytes of base64url, %v; want at least 32", s, len(b), err)
		}
		if seen[s] {
			t.Fatalf("NewSecret() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestHash(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := fmt.Sprintf("%x", Hash("abc")); got != want {
		t.Errorf("Hash(%q) = %s, want %s", "abc", got, want)
	}
}

// tokenMap is a TokenLookup over a map from hex hash to token.
type tokenMap map[string]store.Token

func (m tokenMap) TokenByHash(_ context.Context, h []byte) (store.Token, error) {
	if t, ok := m[fmt.Sprintf("%x", h)]; ok {
		return t, nil
	}
	return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
}

type failingLookup struct{}

func (failingLookup) TokenByHash(context.Context, []byte) (store.Token, error) {
	return store.Token{}, errors.New("disk on fire")
}

func TestAuthenticate(t *testing.T) {
	secret := NewSecret()
	other := NewSecret()
	alice := store.Token{ID: "1", Name: "alice", Role: store.RoleAnalyst, Hash: Hash(secret)}
	tokens := tokenMap{fmt.Sprintf("%x", alice.Hash): alice}

	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name    string
		header  string
		wantErr error // nil means success as alice
	}{
		{"bearer", "Bearer " + secret, nil},
		{"bearer lower case scheme", "bearer " + secret, nil},
		{"basic", basic("alice", secret), nil},
		{"none", "", ErrNoCredentials},
		{"bearer unknown", "Bearer " + other, ErrBadCredentials},
		{"bearer empty", "Bearer ", ErrBadCredentials},
		{"bearer huge", "Bearer " + strings.Repeat("x", 10000), ErrBadCredentials},
		{"basic wrong user", basic("bob", secret), ErrBadCredentials},
		{"basic empty user", basic("", secret), ErrBadCredentials},
		{"basic wrong password", basic("alice", other), ErrBadCredentials},
		{"basic garbage", "Basic !!!", ErrBadCredentials},
		{"digest", "Digest username=alice", ErrBadCredentials},
		{"scheme only", "Bearer", ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/taxii2/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			got, err := Authenticate(context.Background(), r, tokens)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Authenticate(%q) = %+v, %v; want %v", tt.header, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Name != "alice" {
				t.Errorf("Authenticate(%q) = %+v, %v; want alice", tt.header, got, err)
			}
		})
	}

	t.Run("store failure", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/taxii2/", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		_, err := Authenticate(context.Background(), r, failingLookup{})
		if err == nil || errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrNoCredentials) {
			t.Errorf("Authenticate with failing store = %v, want a store error", err)
		}
	})
	t.Run("backend returns another hash", func(t *testing.T) {
		// A sloppy backend matching the wrong row must not let anyone in.
		r := httptest.NewRequest("GET", "/taxii2/", nil)
		r.Header.Set("Authorization", "Bearer "+other)
		sloppy := tokenMap{fmt.Sprintf("%x", Hash(other)): alice}
		if _, err := Authenticate(context.Background(), r, sloppy); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate with mismatching hash = %v, want ErrBadCredentials", err)
		}
	})
}

type grantList []store.Grant

func (g grantList) Grants(_ context.Context, id string) ([]store.Grant, error) {
	var out []store.Grant
	for _, x := range g {
		if x.CollectionID == id {
			out = append(out, x)
		}
	}
	return out, nil
}

func TestRights(t *testing.T) {
	grants := grantList{
		{CollectionID: "c1", Principal: "alice", Read: true, Write: true},
		{CollectionID: "c1", Principal: "rita", Read: true, Write: true}, // rita is a reader: no write
		{CollectionID: "c2", Principal: "role:analyst", Read: true},
		{CollectionID: "c2", Principal: "alice", Write: true},
		{CollectionID: "c3", Principal: "role:reader", Read: true, Write: true},
		{CollectionID: "c4", Principal: "role:analyst", Read: true, Write: true},
	}
	tok := func(name string, role store.Role) store.Token { return store.Token{Name: name, Role: role} }
	tests := []struct {
		tok        store.Token
		collection string
		want       Rights
	}{
		{tok("root", store.RoleAdmin), "c1", Rights{true, true}},
		{tok("root", store.RoleAdmin), "nothing", Rights{true, true}},
		{tok("alice", store.RoleAnalyst), "c1", Rights{true, true}},
		{tok("alice", store.RoleAnalyst), "c2", Rights{true, true}}, // role read + own write
		{tok("bob", store.RoleAnalyst), "c2", Rights{Read: true}},
		{tok("bob", store.RoleAnalyst), "c1", Rights{}},
		{tok("bob", store.RoleAnalyst), "c3", Rights{}}, // role:reader grants are not for analysts
		{tok("rita", store.RoleReader), "c1", Rights{Read: true}},
		{tok("rita", store.RoleReader), "c3", Rights{Read: true}},
		{tok("rita", store.RoleReader), "c4", Rights{}},
		{tok("role:analyst", store.RoleReader), "c4", Rights{}}, // a name is not a role
		{tok("mallory", store.Role("superuser")), "c1", Rights{}},
		{tok("nobody", store.RoleAnalyst), "c1", Rights{}},
	}
	for _, tt := range tests {
		got, err := RightsOn(context.Background(), tt.tok, tt.collection, grants)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("RightsOn(%s/%s, %s) = %+v, want %+v", tt.tok.Name, tt.tok.Role, tt.collection, got, tt.want)
		}
		if got.None() != (!tt.want.Read && !tt.want.Write) {
			t.Errorf("Rights%+v.None() = %v", got, got.None())
		}
	}
}
