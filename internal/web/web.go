package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/federation"
	"github.com/shieldwall/shieldwall/internal/store"
)

// Store is what the console needs from the node's backend. Alerts, triage
// and the decision log are optional capabilities, probed at New; a page
// whose source the backend lacks says so.
type Store interface {
	store.Objects
	store.Collections
	store.Users
	Grants(ctx context.Context, collectionID string) ([]store.Grant, error)
}

// RuleInfo describes one loaded detection rule (for the ATT&CK coverage
// and the rule shown beside an alert).
type RuleInfo struct {
	ID, Title, Level, Path string
	Tags                   []string
}

// Options configure the console.
type Options struct {
	Store Store
	// NodeName is shown in the header and as the centre of the federation graph.
	NodeName string
	// IdentityID is the node's STIX identity, the created_by_ref of
	// indicators made here ("" leaves it out).
	IdentityID string
	// DefaultCollection is the alias or id new indicators and imports go to
	// (default "default").
	DefaultCollection string
	// Peers returns the federation's peer states (nil: no federation configured).
	Peers func() []federation.State
	// Backlog counts what waits for each peer by priority class (nil: not
	// counted).
	Backlog func(ctx context.Context) []federation.Backlog
	// Rules returns the detection rules the node has loaded, and false while
	// it runs no detection (nil: never).
	Rules func() ([]RuleInfo, bool)
	// Secure marks cookies Secure (set when the node serves HTTPS).
	Secure bool
	Logger *slog.Logger
	Now    func() time.Time
	// SessionTTL is how long a session lasts (default 12 hours).
	SessionTTL time.Duration
	// EventInterval is how often the live stream checks for news (default 2s).
	EventInterval time.Duration
}

// Server is the console's HTTP handler.
type Server struct {
	o         Options
	triage    store.Triages     // nil when the backend keeps no triage
	alerts    store.Alerts      // nil when it keeps no alerts
	decisions store.DecisionLog // nil when it cannot list decisions
	log       *slog.Logger
	now       func() time.Time
	pages     map[string]*template.Template
	mux       *http.ServeMux
	limiter   *loginLimiter
	cop       *http.CrossOriginProtection
	dummyHash string // verified against when the user is unknown, so timing does not tell
	names     attackNames
}

//go:embed templates
var templateFiles embed.FS

// contentSecurityPolicy allows nothing but this origin: no inline script
// or style, no framing, no foreign form targets.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// New builds the console. It fails when the templates do not parse.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("web: no store")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.EventInterval <= 0 {
		o.EventInterval = 2 * time.Second
	}
	if o.DefaultCollection == "" {
		o.DefaultCollection = "default"
	}
	s := &Server{o: o, log: o.Logger, now: o.Now, limiter: newLoginLimiter(o.Now), cop: http.NewCrossOriginProtection()}
	s.triage, _ = o.Store.(store.Triages)
	s.alerts, _ = o.Store.(store.Alerts)
	s.decisions, _ = o.Store.(store.DecisionLog)
	var err error
	if s.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	s.dummyHash = unmatchableHash()
	if s.o.Rules == nil {
		s.o.Rules = func() ([]RuleInfo, bool) { return nil, false }
	}
	s.routes()
	return s, nil
}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"fmtTime":  fmtTime,
		"levelCls": levelClass,
		"linkCls":  linkClass,
		"bytes":    humanBytes,
		"add":      func(a, b int) int { return a + b },
		"base":     baseName,
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		out[base] = t
	}
	return out, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	st := http.FileServerFS(Static())
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(st)))
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.loginSubmit)
	m.Handle("POST /logout", s.signedIn(store.RoleViewer, s.logout))
	m.Handle("GET /{$}", s.signedIn(store.RoleViewer, s.overview))
	m.Handle("GET /alerts", s.signedIn(store.RoleViewer, s.alertsPage))
	m.Handle("GET /alerts/{id}", s.signedIn(store.RoleViewer, s.alertPage))
	m.Handle("POST /alerts/{id}/triage", s.signedIn(store.RoleAnalyst, s.triageOne))
	m.Handle("POST /alerts/bulk", s.signedIn(store.RoleAnalyst, s.triageBulk))
	m.Handle("GET /intel", s.signedIn(store.RoleViewer, s.intelSearch))
	m.Handle("GET /intel/object", s.signedIn(store.RoleViewer, s.objectPage))
	m.Handle("GET /intel/indicator", s.signedIn(store.RoleAnalyst, s.indicatorForm))
	m.Handle("POST /intel/indicator", s.signedIn(store.RoleAnalyst, s.indicatorSubmit))
	m.Handle("POST /intel/revoke", s.signedIn(store.RoleAnalyst, s.revokeSubmit))
	m.Handle("GET /intel/import", s.signedIn(store.RoleAnalyst, s.importForm))
	m.Handle("POST /intel/import", s.signedIn(store.RoleAnalyst, s.importSubmit))
	m.Handle("GET /attack", s.signedIn(store.RoleViewer, s.attackPage))
	m.Handle("GET /sharing", s.signedIn(store.RoleViewer, s.sharingPage))
	m.Handle("GET /peers", s.signedIn(store.RoleViewer, s.peersPage))
	m.Handle("GET /events", s.signedIn(store.RoleViewer, s.events))
	m.Handle("GET /users", s.signedIn(store.RoleAdmin, s.usersPage))
	m.Handle("POST /users", s.signedIn(store.RoleAdmin, s.userCreate))
	m.Handle("POST /users/password", s.signedIn(store.RoleAdmin, s.userPassword))
	m.Handle("GET /account", s.signedIn(store.RoleViewer, s.accountPage))
	m.Handle("POST /account/password", s.signedIn(store.RoleViewer, s.accountPassword))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "No such page.")
	})
	s.mux = m
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP sets the security headers on every response, refuses
// cross-origin state changes, and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.o.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if err := s.cop.Check(r); err != nil {
		s.fail(w, r, http.StatusForbidden, "Cross-origin request refused.")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Roles are ordered: admin may do what analysts may, analysts what viewers may.
