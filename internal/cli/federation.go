package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/federation"
	"github.com/shieldwall/shieldwall/internal/node"
)

// openConfigured loads the configuration file and opens the node it
// describes (--data overrides node.data).
func openConfigured(ctx context.Context, e *env, configPath, dataDir string) (*config.Config, *node.Node, error) {
	cfg := &config.Config{}
	if configPath != "" {
		var err error
		if cfg, err = config.Load(configPath); err != nil {
			return nil, nil, usageError{err}
		}
	}
	if dataDir == "" {
		dataDir = cfg.Node.Data
	}
	if dataDir == "" {
		return nil, nil, usageError{errors.New("no data directory: give --data or node.data in --config")}
	}
	n, err := node.Open(ctx, node.Options{DataDir: dataDir, Logger: e.log, DB: e.db, Name: cfg.Node.Name, Organisation: cfg.Node.Organisation})
	if err != nil {
		return nil, nil, err
	}
	return cfg, n, nil
}

// withSyncer opens the node of a configuration with peers and its syncer.
func withSyncer(ctx context.Context, e *env, configPath, dataDir string, fn func(*node.Node, *federation.Syncer) error) error {
	if configPath == "" {
		return usageError{errors.New("--config is required: peers are in the configuration file")}
	}
	cfg, n, err := openConfigured(ctx, e, configPath, dataDir)
	if err != nil {
		return err
	}
	defer n.Close()
	s, err := n.Federation(ctx, cfg)
	if err != nil {
		return err
	}
	return fn(n, s)
}

func printJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func policyCmd(e *env) *cobra.Command {
	cmd := group("policy", "Ask the sharing policy")
	var configPath, dataDir, peer string
	explain := &cobra.Command{
		Use:   "explain --config FILE --peer PEER OBJECT_ID",
		Short: "Say what the policy decided, and decides now, for one object and one peer, with the reasons",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if peer == "" {
				return usageError{errors.New("--peer is required")}
			}
			return withSyncer(cmd.Context(), e, configPath, dataDir, func(_ *node.Node, s *federation.Syncer) error {
				x, err := s.Explain(cmd.Context(), peer, args[0])
				if err != nil {
					return err
				}
				return printJSON(e, x)
			})
		},
	}
	explain.Flags().StringVar(&configPath, "config", "", "node configuration file (with the peers)")
	explain.Flags().StringVar(&dataDir, "data", "", "data directory (default: node.data of the configuration)")
	explain.Flags().StringVar(&peer, "peer", "", "peer name")
	cmd.AddCommand(explain)
	return cmd
}

func bundleCmd(e *env) *cobra.Command {
	cmd := group("bundle", "Offline transfer: sealed bundles for air gaps, data diodes and couriers")
	var configPath, dataDir, peer, out string
	seal := &cobra.Command{
		Use:   "seal --config FILE --peer PEER --out FILE",
		Short: "Write everything the policy lets PEER have since its last bundle, signed and encrypted to PEER",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if peer == "" || out == "" {
				return usageError{errors.New("--peer and --out are required")}
			}
			return withSyncer(cmd.Context(), e, configPath, dataDir, func(_ *node.Node, s *federation.Syncer) error {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("bundle: %w", err)
				}
				m, err := s.SealFor(cmd.Context(), peer, f)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(out)
					return err
				}
				return printJSON(e, m)
			})
		},
	}
	seal.Flags().StringVar(&peer, "peer", "", "peer the bundle is for")
	seal.Flags().StringVar(&out, "out", "", "file to write (must not exist)")
	open := &cobra.Command{
		Use:   "open --config FILE BUNDLE...",
		Short: "Verify sealed bundles (recipient, signature, freshness, no replay) and import them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			return withSyncer(cmd.Context(), e, configPath, dataDir, func(_ *node.Node, s *federation.Syncer) error {
				var failed error
				for _, p := range files {
					f, err := os.Open(p)
					if err != nil {
						return fmt.Errorf("bundle: %w", err)
					}
					m, added, err := s.OpenBundle(cmd.Context(), f)
					f.Close()
					if err != nil {
						fmt.Fprintf(e.stderr, "%s: refused: %v\n", p, err)
						failed = fmt.Errorf("%s refused", p)
						continue
					}
					printJSON(e, map[string]any{"file": p, "id": m.ID, "from": m.From, "sealed": m.Sealed, "objects": m.Objects, "added": added})
				}
				return failed
			})
		},
	}
	for _, c := range []*cobra.Command{seal, open} {
		c.Flags().StringVar(&configPath, "config", "", "node configuration file (with the peers and their keys)")
		c.Flags().StringVar(&dataDir, "data", "", "data directory (default: node.data of the configuration)")
	}
	cmd.AddCommand(seal, open)
	return cmd
}
