package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/web"
)

func TestUserCreate(t *testing.T) {
	dir := t.TempDir()
	run := func(stdin string, args ...string) result {
		var out, errb bytes.Buffer
		code := Run(t.Context(), args, strings.NewReader(stdin), &out, &errb)
		return result{code: code, stdout: out.String(), stderr: errb.String()}
	}
	tests := []struct {
		name, stdin string
		args        []string
		want        int
		wantErr     string
	}{
		{"from stdin", "a password long enough\n", []string{"--name", "ana", "--role", "analyst", "--password-stdin"}, 0, ""},
		{"random", "", []string{"--name", "vic"}, 0, ""},
		{"taken", "another long password\n", []string{"--name", "ana", "--role", "viewer", "--password-stdin"}, 1, "exists already"},
		{"short password", "short\n", []string{"--name", "bob", "--password-stdin"}, 2, "at least 12"},
		{"no password", "", []string{"--name", "bob", "--password-stdin"}, 2, "no password"},
		{"bad role", "", []string{"--name", "bob", "--role", "root"}, 2, "want admin, analyst or viewer"},
		{"bad name", "", []string{"--name", "b o b"}, 2, "only letters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(tc.stdin, append([]string{"user", "create", "--data", dir}, tc.args...)...)
			if r.code != tc.want || !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("user create %v = %d, stderr %q; want %d with %q", tc.args, r.code, r.stderr, tc.want, tc.wantErr)
			}
		})
	}
	n, err := node.Open(context.Background(), node.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	u, err := n.Store.(store.Users).User(context.Background(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := web.VerifyPassword(u.PasswordHash, "a password long enough"); !ok || err != nil || u.Role != store.RoleAnalyst {
		t.Errorf("ana: role %s, password verifies %v (%v)", u.Role, ok, err)
	}
	if _, err := n.Store.(store.Users).User(context.Background(), "bob"); err == nil {
		t.Error("a refused user was stored")
	}
	r := run("", "user", "list", "--data", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "ana\tanalyst") || !strings.Contains(r.stdout, "vic\tviewer") {
		t.Errorf("user list = %d\n%s", r.code, r.stdout)
	}
}
