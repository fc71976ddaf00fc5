package web

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

// loginLimiter slows password guessing: each user name and each client
// address gets loginBurst failed attempts, refilled one per loginRefill.
type loginLimiter struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

const (
	loginBurst   = 5
	loginRefill  = 12 * time.Second
	limiterLimit = 10000 // keys kept; beyond, the table starts afresh
)

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, m: map[string]*bucket{}}
}

// allowed reports whether key may try now.
func (l *loginLimiter) allowed(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	return b.tokens >= 1
}

// failed spends one attempt of key.
func (l *loginLimiter) failed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	b.tokens = max(b.tokens-1, 0)
}

func (l *loginLimiter) refill(key string) *bucket {
	now := l.now()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= limiterLimit {
			l.m = map[string]*bucket{}
		}
		b = &bucket{tokens: loginBurst, last: now}
		l.m[key] = b
	}
	b.tokens = min(loginBurst, b.tokens+float64(now.Sub(b.last))/float64(loginRefill))
	b.last = now
	return b
}

const loginCSRFCookie = "sw_login"

type loginData struct {
	Name, Next, Token string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if st, err := s.session(r); err == nil && st != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "", "", r.URL.Query().Get("next"))
}

// showLogin renders the form with a fresh double-submit token (there is no
// session yet to bind a CSRF token to).
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, msg, name, next string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.o.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	p := s.newPage(r, "Sign in", "", loginData{Name: name, Next: safeNext(next), Token: tok})
	p.Error = msg
	s.render(w, r, status, "login", p)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, password, next := r.PostFormValue("name"), r.PostFormValue("password"), r.PostFormValue("next")
	c, err := r.Cookie(loginCSRFCookie)
	tok := r.PostFormValue("csrf")
	if err != nil || tok == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(tok)) != 1 {
		s.showLogin(w, r, http.StatusForbidden, "The sign-in form expired: please try again.", name, next)
		return
	}
	if name == "" || password == "" || len(name) > 64 {
		s.showLogin(w, r, http.StatusBadRequest, "Give a user name (at most 64 characters) and a password.", "", next)
		return
	}
	ipKey, userKey := "ip:"+clientIP(r), "user:"+name
	if !s.limiter.allowed(ipKey) || !s.limiter.allowed(userKey) {
		s.showLogin(w, r, http.StatusTooManyRequests, "Too many failed attempts: wait a minute and try again.", name, next)
		return
	}
	u, err := s.o.Store.User(r.Context(), name)
	hash := u.PasswordHash
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.internal(w, r, err)
			return
		}
		hash = s.dummyHash // spend the same time as for a real user
	}
	ok, verr := VerifyPassword(hash, password)
	if verr != nil {
		s.log.Error("web: stored password hash is malformed", "user", name)
	}
	if err != nil || !ok {
		s.limiter.failed(ipKey)
		s.limiter.failed(userKey)
		s.showLogin(w, r, http.StatusUnauthorized, "Wrong user name or password.", name, next)
		return
	}
	if err := s.newSession(r.Context(), w, u); err != nil {
		s.internal(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: "", Path: "/login", MaxAge: -1})
	s.log.Info("console sign-in", "user", u.Name, "role", u.Role, "from", clientIP(r))
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.o.Store.DeleteSession(r.Context(), current(r).session.IDHash); err != nil {
		s.internal(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.o.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
