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
	good := func() url.Values {
		return url.Values{"name": {"eve"}, "role": {"analyst"}, "password": {"a long enough password"}, "password2": {"a long enough password"}}
	}
	for _, role := range []string{"ana", "vic"} {
		c := f.login(role)
		if status, _, _ := c.get("/users"); status != http.StatusForbidden {
			t.Errorf("%s: GET /users = %d, want 403", role, status)
		}
		if status, _, _ := c.post("/users", good()); status != http.StatusForbidden {
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
	for k, v := range good() {
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

func (f *fixture) hash(name string) string {
	f.t.Helper()
	u, err := f.db.User(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return u.PasswordHash
}

// TestUserPasswordReset: an admin resets a password, which signs the
// user's sessions out; others may not; bad input stores nothing.
func TestUserPasswordReset(t *testing.T) {
	f := newFixture(t)
	const pw = "the new password of vic"
	old := f.hash("vic")
	vic := f.login("vic")
	reset := func() url.Values { return url.Values{"name": {"vic"}, "password": {pw}, "password2": {pw}} }
	for _, role := range []string{"ana", "vic"} {
		if status, _, _ := f.login(role).post("/users/password", reset()); status != http.StatusForbidden {
			t.Errorf("%s: POST /users/password = %d, want 403", role, status)
		}
	}
	ada := f.login("ada")
	if _, body, _ := ada.get("/users"); !strings.Contains(body, `action="/users/password"`) {
		t.Error("the Users page offers no password reset")
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"short", url.Values{"name": {"vic"}, "password": {"short"}, "password2": {"short"}}, http.StatusBadRequest, "at least 12 characters"},
		{"differ", url.Values{"name": {"vic"}, "password": {pw}, "password2": {pw + "x"}}, http.StatusBadRequest, "the two passwords differ"},
		{"unknown user", url.Values{"name": {"nobody"}, "password": {pw}, "password2": {pw}}, http.StatusNotFound, "no such user"},
		{"forged CSRF", url.Values{"csrf": {"x"}, "name": {"vic"}, "password": {pw}, "password2": {pw}}, http.StatusForbidden, "security token"},
	} {
		status, body, _ := ada.post("/users/password", tc.form)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: POST /users/password = %d, want %d with %q", tc.name, status, tc.status, tc.want)
		}
	}
	if f.hash("vic") != old {
		t.Fatal("a refused reset changed vic's password")
	}
	if status, _, _ := vic.get("/"); status != http.StatusOK {
		t.Fatalf("vic is signed out before the reset: %d", status)
	}
	status, _, h := ada.post("/users/password", reset())
	if status != http.StatusSeeOther || h.Get("Location") != "/users?reset=vic" {
		t.Fatalf("POST /users/password = %d (Location %q)", status, h.Get("Location"))
	}
	if ok, _ := VerifyPassword(f.hash("vic"), pw); !ok {
		t.Error("vic's stored hash does not verify the new password")
	}
	if status, _, h := vic.get("/"); status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Errorf("vic's session after the reset: GET / = %d (Location %q), want a redirect to sign in", status, h.Get("Location"))
	}
	if status, _, _ := ada.get("/users"); status != http.StatusOK {
		t.Errorf("the admin who reset another's password was signed out: %d", status)
	}
	c := f.anon()
	c.get("/login")
	if status, _, _ := c.post("/login", url.Values{"name": {"vic"}, "password": {pw}, "next": {"/"}}); status != http.StatusSeeOther {
		t.Errorf("vic signs in with the new password: %d", status)
	}
}

// TestAccountPassword: everyone changes their own password with the
// current one; the other sessions are signed out, this one stays; bad
// input stores nothing.
func TestAccountPassword(t *testing.T) {
	f := newFixture(t)
	const pw = "vic's own new password"
	other := f.login("vic")
	c := f.login("vic")
	status, body, _ := c.get("/account")
	if status != http.StatusOK || !strings.Contains(body, `id="password-form"`) || !strings.Contains(body, `href="/account"`) {
		t.Fatalf("GET /account = %d, want the password form", status)
	}
	old := f.hash("vic")
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"wrong current", url.Values{"current": {"not the password"}, "password": {pw}, "password2": {pw}}, http.StatusBadRequest, "the current password is wrong"},
		{"no current", url.Values{"password": {pw}, "password2": {pw}}, http.StatusBadRequest, "the current password is wrong"},
		{"short", url.Values{"current": {testPassword}, "password": {"short"}, "password2": {"short"}}, http.StatusBadRequest, "at least 12 characters"},
		{"differ", url.Values{"current": {testPassword}, "password": {pw}, "password2": {pw + "x"}}, http.StatusBadRequest, "the two passwords differ"},
		{"forged CSRF", url.Values{"csrf": {"x"}, "current": {testPassword}, "password": {pw}, "password2": {pw}}, http.StatusForbidden, "security token"},
	} {
		status, body, _ := c.post("/account/password", tc.form)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: POST /account/password = %d, want %d with %q", tc.name, status, tc.status, tc.want)
		}
		if f.hash("vic") != old {
			t.Fatalf("%s: the refused form changed the password", tc.name)
		}
	}
	c.get("/account")
	status, _, h := c.post("/account/password", url.Values{"current": {testPassword}, "password": {pw}, "password2": {pw}})
	if status != http.StatusSeeOther || h.Get("Location") != "/account?changed=1" {
		t.Fatalf("POST /account/password = %d (Location %q)", status, h.Get("Location"))
	}
	if status, body, _ := c.get("/account?changed=1"); status != http.StatusOK || !strings.Contains(body, "Your password was changed") {
		t.Errorf("this session after the change: GET /account = %d, want 200 and the notice", status)
	}
	if status, _, _ := other.get("/"); status != http.StatusSeeOther {
		t.Errorf("vic's other session after the change: GET / = %d, want a redirect to sign in", status)
	}
	if ok, _ := VerifyPassword(f.hash("vic"), pw); !ok {
		t.Error("the stored hash does not verify the new password")
	}
	a := f.anon()
	a.get("/login")
	if status, _, _ := a.post("/login", url.Values{"name": {"vic"}, "password": {testPassword}, "next": {"/"}}); status == http.StatusSeeOther {
		t.Error("the old password still signs in")
	}
}
