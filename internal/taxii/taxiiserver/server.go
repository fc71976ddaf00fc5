// Package taxiiserver serves TAXII 2.1 over HTTP from a store: discovery,
// one API root ("root"), its collections, their objects, manifests and
// versions, and the status of each POST. Every endpoint authenticates its
// caller with internal/auth and answers failures with TAXII error bodies.
//
// It declares the narrow store interfaces it needs and receives them, with
// the logger, clock and limits, in Options; it keeps no global state.
package taxiiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// Paths the server answers; everything lives under Prefix.
const (
	// Prefix is where discovery lives; the server mounts nothing outside it.
	Prefix = "/taxii2/"
	// APIRootPath is the only API root.
	APIRootPath = Prefix + "root/"
)

// Defaults for zero Options fields.
const (
	DefaultMaxContentLength = 10 << 20 // 10 MiB
	DefaultMaxPageSize      = 1000
	DefaultTitle            = "Shieldwall TAXII 2.1 server"
)

// CollectionLookup finds collections.
type CollectionLookup interface {
	// Collections lists every collection; an error is a store failure.
	Collections(ctx context.Context) ([]store.Collection, error)
	// Collection finds one by id or alias; an error wrapping
	// store.ErrNotFound when none matches, any other is a store failure.
	Collection(ctx context.Context, idOrAlias string) (store.Collection, error)
}

// Options configures a Server. Objects, Collections, Statuses, Tokens and
// Grants are required (one store.Backend fits them all); the rest have
// defaults.
type Options struct {
	Objects     store.Objects
	Collections CollectionLookup
	Statuses    store.Statuses
	Tokens      auth.TokenLookup
	Grants      auth.GrantLookup

	// Logger receives internal errors (never sent to clients); default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock of status request timestamps; default time.Now.
	Now func() time.Time

	// MaxContentLength bounds request bodies, in bytes (default 10 MiB); it
	// is advertised as the API root's max_content_length.
	MaxContentLength int64
	// MaxPageSize caps the objects, manifest records or versions of one
	// response (default 1000); a larger limit gets a page this size.
	MaxPageSize int

	// Title, Description and Contact describe the server in discovery;
	// the API root has the same title and description.
	Title       string
	Description string
	Contact     string
	// Held, when set, says which objects of a POST into a collection this
	// node already held from another source than the caller (for a
	// federation peer's inbox: in the collection its objects move to, with
	// another origin). The answer to the POST lists them as successes with
	// taxii.MessageHeldElsewhere, so a relaying sender can stop sending
	// this node what it gets elsewhere. It tells the caller only about
	// objects the caller itself sent.
	Held func(ctx context.Context, collectionID string, objs []stix.Object) ([]bool, error)

	// PublicURL is the scheme and host clients reach the server at
	// ("https://taxii.example.org"), used for the absolute URLs of
	// discovery. Empty means "http(s)://" + the request's Host.
	PublicURL string
}

// Server is the TAXII 2.1 http.Handler.
type Server struct {
	opts      Options
	log       *slog.Logger
	publicURL *url.URL // nil: from each request
	mux       *http.ServeMux
	handler   http.Handler // serve behind Compress
}

// New checks opts, fills in defaults and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Objects == nil || opts.Collections == nil || opts.Statuses == nil || opts.Tokens == nil || opts.Grants == nil {
		return nil, errors.New("taxiiserver: Objects, Collections, Statuses, Tokens and Grants are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxContentLength <= 0 {
		opts.MaxContentLength = DefaultMaxContentLength
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = DefaultMaxPageSize
	}
	if opts.Title == "" {
		opts.Title = DefaultTitle
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if opts.PublicURL != "" {
		u, err := url.Parse(strings.TrimSuffix(opts.PublicURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("taxiiserver: PublicURL %q is not an http(s) URL", opts.PublicURL)
		}
		s.publicURL = u
	}
	s.routes()
	s.handler = Compress(http.HandlerFunc(s.serve), opts.MaxContentLength)
	return s, nil
}

// routes registers every endpoint. GET patterns also answer HEAD.
func (s *Server) routes() {
	const coll = APIRootPath + "collections/{collection}/"
	s.handle("GET "+Prefix+"{$}", s.discovery)
	s.handle("GET "+APIRootPath+"{$}", s.apiRoot)
	s.handle("GET "+APIRootPath+"status/{status}/{$}", s.status)
	s.handle("GET "+APIRootPath+"collections/{$}", s.collections)
	s.handle("GET "+coll+"{$}", s.collection)
	s.handle("GET "+coll+"objects/{$}", s.getObjects)
	s.handle("POST "+coll+"objects/{$}", s.postObjects)
	s.handle("GET "+coll+"objects/{object}/{$}", s.getObject)
	s.handle("DELETE "+coll+"objects/{object}/{$}", s.deleteObject)
	s.handle("GET "+coll+"objects/{object}/versions/{$}", s.versions)
	s.handle("GET "+coll+"manifest/{$}", s.manifest)
}

// handlerFunc is an endpoint: it writes a response, or returns an error
// that ServeHTTP translates into a TAXII error once.
type handlerFunc func(w http.ResponseWriter, r *http.Request, caller store.Token) error

type callerKey struct{}

func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		caller, _ := r.Context().Value(callerKey{}).(store.Token)
		if err := h(w, r, caller); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// serve authenticates the caller, routes the request (answering unknown
// paths and methods with TAXII errors), checks that the client accepts
// TAXII 2.1 and runs the endpoint.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, Prefix) {
		s.writeError(w, r, errNotFound("no such endpoint"))
		return
	}
	caller, err := auth.Authenticate(r.Context(), r, s.opts.Tokens)
	if err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			// Worth an audit line: guessing tokens shows up here.
			s.log.WarnContext(r.Context(), "taxii authentication failed", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
		}
		if errors.Is(err, auth.ErrNoCredentials) || errors.Is(err, auth.ErrBadCredentials) {
			err = &httpError{status: http.StatusUnauthorized, title: "Authentication required",
				desc: "present a token as Bearer, or as the HTTP Basic password with the token's name as user", err: err}
		}
		s.writeError(w, r, err)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.writeError(w, r, s.routeError(r))
		return
	}
	if !acceptsTAXII(r.Header.Values("Accept")) {
		s.writeError(w, r, &httpError{status: http.StatusNotAcceptable, title: "Not acceptable",
			desc: "this server answers only " + taxii.MediaType})
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
}

// routeError tells a path the mux does not know (404) from a method it does
// not serve there (405, with the Allow header the mux works out).
func (s *Server) routeError(r *http.Request) error {
	h, _ := s.mux.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		return &httpError{status: http.StatusMethodNotAllowed, title: "Method not allowed",
			desc: r.Method + " is not supported here", allow: rec.header.Get("Allow")}
	}
	return errNotFound("no such endpoint")
}

// headerRecorder keeps the status and headers of the mux's own 404 and 405
// answers and drops their plain-text bodies.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int)      { h.status = status }

// baseURL is the scheme and host of the absolute URLs the server gives out.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != nil {
		return s.publicURL.String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
