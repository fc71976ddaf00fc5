package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
)

// openNode opens the data directory named by --data.
func openNode(ctx context.Context, e *env, dataDir string) (*node.Node, error) {
	return node.Open(ctx, node.Options{DataDir: dataDir, Logger: e.log, DB: e.db})
}

func tokenCmd(e *env) *cobra.Command {
	cmd := group("token", "Manage access tokens")
	var dataDir, name, role string
	var grants []string
	create := &cobra.Command{
		Use:   "create --data DIR --name NAME --role admin|analyst|reader",
		Short: "Create an access token and print it (only the token, on stdout)",
		Long: `Create an access token. The token is printed once on stdout and kept only as a hash.
Use it as "Authorization: Bearer TOKEN", or as HTTP Basic with user NAME and password TOKEN.
--grant COLLECTION=r|rw gives this token rights on a collection (admins have every right).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			parsed := make([]store.Grant, 0, len(grants))
			for _, g := range grants {
				coll, rights, ok := strings.Cut(g, "=")
				if !ok {
					return usageError{fmt.Errorf("--grant %q: want COLLECTION=r or COLLECTION=rw", g)}
				}
				gr, err := parseGrant(ctx, n, coll, name, rights)
				if err != nil {
					return err
				}
				parsed = append(parsed, gr)
			}
			secret, err := n.CreateToken(ctx, name, store.Role(role))
			if err != nil {
				return err
			}
			for _, g := range parsed {
				if err := n.Store.SetGrant(ctx, g); err != nil {
					return fmt.Errorf("grant: %w", err)
				}
			}
			fmt.Fprintln(e.stdout, secret)
			return nil
		},
	}
	create.Flags().StringVar(&dataDir, "data", "", "data directory of the node")
	create.Flags().StringVar(&name, "name", "", "token name (the HTTP Basic user name)")
	create.Flags().StringVar(&role, "role", "reader", "role: admin, analyst or reader")
	create.Flags().StringArrayVar(&grants, "grant", nil, "COLLECTION=r|rw: rights on a collection (id or alias); repeatable")
	_ = create.MarkFlagRequired("data")
	_ = create.MarkFlagRequired("name")
	cmd.AddCommand(create)
	return cmd
}

// parseGrant resolves a collection and a rights string.
func parseGrant(ctx context.Context, n *node.Node, collection, principal, rights string) (store.Grant, error) {
	c, err := n.Store.Collection(ctx, collection)
	if err != nil {
		return store.Grant{}, fmt.Errorf("collection %q: %w", collection, err)
	}
	g := store.Grant{CollectionID: c.ID, Principal: principal}
	g.Read, g.Write, err = parseRights(rights)
	return g, err
}

// parseRights reads "r", "rw", "w" or "none".
func parseRights(s string) (read, write bool, err error) {
	switch strings.ToLower(s) {
	case "r":
		return true, false, nil
	case "rw", "wr":
		return true, true, nil
	case "w":
		return false, true, nil
	case "none":
		return false, false, nil
	}
	return false, false, usageError{fmt.Errorf("rights %q: want r, rw, w or none", s)}
}

func collectionCmd(e *env) *cobra.Command {
	cmd := group("collection", "Manage TAXII collections")
	var dataDir string

	list := &cobra.Command{
		Use:   "list --data DIR",
		Short: "List collections as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openNode(cmd.Context(), e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			cs, err := n.Store.Collections(cmd.Context())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(e.stdout)
			for _, c := range cs {
				grants, err := n.Store.Grants(cmd.Context(), c.ID)
				if err != nil {
					return err
				}
				if err := enc.Encode(map[string]any{"id": c.ID, "alias": c.Alias, "title": c.Title, "description": c.Description, "grants": grants}); err != nil {
					return err
				}
			}
			return nil
		},
	}
	list.Flags().StringVar(&dataDir, "data", "", "data directory of the node")
	_ = list.MarkFlagRequired("data")

	var title, alias, desc string
	var grants []string
	create := &cobra.Command{
		Use:   "create --data DIR --title TITLE [--alias ALIAS] [--grant PRINCIPAL=r|rw]...",
		Short: "Create a collection and print its id",
		Long: `Create a collection. PRINCIPAL is a token name or role:analyst / role:reader.
Without --grant, nobody but admins may use it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if strings.TrimSpace(title) == "" {
				// TAXII 2.1 requires a collection title.
				return usageError{fmt.Errorf("--title must not be empty")}
			}
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			var gs []store.Grant
			for _, g := range grants {
				p, rights, ok := strings.Cut(g, "=")
				if !ok {
					return usageError{fmt.Errorf("--grant %q: want PRINCIPAL=r or PRINCIPAL=rw", g)}
				}
				gr := store.Grant{Principal: p}
				if gr.Read, gr.Write, err = parseRights(rights); err != nil {
					return err
				}
				gs = append(gs, gr)
			}
			c, err := n.CreateCollection(ctx, store.Collection{Title: title, Alias: alias, Description: desc}, gs)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, c.ID)
			return nil
		},
	}
	create.Flags().StringVar(&dataDir, "data", "", "data directory of the node")
	create.Flags().StringVar(&title, "title", "", "title")
	create.Flags().StringVar(&alias, "alias", "", "alias usable in URLs instead of the id")
	create.Flags().StringVar(&desc, "description", "", "description")
	create.Flags().StringArrayVar(&grants, "grant", nil, "PRINCIPAL=r|rw; repeatable")
	_ = create.MarkFlagRequired("data")
	_ = create.MarkFlagRequired("title")

	var coll, principal, rights string
	grant := &cobra.Command{
		Use:   "grant --data DIR --collection C --principal P --rights r|rw|none",
		Short: "Set the rights of a token name or role:ROLE on a collection",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			g, err := parseGrant(ctx, n, coll, principal, rights)
			if err != nil {
				return err
			}
			return n.Store.SetGrant(ctx, g)
		},
	}
	grant.Flags().StringVar(&dataDir, "data", "", "data directory of the node")
	grant.Flags().StringVar(&coll, "collection", "", "collection id or alias")
	grant.Flags().StringVar(&principal, "principal", "", "token name, or role:analyst / role:reader")
	grant.Flags().StringVar(&rights, "rights", "", "r, rw, w or none")
	for _, f := range []string{"data", "collection", "principal", "rights"} {
		_ = grant.MarkFlagRequired(f)
	}
	cmd.AddCommand(list, create, grant)
	return cmd
}
