package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"

	"github.com/omsrun/omsrun/internal/relaybin"
)

// placedSize is what the relay places on each node through the uplink for
// a transfer: the node program make build embedded in the omsrun measured
// (internal/relaybin), found by its bytes in that binary, or omsrun itself
// gzipped when the binary was built without it. The lab's hosts run this
// machine's architecture.
func placedSize(repo, omsrun string) (n int64, what string, err error) {
	bin, err := os.ReadFile(omsrun)
	if err != nil {
		return 0, "", err
	}
	gz, err := os.ReadFile(filepath.Join(repo, "internal", "relaybin", "helpers", relaybin.FileName("linux", runtime.GOARCH)))
	if err == nil && len(gz) > 0 && bytes.Contains(bin, gz) {
		return int64(len(gz)), "the relay's node program", nil
	}
	n, err = gzSize(omsrun)
	return n, "omsrun's binary", err
}
