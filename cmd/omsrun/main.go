// Command omsrun deploys and operates OceanBase Migration Service clusters over SSH.
package main

import (
	"os"

	"github.com/omsrun/omsrun/internal/cli"
)

// Set by the linker (see the Makefile's build target).
var (
	version = "dev"
	commit  = "none"
)

func main() {
	app := &cli.App{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Build: cli.Build{Version: version, Commit: commit}}
	os.Exit(app.Main(os.Args[1:]))
}
