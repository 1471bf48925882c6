// Command omsrun-relay is the relay's node program and nothing else: what
// omsrun places on a node for the length of one image transfer when make
// build embedded it (internal/relaybin). It is omsrun's own `__relay-node`
// (internal/relay.NodeMain, the same code) without the CLI, the modules and
// the SSH client, so a quarter of the bytes cross the control machine's
// link for each node.
package main

import (
	"fmt"
	"os"

	"github.com/omsrun/omsrun/internal/relay"
)

func main() {
	// The same single argument as omsrun's, so a node runs either program
	// the same way and nothing else of the command line is ever read:
	// everything, the secret above all, comes on stdin.
	if len(os.Args) != 2 || os.Args[1] != relay.NodeArg {
		fmt.Fprintf(os.Stderr, "omsrun-relay: started only by omsrun, as `omsrun-relay %s` with its configuration on stdin\n", relay.NodeArg)
		os.Exit(2)
	}
	os.Exit(relay.NodeMain(os.Stdin, os.Stdout, os.Stderr))
}
