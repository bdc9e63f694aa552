// Command ferry is Ferry's single binary: `ferry server` runs the
// platform; the other subcommands are its command-line client.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ferry-ml/ferry/internal/app"
	"github.com/ferry-ml/ferry/internal/cli"
	"github.com/ferry-ml/ferry/internal/config"
)

var usage = `Ferry carries machine-learning models from pilot to production.

Server:
  ferry server [flags]     run the server (ferry server --help lists every setting)
  ferry version            print the version

Client (talks to a running server):
` + strings.TrimPrefix(cli.Usage, "Usage:\n")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "server":
		cfg, err := config.Load(config.Source{Args: args[1:], Getenv: os.Getenv, Output: stderr})
		if errors.Is(err, config.ErrHelp) {
			fmt.Fprintf(stderr, "\nSettings (file key, flag, environment):\n%s", config.Reference())
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "ferry server: %v\n", err)
			return 2
		}
		if err := app.RunServer(ctx, cfg, stderr); err != nil {
			fmt.Fprintf(stderr, "ferry server: %v\n", err)
			return 1
		}
		return 0
	case "version", "--version":
		fmt.Fprintln(stdout, "ferry", app.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	return cli.Main(ctx, args, stdout, stderr, os.Getenv)
}
