package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/intel"
	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

func intelCmd(e *env) *cobra.Command {
	cmd := group("intel", "Import and export threat intelligence")
	cmd.AddCommand(importCmd(e), exportCmd(e))
	return cmd
}

func importCmd(e *env) *cobra.Command {
	var dataDir, coll, format, tlp string
	var quiet bool
	c := &cobra.Command{
		Use:   "import --data DIR [--collection C] FILE...",
		Short: "Import STIX 2.1/2.0 bundles, MISP events, CSV and plain IOC lists",
		Long: `Import intelligence files into a collection (default: the "default" collection).
Formats are detected (STIX bundle, MISP event JSON, CSV by extension or header, else one IOC per line)
or forced with --format. Files are streamed: a bundle of any size is never held whole in memory.
An object that fails validation is reported with its reason and the others are stored.
One JSON report per file is printed on stdout; a summary goes to stderr.
Exit status 1 if any file could not be read or any object was rejected.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			ctx := cmd.Context()
			f, err := intel.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			// Checked here, not by each converter once per file: a STIX
			// bundle ignores --tlp, so a typo would otherwise go unnoticed.
			if _, ok := stix.TLPByName(tlp); tlp != "" && !ok {
				return usageError{fmt.Errorf("--tlp %q: want clear, green, amber, amber+strict or red", tlp)}
			}
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			col, err := n.Store.Collection(ctx, coll)
			if err != nil {
				return fmt.Errorf("collection %q: %w", coll, err)
			}
			im := &intel.Importer{Store: n.Store}
			enc := json.NewEncoder(e.stdout)
			var failed, rejected int
			for _, path := range files {
				rep, err := im.ImportFile(ctx, col.ID, path, intel.Options{Format: f, TLP: tlp})
				if err != nil {
					failed++
					fmt.Fprintf(e.stderr, "%s: %v\n", path, err)
				}
				rejected += rep.Rejected
				if !quiet {
					for _, rj := range rep.Rejections {
						what := fmt.Sprintf("object %d", rj.Index)
						if rj.ID != "" {
							what += " " + rj.ID
						}
						fmt.Fprintf(e.stderr, "%s: %s rejected: %s\n", path, what, rj.Reason)
					}
				}
				secs := rep.Elapsed.Seconds()
				fmt.Fprintf(e.stderr, "%s: %s: read %d, stored %d, already present %d, rejected %d, in %.2fs (%.0f objects/s)\n",
					path, rep.Format, rep.Read, rep.Stored, rep.Duplicates, rep.Rejected, secs, float64(rep.Read)/max(secs, 1e-9))
				if err := enc.Encode(rep); err != nil {
					return err
				}
			}
			if failed > 0 || rejected > 0 {
				return fmt.Errorf("%d of %d files failed, %d objects rejected", failed, len(files), rejected)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dataDir, "data", "", "data directory of the node")
	c.Flags().StringVar(&coll, "collection", node.DefaultCollectionAlias, "collection id or alias")
	c.Flags().StringVar(&format, "format", "auto", "auto, stix, misp, csv or ioc")
	c.Flags().StringVar(&tlp, "tlp", "", "TLP for created objects that carry none (clear, green, amber, amber+strict, red)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "do not list each rejected object")
	_ = c.MarkFlagRequired("data")
	return c
}

func exportCmd(e *env) *cobra.Command {
	var dataDir, coll, out string
	var types []string
	var allVersions bool
	c := &cobra.Command{
		Use:   "export --data DIR [--collection C] [--type T]... [--all-versions] [--out FILE]",
		Short: "Export a collection as a STIX 2.1 bundle (stdout by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			col, err := n.Store.Collection(ctx, coll)
			if err != nil {
				return fmt.Errorf("collection %q: %w", coll, err)
			}
			w := e.stdout
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			f := store.Filter{Types: types, Versions: store.VersionMatch{All: allVersions}}
			count, err := intel.Export(ctx, n.Store, col.ID, f, w)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "exported %d objects\n", count)
			if out != "" {
				return w.(*os.File).Close()
			}
			return nil
		},
	}
	c.Flags().StringVar(&dataDir, "data", "", "data directory of the node")
	c.Flags().StringVar(&coll, "collection", node.DefaultCollectionAlias, "collection id or alias")
	c.Flags().StringArrayVar(&types, "type", nil, "only objects of this STIX type; repeatable")
	c.Flags().BoolVar(&allVersions, "all-versions", false, "every version of every object, not only the latest")
	c.Flags().StringVar(&out, "out", "", "write to this file instead of stdout")
	_ = c.MarkFlagRequired("data")
	return c
}
