package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/demo"
	"github.com/shieldwall/shieldwall/internal/identity"
	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
)

func demoCmd(e *env) *cobra.Command {
	var dataDir, listen, corpora string
	var noAlliance bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run a node on 127.0.0.1 seeded with real intelligence and print its URLs and a token",
		Long: `Run a demonstration node on 127.0.0.1: a fresh embedded database seeded with the OASIS
STIX 2.1 examples and, when ../shared/corpora is present, MITRE ATT&CK and real MISP events.
It prints the TAXII URLs, an admin token and the web console's URL with a login, then serves
until interrupted (Ctrl-C). With the corpora it also hunts the real attack samples with the
Windows Sigma rules in the background, so the console shows real alerts.

The demo node is a national node (cert-fr) of a small alliance that runs in the same process,
each node with its own store under DATA/alliance/ and its TAXII server on a 127.0.0.1 port:
an alliance hub, a second nation (cert-de) and a partner, with real policy and syncers, and
a third nation (cert-pl) whose node is not started, so its link shows cut with a backlog.
Each node made indicators at several TLP levels (RED stays home; AMBER, REL TO and a sharing
group go only where the policy allows), in its collection "alliance". --no-alliance runs the
demo node alone.`,
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
			// A new demo node is a national node, CERT-FR; an older data
			// directory keeps the identity it has.
			opts := node.Options{DataDir: dataDir, Logger: e.log, DB: e.db}
			if _, err := os.Stat(filepath.Join(dataDir, identity.FileName)); err != nil {
				opts.Name, opts.Organisation = demoSelfName, "CERT-FR"
			}
			n, err := node.Open(ctx, opts)
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
			var alliance *demoAlliance
			if !noAlliance {
				start := time.Now()
				if alliance, err = startDemoAlliance(ctx, e, n, filepath.Join(dataDir, "alliance"), base, name, consolePW); err != nil {
					ln.Close()
					return err
				}
				defer alliance.close()
				fmt.Fprintf(e.stderr, "demo alliance: %d nodes set up in %.1fs\n", len(alliance.members), time.Since(start).Seconds())
			}
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
			if alliance != nil {
				fmt.Fprintf(w, "The demo node is %s, a national node of an alliance running in this process on 127.0.0.1\n", n.Identity.Name)
				fmt.Fprintf(w, "(sharing collection %q of each node; the same console login on each):\n", demoCollection)
				for _, m := range alliance.members {
					state := "its node is not started: the link is cut and its backlog waits"
					if m.n != nil {
						state = fmt.Sprintf("%s, %s", m.org, m.relation)
					}
					fmt.Fprintf(w, "  %-13s %s/  (%s)\n", m.name, m.url, state)
				}
				fmt.Fprintln(w)
			}
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
			if alliance == nil {
				return n.Serve(ctx, ln, node.ServeOptions{})
			}
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return alliance.run(gctx) })
			g.Go(func() error { return n.Serve(gctx, ln, node.ServeOptions{Federation: alliance.self}) })
			return g.Wait()
		},
	}
	c.Flags().StringVar(&dataDir, "data", "", "data directory (default: a new temporary one)")
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:9440", "address to listen on (another free port is used if it is taken)")
	c.Flags().BoolVar(&noAlliance, "no-alliance", false, "run the demo node alone, without the alliance's other nodes")
	c.Flags().StringVar(&corpora, "corpora", "", "folder of the shared corpora (default: ../shared/corpora when present)")
	return c
}
