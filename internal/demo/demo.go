// Package demo seeds a node with real public intelligence so that a
// newcomer sees a working node at once: the OASIS STIX 2.1 example bundles
// are embedded in the binary; MITRE ATT&CK and real MISP events are added
// from a corpora folder when one is found.
package demo

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/shieldwall/shieldwall/internal/intel"
	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
)

// seed holds the OASIS CTI documentation example bundles (BSD-3-Clause,
// seed/LICENSE).
//
//go:embed seed/*.json seed/LICENSE
var seed embed.FS

// Collection describes one seeded collection.
type Collection struct {
	Alias   string
	ID      string
	Title   string
	Objects int
}

// Seed imports the embedded examples into the default collection and, when
// corporaDir holds them, ATT&CK into "attack" and MISP events into "misp".
// Progress lines go to w.
func Seed(ctx context.Context, n *node.Node, corporaDir string, w io.Writer) ([]Collection, error) {
	im := &intel.Importer{Store: n.Store}
	var out []Collection

	def, err := n.Store.Collection(ctx, node.DefaultCollectionAlias)
	if err != nil {
		return nil, err
	}
	files, _ := fs.Glob(seed, "seed/*.json")
	total := 0
	for _, f := range files {
		r, err := seed.Open(f)
		if err != nil {
			return nil, err
		}
		rep, err := im.Import(ctx, def.ID, r, intel.Options{Format: intel.FormatSTIX})
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", f, err)
		}
		total += rep.Stored + rep.Duplicates
	}
	fmt.Fprintf(w, "seeded %d objects from the OASIS STIX 2.1 examples (embedded)\n", total)
	out = append(out, Collection{Alias: def.Alias, ID: def.ID, Title: def.Title, Objects: total})

	if corporaDir == "" {
		return out, nil
	}
	sets := []struct {
		alias, title, desc string
		glob               []string
		format             intel.Format
	}{
		{"attack", "MITRE ATT&CK", "MITRE ATT&CK Enterprise and Mobile (ATT&CK terms of use)",
			[]string{"stix/attack/enterprise-attack-2.1-rebuilt.json", "stix/attack/mobile-attack-17.1.json"}, intel.FormatSTIX},
		{"misp", "MISP events", "Real MISP events converted to STIX 2.1 (PyMISP test data, BSD-2-Clause)",
			[]string{"misp/events/*.json"}, intel.FormatMISP},
	}
	for _, set := range sets {
		var paths []string
		for _, g := range set.glob {
			m, _ := filepath.Glob(filepath.Join(corporaDir, g))
			paths = append(paths, m...)
		}
		sort.Strings(paths)
		if len(paths) == 0 {
			fmt.Fprintf(w, "skipped %s: not found under %s\n", set.title, corporaDir)
			continue
		}
		col, err := n.Store.Collection(ctx, set.alias)
		if err != nil {
			col, err = n.CreateCollection(ctx, store.Collection{Alias: set.alias, Title: set.title, Description: set.desc}, []store.Grant{
				{Principal: "role:" + string(store.RoleAnalyst), Read: true, Write: true},
				{Principal: "role:" + string(store.RoleReader), Read: true},
			})
			if err != nil {
				return out, err
			}
		}
		count := 0
		for _, p := range paths {
			if strings.HasSuffix(p, "describeTypes.json") || strings.HasSuffix(p, "schema-lax.json") {
				continue
			}
			rep, err := im.ImportFile(ctx, col.ID, p, intel.Options{Format: set.format})
			if err != nil {
				return out, fmt.Errorf("seed %s: %w", p, err)
			}
			count += rep.Stored + rep.Duplicates
			fmt.Fprintf(w, "seeded %s: %d objects (%d rejected) in %.1fs\n", filepath.Base(p), rep.Stored+rep.Duplicates, rep.Rejected, rep.Elapsed.Seconds())
		}
		out = append(out, Collection{Alias: col.Alias, ID: col.ID, Title: col.Title, Objects: count})
	}
	return out, nil
}

// FindCorpora returns the shared corpora folder if it is next to the working
// directory (../shared/corpora, as on development machines), else "".
func FindCorpora() string {
	for _, c := range []string{"../shared/corpora", "shared/corpora"} {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			abs, err := filepath.Abs(c)
			if err == nil {
				return abs
			}
		}
	}
	return ""
}
