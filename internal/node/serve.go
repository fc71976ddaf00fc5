package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/federation"
)

// ServeOptions configure the node's HTTP surface.
type ServeOptions struct {
	// PublicURL is the base URL clients reach the node at, used in TAXII
	// discovery; empty means derive it from each request's Host.
	PublicURL string
	// MaxContentLength bounds request bodies (TAXII max_content_length);
	// 0 means 10 MiB.
	MaxContentLength int64
	// TLSCert and TLSKey are PEM files; when both are set the node serves
	// HTTPS (TAXII 2.1 requires TLS between organisations).
	TLSCert, TLSKey string
	// Federation, when set, adds its peer states at GET /api/v1/peers and
	// its metrics at GET /metrics (both need a valid token).
	Federation *federation.Syncer
}

// Handler returns the node's HTTP handler: GET /healthz (no authentication;
// it says only that the node is up and its store answers), TAXII 2.1
// under /taxii2/, and the web console at / (package web). It fails on bad options (a malformed public URL).
func (n *Node) Handler(opts ServeOptions) (http.Handler, error) {
	taxii, err := n.taxiiHandler(opts)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", n.healthz)
	mux.Handle("/taxii2/", taxii)
	reg := prometheus.NewRegistry()
	var backlog *federation.BacklogCounter
	if opts.Federation != nil {
		backlog = federation.NewBacklogCounter(opts.Federation, 0, 0)
		reg.MustRegister(opts.Federation.Collector(), backlog.Collector())
		mux.Handle("GET /api/v1/peers", n.authenticated(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"peers": opts.Federation.States()})
		})))
	}
	mux.Handle("GET /metrics", n.authenticated(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	// The web console answers everything else (see package web).
	console, err := n.console(opts, backlog)
	if err != nil {
		return nil, err
	}
	mux.Handle("/", console)
	// Other methods on the node's own GET endpoints stay 405, not the
	// console's 404.
	mux.HandleFunc("/healthz", methodNotAllowed)
	mux.HandleFunc("/metrics", methodNotAllowed)
	if opts.Federation != nil {
		mux.HandleFunc("/api/v1/peers", methodNotAllowed)
	}
	return mux, nil
}

// authenticated lets through requests with a valid token (any role): peer
// states and metrics say who this node talks to.
func (n *Node) authenticated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := auth.Authenticate(r.Context(), r, n.Store); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="shieldwall", Basic realm="shieldwall"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (n *Node) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := n.Store.Collections(ctx); err != nil {
		n.log.Error("health check: store", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"unavailable"}`)
		return
	}
	fmt.Fprintln(w, `{"status":"ok"}`)
}

// Serve serves the node's Handler on ln until ctx is done, then shuts down
// gracefully. With opts.TLSCert and opts.TLSKey it serves HTTPS.
func (n *Node) Serve(ctx context.Context, ln net.Listener, opts ServeOptions) error {
	h, err := n.Handler(opts)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // large POSTs over slow links
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() {
		if opts.TLSCert != "" && opts.TLSKey != "" {
			srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			errc <- srv.ServeTLS(ln, opts.TLSCert, opts.TLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
