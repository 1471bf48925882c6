// Command omsrun deploys and operates OceanBase Migration Service clusters over SSH.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/omsrun/omsrun/internal/cli"
	"github.com/omsrun/omsrun/internal/relay"
)

// Set by the linker (see the Makefile's build target).
var (
	version = "dev"
	commit  = "none"
)

func main() {
	// On a node, for the length of one image transfer (internal/relay):
	// before the CLI, so nothing of it (flags, config files) applies there.
	if len(os.Args) == 2 && os.Args[1] == relay.NodeArg {
		os.Exit(relay.NodeMain(os.Stdin, os.Stdout, os.Stderr))
	}
	app := &cli.App{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Build: cli.Build{Version: version, Commit: commit}}
	stop := profile(os.Getenv("OMSRUN_CPUPROFILE"))
	code := app.Main(os.Args[1:])
	stop()
	os.Exit(code)
}

// profile writes a CPU profile of the whole run to path (for docs/PERFORMANCE.md:
// `OMSRUN_CPUPROFILE=cpu.out omsrun …; go tool pprof -top bin/omsrun cpu.out`).
func profile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "omsrun: OMSRUN_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
