package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/web"
)

// consoleUsers returns the node's store as keeper of console users.
func consoleUsers(n *node.Node) (store.Users, error) {
	us, ok := n.Store.(store.Users)
	if !ok {
		return nil, errors.New("this store keeps no console users")
	}
	return us, nil
}

// randomPassword makes a password for a user created without one: 18
// random bytes, 24 characters.
func randomPassword() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// createConsoleUser makes a user; an empty password means a random one,
// which is returned.
func createConsoleUser(ctx context.Context, n *node.Node, name string, role store.Role, password string) (string, error) {
	us, err := consoleUsers(n)
	if err != nil {
		return "", err
	}
	if password == "" {
		password = randomPassword()
	}
	if err := web.CreateUser(ctx, us, name, role, password); err != nil {
		return "", err
	}
	return password, nil
}

func userCmd(e *env) *cobra.Command {
	cmd := group("user", "Manage the web console's users")
	var dataDir, name, role string
	var fromStdin bool
	create := &cobra.Command{
		Use:   "create --data DIR --name NAME --role admin|analyst|viewer [--password-stdin]",
		Short: "Create a console user (argon2id password hash)",
		Long: `Create a user of the web console that the node serves at /. Roles: viewer reads every page;
analyst also triages alerts, creates, edits and revokes indicators and imports files (in
collections whose grants let analysts write); admin may do everything.

With --password-stdin the password is the first line of standard input (at least 12
characters), for example: printf '%s\n' "$PW" | shieldwall user create --data DIR --name ana
--role analyst --password-stdin. Without it, a random password is made and printed once on
stdout. Only an argon2id hash of the password is stored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var password string
			if fromStdin {
				line, err := bufio.NewReader(e.stdin).ReadString('\n')
				if err != nil && line == "" {
					return usageError{fmt.Errorf("--password-stdin: no password on standard input")}
				}
				password = strings.TrimRight(line, "\r\n")
				if err := web.CheckPasswordPolicy(password); err != nil {
					return usageError{fmt.Errorf("--password-stdin: %w", err)}
				}
			}
			if err := web.CheckUserName(name); err != nil {
				return usageError{fmt.Errorf("--name: %w", err)}
			}
			if !web.ValidRole(store.Role(role)) {
				return usageError{fmt.Errorf("--role %q: want admin, analyst or viewer", role)}
			}
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			pw, err := createConsoleUser(ctx, n, name, store.Role(role), password)
			if err != nil {
				return err
			}
			if !fromStdin {
				fmt.Fprintln(e.stdout, pw)
			}
			fmt.Fprintf(e.stderr, "user %s (%s) created\n", name, role)
			return nil
		},
	}
	create.Flags().StringVar(&dataDir, "data", "", "data directory of the node")
	create.Flags().StringVar(&name, "name", "", "login name (letters, digits, . _ - @)")
	create.Flags().StringVar(&role, "role", "viewer", "role: admin, analyst or viewer")
	create.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	_ = create.MarkFlagRequired("data")
	_ = create.MarkFlagRequired("name")
	list := &cobra.Command{
		Use:   "list --data DIR",
		Short: "List console users and their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			n, err := openNode(ctx, e, dataDir)
			if err != nil {
				return err
			}
			defer n.Close()
			us, err := consoleUsers(n)
			if err != nil {
				return err
			}
			users, err := us.Users(ctx)
			if err != nil {
				return err
			}
			for _, u := range users {
				fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", u.Name, u.Role, u.Created.UTC().Format("2006-01-02T15:04:05Z"))
			}
			return nil
		},
	}
	list.Flags().StringVar(&dataDir, "data", "", "data directory of the node")
	_ = list.MarkFlagRequired("data")
	cmd.AddCommand(create, list)
	return cmd
}
