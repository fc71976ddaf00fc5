// Command shieldwall is the single binary of every Shieldwall node: a site
// sensor, a national node and the alliance hub differ only in configuration.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shieldwall/shieldwall/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
