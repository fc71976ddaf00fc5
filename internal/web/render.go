package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shieldwall/shieldwall/internal/federation"
	"github.com/shieldwall/shieldwall/internal/store"
)

// page is what every template gets.
type page struct {
	Title   string
	Nav     string // the menu entry to highlight
	User    store.User
	CanEdit bool // analyst or admin
	CSRF    string
	Node    string
	Error   string // a message about the request, shown on top
	Notice  string
	Data    any
}

func (s *Server) newPage(r *http.Request, title, nav string, data any) page {
	p := page{Title: title, Nav: nav, Node: s.o.NodeName, Data: data}
	if st := current(r); st != nil {
		p.User, p.CSRF = st.user, st.session.CSRF
		p.CanEdit = roleRank(st.user.Role) >= roleRank(store.RoleAnalyst)
	}
	return p
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page template into a buffer first, so a template error
// gives a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("web: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.ExecuteTemplate(buf, "layout.html", p); err != nil {
		s.log.Error("web: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers with an error page (or plain text for the event stream).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.Header.Get("Accept") == "text/event-stream" {
		http.Error(w, msg, status)
		return
	}
	p := s.newPage(r, http.StatusText(status), "", nil)
	p.Error = msg
	s.render(w, r, status, "error", p)
}

// internal logs err and answers 500 without its details.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("web: request failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong on the node; the error is in its log.")
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func urlPathEscape(s string) string { return url.PathEscape(s) }

// baseName is the last element of a path (for long log file names).
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 && i < len(p)-1 {
		return p[i+1:]
	}
	return p
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func levelClass(level string) string {
	switch level {
	case "critical", "high", "medium", "low", "informational":
		return "lvl-" + level
	}
	return "lvl-unknown"
}

func linkClass(link string) string {
	switch link {
	case federation.LinkConnected, federation.LinkDegraded, federation.LinkCut:
		return "link-" + link
	}
	return "link-unknown"
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// safeNext keeps a post-login redirect on this site: a path, not a URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
