package cli

import (
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/node"
)

func nodeCmd(e *env) *cobra.Command {
	var dataDir, listen string
	var opts node.ServeOptions
	c := &cobra.Command{
		Use:   "node --data DIR --listen HOST:PORT",
		Short: "Run a node: TAXII 2.1 at /taxii2/, health at /healthz",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			if (opts.TLSCert == "") != (opts.TLSKey == "") {
				return usageError{fmt.Errorf("--tls-cert and --tls-key go together")}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			scheme := "http"
			if opts.TLSCert != "" {
				scheme = "https"
			}
			e.log.Info("node serving", "data", dataDir, "taxii", scheme+"://"+ln.Addr().String()+"/taxii2/", "health", scheme+"://"+ln.Addr().String()+"/healthz")
			return n.Serve(ctx, ln, opts)
		},
	}
	c.Flags().StringVar(&dataDir, "data", "", "data directory (created if missing)")
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:9440", "address to listen on")
	c.Flags().StringVar(&opts.PublicURL, "public-url", "", "base URL announced in TAXII discovery (default: from the request)")
	c.Flags().Int64Var(&opts.MaxContentLength, "max-content-length", 0, "largest request body accepted, in bytes (default 10 MiB)")
	c.Flags().StringVar(&opts.TLSCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
	c.Flags().StringVar(&opts.TLSKey, "tls-key", "", "PEM private key file for --tls-cert")
	_ = c.MarkFlagRequired("data")
	return c
}
