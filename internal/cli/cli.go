// Package cli turns the command line into calls on the node: subcommands,
// flags and their help. It holds no domain logic.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// env is what every command may use; passed in, never global.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	// db is the --db flag (or SHIELDWALL_DB): a PostgreSQL DSN.
	db string
}

// usageError marks errors that come from a wrong command line: exit code 2.
type usageError struct{ error }

// Run executes the command line args and returns the process exit code:
// 0 on success, 1 on failure, 2 on a usage error.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{
		stdin:  stdin,
		stdout: stdout,
		stderr: stderr,
		log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	root := &cobra.Command{
		Use:   "shieldwall",
		Short: "Shieldwall: sovereign cyber defence nodes that keep, detect and share threat intelligence",
		Long: `Shieldwall is one binary for every node of an alliance: it keeps threat intelligence
as STIX 2.1, serves it over TAXII 2.1, and shares it by policy with its peers.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.db, "db", os.Getenv("SHIELDWALL_DB"),
		"store in PostgreSQL at this DSN (postgres://...) instead of SQLite in --data; default $SHIELDWALL_DB")
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		nodeCmd(e),
		demoCmd(e),
		tokenCmd(e),
		collectionCmd(e),
		intelCmd(e),
		identityCmd(e),
		huntCmd(e),
		rulesCmd(e),
		policyCmd(e),
		bundleCmd(e),
		userCmd(e),
	)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "shieldwall:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// group makes a command that only holds subcommands. Without Args and RunE,
// cobra answers an unknown subcommand ("shieldwall token bogus") with the
// group's help and exit status 0; with them it is a usage error (exit 2).
func group(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