func roleRank(r store.Role) int {
	switch r {
	case store.RoleAdmin:
		return 3
	case store.RoleAnalyst:
		return 2
	case store.RoleViewer:
		return 1
	}
	return 0
}

// ValidRole reports whether r is a console role.
func ValidRole(r store.Role) bool { return roleRank(r) > 0 }

// principal is the token-shaped identity of a user, so that the console
// applies the API's grants: a viewer has a reader's rights.
func principal(u store.User) store.Token {
	role := u.Role
	if role == store.RoleViewer {
		role = store.RoleReader
	}
	return store.Token{Name: "user:" + u.Name, Role: role}
}

type ctxKey struct{}

// reqState is the signed-in user and session of a request.
type reqState struct {
	user    store.User
	session store.Session
}

func current(r *http.Request) *reqState {
	st, _ := r.Context().Value(ctxKey{}).(*reqState)
	return st
}

const sessionCookie = "sw_session"

// signedIn wraps h: the request needs a live session of a user with at
// least role min, and a POST needs the session's CSRF token.
func (s *Server) signedIn(min store.Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := s.session(r)
		if err != nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, http.StatusUnauthorized, "Please sign in.")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		if r.Method == http.MethodPost {
			limit := int64(1 << 20)
			if r.URL.Path == "/intel/import" {
				limit = maxImportBytes
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			tok := r.PostFormValue("csrf")
			if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(st.session.CSRF)) != 1 {
				s.fail(w, r, http.StatusForbidden, "The form's security token is missing or stale: reload the page and try again.")
				return
			}
		}
		if roleRank(st.user.Role) < roleRank(min) {
			s.fail(w, r, http.StatusForbidden, fmt.Sprintf("Your role (%s) may not do this; it needs %s.", st.user.Role, min))
			return
		}
		h(w, r)
	})
}

func hashSessionID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// session finds the request's live session and its user.
func (s *Server) session(r *http.Request) (*reqState, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, errors.New("no session")
	}
	sess, err := s.o.Store.Session(r.Context(), hashSessionID(c.Value))
	if err != nil {
		return nil, err
	}
	if !s.now().Before(sess.Expires) {
		if err := s.o.Store.DeleteSession(r.Context(), sess.IDHash); err != nil {
			s.log.Warn("web: deleting an expired session", "err", err)
		}
		return nil, errors.New("session expired")
	}
	u, err := s.o.Store.User(r.Context(), sess.User)
	if err != nil {
		return nil, err
	}
	return &reqState{user: u, session: sess}, nil
}

func randomToken() string {
	b := make([]byte, 32) // 256 bits
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSession stores a session for u and sets its cookie.
func (s *Server) newSession(ctx context.Context, w http.ResponseWriter, u store.User) error {
	id := randomToken()
	now := s.now()
	sess := store.Session{IDHash: hashSessionID(id), User: u.Name, CSRF: randomToken(), Created: now, Expires: now.Add(s.o.SessionTTL)}
	if err := s.o.Store.CreateSession(ctx, sess); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.o.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.o.SessionTTL.Seconds())})
	return nil
}

// defaultCollection resolves the collection new indicators go to.
func (s *Server) defaultCollection(ctx context.Context) (store.Collection, error) {
	c, err := s.o.Store.Collection(ctx, s.o.DefaultCollection)
	if err != nil {
		return c, fmt.Errorf("default collection %q: %w", s.o.DefaultCollection, err)
	}
	return c, nil
}

// rights works out what the signed-in user may do with a collection, with
// the API's rules (auth.RightsOn).
func (s *Server) rights(ctx context.Context, u store.User, collectionID string) (auth.Rights, error) {
	return auth.RightsOn(ctx, principal(u), collectionID, s.o.Store)
}
