package cli

import (
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/node"
)

func nodeCmd(e *env) *cobra.Command {
	var dataDir, listen, configPath string
	var opts node.ServeOptions
	c := &cobra.Command{
		Use:   "node --data DIR --listen HOST:PORT [--config FILE]",
		Short: "Run a node: TAXII 2.1 at /taxii2/, health at /healthz, and the inputs of its configuration",
		Long: `Run a node. It serves TAXII 2.1 at /taxii2/ and health at /healthz. With --config, it also
reads the inputs the file names (files followed like tail -F with checkpoints, syslog over UDP
or TCP, stdin) through the Sigma rules, IOCs and STIX patterns it names; alerts are stored,
written as JSON lines to detection.alerts_file, and IOC hits become STIX sightings.
--data and --listen override node.data and node.listen of the file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, n, err := openConfigured(ctx, e, configPath, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			if !cmd.Flags().Changed("listen") && cfg.Node.Listen != "" {
				listen = cfg.Node.Listen
			}
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
			e.log.Info("node serving", "node", n.Identity.Name, "taxii", scheme+"://"+ln.Addr().String()+"/taxii2/", "health", scheme+"://"+ln.Addr().String()+"/healthz")
			if len(cfg.Federation.Peers) > 0 {
				if opts.Federation, err = n.Federation(ctx, cfg); err != nil {
					return err
				}
			}
			if len(cfg.Inputs) == 0 && opts.Federation == nil {
				return n.Serve(ctx, ln, opts)
			}
			var alerts io.Writer
			switch f := cfg.Detection.AlertsFile; f {
			case "":
			case "-":
				alerts = e.stdout
			default:
				af, err := os.OpenFile(f, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
				if err != nil {
					return fmt.Errorf("alerts file: %w", err)
				}
				defer af.Close()
				alerts = af
			}
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return n.Serve(gctx, ln, opts) })
			if opts.Federation != nil {
				g.Go(func() error { return opts.Federation.Run(gctx) })
			}
			g.Go(func() error {
				return n.Sense(gctx, node.SenseOptions{Detection: cfg.Detection, Inputs: cfg.Inputs, Alerts: alerts, Stdin: e.stdin,
					Ready: func(addrs map[string]string) {
						for name, a := range addrs {
							e.log.Info("input listening", "input", name, "addr", a)
						}
					}})
			})
			return g.Wait()
		},
	}
	c.Flags().StringVar(&dataDir, "data", "", "data directory (created if missing)")
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:9440", "address to listen on")
	c.Flags().StringVar(&opts.PublicURL, "public-url", "", "base URL announced in TAXII discovery (default: from the request)")
	c.Flags().Int64Var(&opts.MaxContentLength, "max-content-length", 0, "largest request body accepted, in bytes (default 10 MiB)")
	c.Flags().StringVar(&opts.TLSCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
	c.Flags().StringVar(&opts.TLSKey, "tls-key", "", "PEM private key file for --tls-cert")
	c.Flags().StringVar(&configPath, "config", "", "node configuration file (YAML; see docs/operations.md)")
	return c
}
