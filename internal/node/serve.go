package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
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
}

// Handler returns the node's HTTP handler: GET /healthz (no authentication;
// it says only that the node is up and its store answers) and TAXII 2.1
// under /taxii2/. It fails on bad options (a malformed public URL).
func (n *Node) Handler(opts ServeOptions) (http.Handler, error) {
	taxii, err := n.taxiiHandler(opts)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", n.healthz)
	mux.Handle("/taxii2/", taxii)
	return mux, nil
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
