package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"
)

func identityCmd(e *env) *cobra.Command {
	cmd := group("identity", "Show who this node is")
	var dataDir, configPath string
	show := &cobra.Command{
		Use:   "show --data DIR | --config FILE",
		Short: "Print the node's name, organisation, STIX identity and public keys as JSON",
		Long: `Print the node's identity as JSON: its name and organisation, the id of its STIX
identity (the created_by_ref of what it creates), its Ed25519 public key (peers verify
what it signs with it) and its age recipient (peers seal offline bundles to it).
The identity and keys are made on the node's first start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, n, err := openConfigured(cmd.Context(), e, configPath, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			id := n.Identity
			out := struct {
				Name         string          `json:"name"`
				Organisation string          `json:"organisation"`
				IdentityID   string          `json:"identity_id"`
				PublicKey    string          `json:"public_key"`
				AgeRecipient string          `json:"age_recipient"`
				STIX         json.RawMessage `json:"stix"`
			}{id.Name, id.Org, id.ID(), id.PublicKeyString(), id.AgeRecipient(), id.STIX.Raw}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	show.Flags().StringVar(&dataDir, "data", "", "data directory (default: node.data of --config)")
	show.Flags().StringVar(&configPath, "config", "", "node configuration file: its node.name and node.organisation make the identity on first start")
	cmd.AddCommand(show)
	return cmd
}
