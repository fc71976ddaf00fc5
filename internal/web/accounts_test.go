package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/store"
)

func (f *fixture) userNames() []string {
	f.t.Helper()
	us, err := f.db.Users(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, u := range us {
		out = append(out, u.Name+":"+string(u.Role))
	}
	return out
}

// TestUsersPageRights: only admins see and use the Users page; an analyst
// or a viewer is refused, and what they post stores nothing.
func TestUsersPageRights(t *testing.T) {
	f := newFixture(t)
	before := strings.Join(f.userNames(), " ")
	good := url.Values{"name": {"eve"}, "role": {"analyst"}, "password": {"a long enough password"}, "password2": {"a long enough password"}}
	for _, role := range []string{"ana", "vic"} {
		c := f.login(role)
		if status, _, _ := c.get("/users"); status != http.StatusForbidden {
			t.Errorf("%s: GET /users = %d, want 403", role, status)
		}
		if status, _, _ := c.post("/users", good); status != http.StatusForbidden {
			t.Errorf("%s: POST /users = %d, want 403", role, status)
		}
		if _, body, _ := c.get("/"); strings.Contains(body, `href="/users"`) {
			t.Errorf("%s is offered the Users page in the menu", role)
		}
	}
	if after := strings.Join(f.userNames(), " "); after != before {
		t.Fatalf("users after refused posts = %s, want %s", after, before)
	}
	c := f.login("ada")
	status, body, _ := c.get("/users")
	if status != http.StatusOK {
		t.Fatalf("admin: GET /users = %d", status)
	}
	for _, w := range []string{`data-user="ada"`, `data-user="ana"`, `data-user="vic"`, `id="user-form"`, `href="/users"`} {
		if !strings.Contains(body, w) {
			t.Errorf("admin: the Users page lacks %s", w)
		}
	}
	// Without the session's CSRF token: refused, nothing stored.
	noCSRF := url.Values{"csrf": {"forged"}}
	for k, v := range good {
		noCSRF[k] = v
	}
	if status, _, _ := c.post("/users", noCSRF); status != http.StatusForbidden {
		t.Errorf("POST /users with a forged CSRF token = %d, want 403", status)
	}
	if after := strings.Join(f.userNames(), " "); after != before {
		t.Fatalf("users after a forged post = %s, want %s", after, before)
	}
}

// TestUserCreate: an admin creates a user with a role; its password is
// kept as argon2id and signs in; every bad field is refused with a message
// and stores nothing.
func TestUserCreate(t *testing.T) {
	f := newFixture(t)
	c := f.login("ada")
	c.get("/users")
	before := strings.Join(f.userNames(), " ")
	form := func(name, role, pw, pw2 string) url.Values {
		return url.Values{"name": {name}, "role": {role}, "password": {pw}, "password2": {pw2}}
	}
	const pw = "a long enough password"
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"empty name", form("", "analyst", pw, pw), http.StatusBadRequest, "a user name has 1 to 64 characters"},
		{"bad name", form("eve<script>", "analyst", pw, pw), http.StatusBadRequest, "only letters, digits"},
		{"long name", form(strings.Repeat("e", 65), "analyst", pw, pw), http.StatusBadRequest, "1 to 64 characters"},
		{"bad role", form("eve", "root", pw, pw), http.StatusBadRequest, `role &#34;root&#34;: want viewer, analyst or admin`},
		{"token role is not a console role", form("eve", "reader", pw, pw), http.StatusBadRequest, "want viewer, analyst or admin"},
		{"short password", form("eve", "analyst", "short", "short"), http.StatusBadRequest, "at least 12 characters"},
		{"passwords differ", form("eve", "analyst", pw, pw+"!"), http.StatusBadRequest, "the two passwords differ"},
		{"name taken", form("ana", "viewer", pw, pw), http.StatusConflict, "exists already"},
	} {
		status, body, _ := c.post("/users", tc.form)
		if status != tc.status || !strings.Contains(body, "Nothing was stored") || !strings.Contains(body, tc.want) {
			t.Errorf("%s: POST /users = %d, want %d with %q", tc.name, status, tc.status, tc.want)
		}
		if strings.Contains(body, pw) {
			t.Errorf("%s: the refused form echoes the password", tc.name)
		}
		if after := strings.Join(f.userNames(), " "); after != before {
			t.Fatalf("%s: users = %s, want %s (nothing stored)", tc.name, after, before)
		}
	}
	status, _, h := c.post("/users", form("eve", "analyst", pw, pw))
	if status != http.StatusSeeOther || h.Get("Location") != "/users?created=eve" {
		t.Fatalf("POST /users = %d (Location %q), want 303 to /users?created=eve", status, h.Get("Location"))
	}
	if _, body, _ := c.get("/users?created=eve"); !strings.Contains(body, "User eve created.") || !strings.Contains(body, `data-user="eve"`) {
		t.Error("the Users page does not show the new user")
	}
	u, err := f.db.User(context.Background(), "eve")
	if err != nil || u.Role != store.RoleAnalyst || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("stored user = %+v, %v; want an analyst with an argon2id hash", u, err)
	}
	if ok, err := VerifyPassword(u.PasswordHash, pw); !ok || err != nil {
		t.Errorf("the stored hash does not verify the password: %v", err)
	}
	// The new user signs in, with the rights of the role.
	e := f.anon()
	e.get("/login")
	if status, _, h := e.post("/login", url.Values{"name": {"eve"}, "password": {pw}, "next": {"/alerts"}}); status != http.StatusSeeOther || h.Get("Location") != "/alerts" {
		t.Fatalf("eve signs in: %d %q", status, h.Get("Location"))
	}
	if status, _, _ := e.get("/users"); status != http.StatusForbidden {
		t.Errorf("the new analyst: GET /users = %d, want 403", status)
	}
}
