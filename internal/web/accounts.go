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
	Roles []store.Role
	// The create form as submitted (kept on a refused form, never the
	// password).
	Name string
	Role store.Role
}

var consoleRoles = []store.Role{store.RoleViewer, store.RoleAnalyst, store.RoleAdmin}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	d := &usersData{Roles: consoleRoles, Role: store.RoleViewer}
	pg := s.newPage(r, "Users", "users", d)
	if name := r.URL.Query().Get("created"); name != "" && CheckUserName(name) == nil {
		pg.Notice = fmt.Sprintf("User %s created.", name)
	}
	s.renderUsers(w, r, http.StatusOK, pg)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, pg page) {
	us, err := s.o.Store.Users(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	pg.Data.(*usersData).Users = us
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
