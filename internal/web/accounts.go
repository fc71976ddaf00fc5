package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shieldwall/shieldwall/internal/store"
)

// usersData is the admins' page of console accounts.
type usersData struct {
	Users []store.User
	// CanReset: the store can change a user's password.
	CanReset bool
	Roles    []store.Role
	// The create form as submitted (kept on a refused form, never the
	// password).
	Name string
	Role store.Role
}

var consoleRoles = []store.Role{store.RoleViewer, store.RoleAnalyst, store.RoleAdmin}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	d := &usersData{Roles: consoleRoles, Role: store.RoleViewer}
	pg := s.newPage(r, "Users", "users", d)
	q := r.URL.Query()
	if name := q.Get("created"); name != "" && CheckUserName(name) == nil {
		pg.Notice = fmt.Sprintf("User %s created.", name)
	}
	if name := q.Get("reset"); name != "" && CheckUserName(name) == nil {
		pg.Notice = fmt.Sprintf("The password of %s was reset; their sessions were signed out.", name)
	}
	s.renderUsers(w, r, http.StatusOK, pg)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, pg page) {
	us, err := s.o.Store.Users(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	d := pg.Data.(*usersData)
	d.Users = us
	_, d.CanReset = s.o.Store.(store.UserAdmin)
	s.render(w, r, status, "users", pg)
}

// userCreate makes a console account from the admins' form: a name, a
// role and a password typed twice. A refused form stores nothing.
func (s *Server) userCreate(w http.ResponseWriter, r *http.Request) {
	d := &usersData{Roles: consoleRoles, Name: strings.TrimSpace(r.PostFormValue("name")), Role: store.Role(r.PostFormValue("role"))}
	pw, pw2 := r.PostFormValue("password"), r.PostFormValue("password2")
	var errs []string
	if err := CheckUserName(d.Name); err != nil {
		errs = append(errs, err.Error())
	}
	if !ValidRole(d.Role) {
		errs = append(errs, fmt.Sprintf("role %q: want viewer, analyst or admin", d.Role))
		d.Role = store.RoleViewer
	}
	if err := CheckPasswordPolicy(pw); err != nil {
		errs = append(errs, err.Error())
	} else if pw != pw2 {
		errs = append(errs, "the two passwords differ")
	}
	pg := s.newPage(r, "Users", "users", d)
	if len(errs) == 0 {
		err := CreateUser(r.Context(), s.o.Store, d.Name, d.Role, pw)
		switch {
		case err == nil:
			s.log.Info("console: user created", "by", current(r).user.Name, "user", d.Name, "role", d.Role)
			http.Redirect(w, r, "/users?created="+urlQueryEscape(d.Name), http.StatusSeeOther)
			return
		case errors.Is(err, store.ErrConflict):
			pg.Error = "Nothing was stored: " + err.Error() + "."
			s.renderUsers(w, r, http.StatusConflict, pg)
			return
		default:
			s.internal(w, r, err)
			return
		}
	}
	pg.Error = "Nothing was stored: " + strings.Join(errs, "; ") + "."
	s.renderUsers(w, r, http.StatusBadRequest, pg)
}

// newPassword checks a password typed twice.
func newPassword(pw, pw2 string) error {
	if err := CheckPasswordPolicy(pw); err != nil {
		return err
	}
	if pw != pw2 {
		return errors.New("the two passwords differ")
	}
	return nil
}

// setPassword hashes and stores a user's new password, which ends the
// user's sessions; when the user is the one signed in, a new session
// keeps them signed in.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, ua store.UserAdmin, name, pw string) error {
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	if err := ua.SetPassword(r.Context(), name, hash); err != nil {
		return err
	}
	if me := current(r).user; me.Name == name {
		return s.newSession(r.Context(), w, me)
	}
	return nil
}

// userPassword is an admin's reset of a user's password.
func (s *Server) userPassword(w http.ResponseWriter, r *http.Request) {
	ua, ok := s.o.Store.(store.UserAdmin)
	if !ok {
		s.fail(w, r, http.StatusNotImplemented, "This node's store cannot change users.")
		return
	}
	name := r.PostFormValue("name")
	d := &usersData{Roles: consoleRoles, Role: store.RoleViewer}
	pg := s.newPage(r, "Users", "users", d)
	if err := newPassword(r.PostFormValue("password"), r.PostFormValue("password2")); err != nil {
		pg.Error = fmt.Sprintf("Nothing was stored: %s.", err)
		s.renderUsers(w, r, http.StatusBadRequest, pg)
		return
	}
	if _, err := s.o.Store.User(r.Context(), name); err != nil {
		pg.Error = "Nothing was stored: no such user."
		s.renderUsers(w, r, http.StatusNotFound, pg)
		return
	}
	if err := s.setPassword(w, r, ua, name, r.PostFormValue("password")); err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("console: password reset", "by", current(r).user.Name, "user", name)
	http.Redirect(w, r, "/users?reset="+urlQueryEscape(name), http.StatusSeeOther)
}

type accountData struct {
	CanChange bool
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	_, ok := s.o.Store.(store.UserAdmin)
	pg := s.newPage(r, "Your account", "", &accountData{CanChange: ok})
	if r.URL.Query().Get("changed") == "1" {
		pg.Notice = "Your password was changed; your other sessions were signed out."
	}
	s.render(w, r, http.StatusOK, "account", pg)
}

// accountPassword changes the signed-in user's own password: the current
// one, then the new one twice.
func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	ua, ok := s.o.Store.(store.UserAdmin)
	if !ok {
		s.fail(w, r, http.StatusNotImplemented, "This node's store cannot change users.")
		return
	}
	me := current(r).user
	pg := s.newPage(r, "Your account", "", &accountData{CanChange: true})
	if !s.limiter.allowed("user:" + me.Name) {
		pg.Error = "Too many attempts; wait a minute and try again. Nothing was stored."
		s.render(w, r, http.StatusTooManyRequests, "account", pg)
		return
	}
	if okPW, err := VerifyPassword(me.PasswordHash, r.PostFormValue("current")); err != nil || !okPW {
		s.limiter.failed("user:" + me.Name)
		pg.Error = "Nothing was stored: the current password is wrong."
		s.render(w, r, http.StatusBadRequest, "account", pg)
		return
	}
	if err := newPassword(r.PostFormValue("password"), r.PostFormValue("password2")); err != nil {
		pg.Error = fmt.Sprintf("Nothing was stored: %s.", err)
		s.render(w, r, http.StatusBadRequest, "account", pg)
		return
	}
	if err := s.setPassword(w, r, ua, me.Name, r.PostFormValue("password")); err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("console: password changed", "user", me.Name)
	http.Redirect(w, r, "/account?changed=1", http.StatusSeeOther)
}
