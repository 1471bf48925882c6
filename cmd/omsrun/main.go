// Command omsrun deploys and operates OceanBase Migration Service clusters over SSH.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/omsrun/omsrun/internal/cli"
)

// Set by the linker (see the Makefile's build target).
var (
	version = "dev"
	commit  = "none"
)

func main() {
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
