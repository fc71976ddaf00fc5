package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/demo"
	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
)

func demoCmd(e *env) *cobra.Command {
	var dataDir, listen, corpora string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run a node on 127.0.0.1 seeded with real intelligence and print its URLs and a token",
		Long: `Run a demonstration node on 127.0.0.1: a fresh embedded database seeded with the OASIS
STIX 2.1 examples and, when ../shared/corpora is present, MITRE ATT&CK and real MISP events.
It prints the TAXII URLs, an admin token and the web console's URL with a login, then serves
until interrupted (Ctrl-C). With the corpora it also hunts the real attack samples with the
Windows Sigma rules in the background, so the console shows real alerts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if dataDir == "" {
				d, err := os.MkdirTemp("", "shieldwall-demo-")
				if err != nil {
					return err
				}
				dataDir = d
			}
			if corpora == "" {
				corpora = demo.FindCorpora()
			}
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			fmt.Fprintf(e.stderr, "data directory: %s\n", dataDir)
			cols, err := demo.Seed(ctx, n, corpora, e.stderr)
			if err != nil {
				return err
			}
			var suffix [3]byte
			_, _ = rand.Read(suffix[:])
			name := "demo-" + hex.EncodeToString(suffix[:])
			token, err := n.CreateToken(ctx, name, store.RoleAdmin)
			if err != nil {
				return err
			}
			consolePW, err := createConsoleUser(ctx, n, name, store.RoleAdmin, "")
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				// The usual port is taken: any free one will do for a demo.
				if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
					return fmt.Errorf("listen: %w", err)
				}
			}
			base := "http://" + ln.Addr().String()
			w := e.stdout
			fmt.Fprintf(w, "\nShieldwall demo node is up.\n\n")
			fmt.Fprintf(w, "  TAXII 2.1 discovery  %s/taxii2/\n", base)
			fmt.Fprintf(w, "  API root             %s/taxii2/root/\n", base)
			for _, col := range cols {
				fmt.Fprintf(w, "  collection %-9s %s/taxii2/root/collections/%s/objects/  (%d objects)\n", col.Alias, base, col.ID, col.Objects)
			}
			fmt.Fprintf(w, "  health               %s/healthz\n", base)
			fmt.Fprintf(w, "  web console          %s/  (user %s, password %s)\n\n", base, name, consolePW)
			fmt.Fprintf(w, "  admin token (name %s):\n  %s\n\n", name, token)
			fmt.Fprintf(w, "Try:\n  curl -H 'Authorization: Bearer %s' -H 'Accept: application/taxii+json;version=2.1' %s/taxii2/root/collections/\n", token, base)
			fmt.Fprintf(w, "  curl -u '%s:%s' '%s/taxii2/root/collections/%s/objects/?match[type]=indicator&limit=5'\n", name, token, base, node.DefaultCollectionAlias)
			if corpora != "" {
				// Detection on real attacks, with the community's rules.
				fmt.Fprintf(w, "  go run ./cmd/shieldwall hunt --sigma %s --format text %s\n",
					filepath.Join(corpora, "sigma", "rules", "windows"), filepath.Join(corpora, "evtx-attack-samples"))
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "Press Ctrl-C to stop. The data stays in %s.\n", dataDir)
			if corpora != "" {
				fmt.Fprintf(w, "Hunting the attack samples in the background; alerts appear in the console as they are found.\n")
				huntCtx, stopHunt := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() {
					defer close(done)
					if _, err := demoAlerts(huntCtx, n, corpora, e.stderr); err != nil && huntCtx.Err() == nil {
						e.log.Error("demo alerts", "err", err)
					}
				}()
				defer func() { stopHunt(); <-done }() // before n.Close
			}
			return n.Serve(ctx, ln, node.ServeOptions{})
		},
	}
	c.Flags().StringVar(&dataDir, "data", "", "data directory (default: a new temporary one)")
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:9440", "address to listen on (another free port is used if it is taken)")
	c.Flags().StringVar(&corpora, "corpora", "", "folder of the shared corpora (default: ../shared/corpora when present)")
	return c
}
